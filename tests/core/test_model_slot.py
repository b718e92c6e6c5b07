"""A library's model slot: loaded on first use, kept while busy, unloaded after its idle time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from core.embedding.model_slot import IDLE_ENV, ModelSlot, default_idle_unload_s


def wait_until(condition: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(condition())


def test_a_busy_model_outlives_its_idle_time_and_unloads_after_its_use(tiny_siglip_dir: Path) -> None:
    from core.embedding.embedder import load_embedder

    loads: list[int] = []

    def load(progress: Any) -> Any:
        loads.append(1)
        return load_embedder(str(tiny_siglip_dir), device="cpu")

    slot = ModelSlot(load, idle_unload_s=0.2)
    assert not slot.loaded and not loads  # nothing is loaded before the first use
    embedder = slot.get()
    with slot.in_use():
        time.sleep(0.6)  # three idle periods, but an index run or a query is using it
        assert slot.loaded
    assert slot.loaded  # the idle clock restarts when the use ends
    assert wait_until(lambda: not slot.loaded)
    assert not embedder.loaded  # the weights themselves were freed
    assert slot.get() is not embedder and len(loads) == 2  # the next use loads it again
    slot.unload()
    assert not slot.loaded


def test_idle_time_zero_keeps_the_model(tiny_siglip_dir: Path) -> None:
    from core.embedding.embedder import load_embedder

    slot = ModelSlot(lambda progress: load_embedder(str(tiny_siglip_dir), device="cpu"), idle_unload_s=0)
    slot.get()
    time.sleep(0.3)
    assert slot.loaded
    slot.unload()


@pytest.mark.parametrize(("value", "seconds"), [(None, 300.0), ("30", 30.0), ("0", 0.0), ("-5", 0.0), ("soon", 300.0)])
def test_idle_time_comes_from_the_environment(value: str | None, seconds: float, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv(IDLE_ENV, raising=False)
    else:
        monkeypatch.setenv(IDLE_ENV, value)
    assert default_idle_unload_s() == seconds
