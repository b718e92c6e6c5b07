"""The model's image inputs: the decode size a processor allows, and batching preprocessed images."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from core.embedding.image_inputs import decode_size, stack_preprocessed


def test_decode_size_of_released_processors() -> None:
    assert decode_size(SimpleNamespace(size={"height": 384, "width": 384})) == 384
    assert decode_size(SimpleNamespace(size={"shortest_edge": 256})) == 256
    # so400m-patch16-naflex with its default 256 patches: a square photo becomes 256 x 256.
    assert decode_size(SimpleNamespace(patch_size=16, max_num_patches=256, size=None)) == 256


def test_stacking_pads_patch_arrays_of_different_budgets() -> None:
    short = {"pixel_values": np.ones((2, 3), np.float32), "pixel_attention_mask": np.ones(2, np.int32)}
    long = {"pixel_values": np.ones((4, 3), np.float32), "pixel_attention_mask": np.ones(4, np.int32)}
    batch = stack_preprocessed([short, long])
    assert batch["pixel_values"].shape == (2, 4, 3)
    assert batch["pixel_attention_mask"].tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
