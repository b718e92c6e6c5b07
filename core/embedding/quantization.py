"""Dynamic int8 quantization of a model's linear layers, whole or with outlier-hit layer groups kept float.

Dynamic int8 quantizes each activation tensor with ONE scale (its largest value / 127). Trained vision
transformers carry a few "massive activation" channels, hundreds of times larger than the rest: a linear
layer fed such a tensor sees every other channel rounded to a handful of levels, and the embedding drifts
(measured on a tiny model given such a channel: min cosine to fp32 0.73). Keeping only the layers those
channels feed in float restores it (0.9999) while the rest of the model stays int8.

`int8_errors` finds them: one fp32 pass over calibration inputs, each linear layer's output compared with
what its int8 version gives for the same input. Layers are grouped as the model uses them (q/k/v share an
input, so they are one group); `quantize_int8(model, keep_float)` keeps named groups float.
torch is imported inside functions, as everywhere in core.embedding.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Collection
from typing import Any

from core.errors import ModelError

# q, k and v read the same input (the attention's LayerNorm output), so an outlier there hits all three.
_QKV = re.compile(r"\.(q|k|v)_proj$")


def layer_group(name: str) -> str:
    """The group a linear layer belongs to: its own name, with an attention's q/k/v merged into `.qkv`."""
    return _QKV.sub(".qkv", name)


def quantizable_layers(model: Any) -> dict[str, Any]:
    """Name -> module of the linear layers dynamic int8 replaces.

    Exact type: attention's out_proj subclasses Linear and must stay a float layer. SigLIP 2 NaFlex's patch
    embedding is a Linear whose `.weight.dtype` the model reads, which a quantized layer lacks: it stays
    fp32 (one small layer, run once per image)."""
    import torch

    return {
        name: module
        for name, module in model.named_modules()
        if type(module) is torch.nn.Linear and not name.endswith("patch_embedding")
    }


def quantize_int8(model: Any, keep_float: Collection[str] = ()) -> Any:
    """Dynamic int8 (weights int8, activations quantized per call) for every linear layer except those in
    the groups named by `keep_float` (see `layer_group`). Quantizes in place: a copy would hold the fp32
    and int8 models at once (+1.5 GB peak for B/16)."""
    import torch

    quantize = _quantize_module()
    keep = set(keep_float)
    layers = {
        name: quantize.default_dynamic_qconfig
        for name in quantizable_layers(model)
        if layer_group(name) not in keep
    }
    with warnings.catch_warnings():
        # Deprecated in favour of torchao (not a dependency); still present and working in torch 2.13.
        warnings.simplefilter("ignore")
        return quantize.quantize_dynamic(model, layers, dtype=torch.qint8, inplace=True)


def int8_errors(model: Any, run: Callable[[], None]) -> dict[str, float]:
    """Group -> the worst relative error int8 gives its layers' outputs (|int8 - fp32| / |fp32|, per
    call), measured while `run()` feeds calibration inputs through the fp32 `model`."""
    import torch

    quantize = _quantize_module()
    errors: dict[str, float] = {}
    hooks = []

    def measure(group: str, int8_layer: Any) -> Callable[..., None]:
        def hook(_module: Any, inputs: tuple[Any, ...], output: Any) -> None:
            expected = output.float()
            error = (int8_layer(inputs[0].float()) - expected).norm() / expected.norm().clamp_min(1e-12)
            errors[group] = max(errors.get(group, 0.0), float(error))

        return hook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, module in quantizable_layers(model).items():
            module.qconfig = quantize.default_dynamic_qconfig
            int8_layer = torch.ao.nn.quantized.dynamic.Linear.from_float(module)
            hooks.append(module.register_forward_hook(measure(layer_group(name), int8_layer)))
    try:
        with torch.inference_mode():
            run()
    finally:
        for handle in hooks:
            handle.remove()
    return errors


def outlier_groups(errors: dict[str, float], factor: float = 4.0) -> list[str]:
    """Groups whose int8 error stands out: above `factor` x the median group's, worst first.

    Plain int8 errs by roughly the same few per cent in every layer (the rounding of well-spread values);
    a layer fed an outlier channel errs by tens of per cent. Measured on the tiny test models: 1-3 % for
    every layer without outliers, 30-100 % for those fed one. The factor sits between the two."""
    if not errors:
        return []
    values = sorted(errors.values())
    median = values[len(values) // 2]
    ranked = sorted(errors, key=lambda group: (-errors[group], group))
    return [group for group in ranked if errors[group] > factor * median]


def ranked_groups(errors: dict[str, float]) -> list[str]:
    """Every group, worst int8 error first (ties by name, so the order is the same on every run)."""
    return sorted(errors, key=lambda group: (-errors[group], group))


def _quantize_module() -> Any:
    import torch

    quantize = getattr(getattr(torch, "ao", None), "quantization", None)
    if quantize is None or not hasattr(quantize, "quantize_dynamic"):
        raise ModelError("int8 needs torch.ao.quantization.quantize_dynamic, which this torch lacks.")
    return quantize
