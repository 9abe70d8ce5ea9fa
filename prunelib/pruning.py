"""Magnitude pruning: the paper's global variant with fine-tuning, and the authors' lottery-ticket variant.

Global unstructured magnitude pruning (Han et al., 2015) ranks the absolute values of all Conv2d and Linear
weights together and zeroes the smallest until a cumulative target sparsity is reached. Masks are
``torch.nn.utils.prune`` forward pre-hooks, so they stay in force while the network is fine-tuned (a pruned
weight is exactly 0 after any optimiser step); :func:`make_permanent` folds them into the weights before saving.

The lottery-ticket variant (Frankle & Carbin, 2019), as in the authors' public code: every layer is pruned to the
target by its own percentile (BatchNorm scales included by default), and the surviving weights are rewound to their
initial values before retraining.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn.utils import prune

#: The pruning levels of the study (the paper's 10-70 %) and beyond it (80-98 %).
LEVELS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)


def _check_sparsity(sparsity: float) -> float:
    if not isinstance(sparsity, (int, float)) or math.isnan(sparsity) or not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be a number in [0, 1), got {sparsity!r}")
    return float(sparsity)


def prunable(model: nn.Module, include_batchnorm: bool = False) -> list[tuple[str, nn.Module]]:
    """The (name, module) pairs whose ``weight`` is pruned: Conv2d and Linear (and BatchNorm2d if asked)."""
    kinds = (nn.Conv2d, nn.Linear) + ((nn.BatchNorm2d,) if include_batchnorm else ())
    return [(name, m) for name, m in model.named_modules() if isinstance(m, kinds)]


def effective_weight(module: nn.Module) -> torch.Tensor:
    """``weight_orig * weight_mask`` while a pruning mask is attached, else ``weight``.

    (``module.weight`` itself is only refreshed by the next forward pass, so it can lag behind an optimiser step.)
    """
    if hasattr(module, "weight_mask"):
        return (module.weight_orig * module.weight_mask).detach()
    return module.weight.detach()


def global_sparsity(model: nn.Module) -> float:
    """Fraction of exactly-zero weights over all Conv2d and Linear weights (masks applied)."""
    weights = [effective_weight(m) for _, m in prunable(model)]
    return sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)


def sparsity_report(model: nn.Module) -> dict:
    """Per-layer and global fraction of zeros: ``{"global": s, "layers": {name: {"zeros", "total", "sparsity"}}}``."""
    layers = {}
    for name, m in prunable(model):
        w = effective_weight(m)
        zeros = int((w == 0).sum())
        layers[name] = {"zeros": zeros, "total": w.numel(), "sparsity": zeros / w.numel()}
    return {"global": global_sparsity(model), "layers": layers}


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold every pruning mask into its weight (``prune.remove``): zeros stay, the hooks go.

    The model is also returned to the contiguous memory format (``torch.nn.utils.prune`` flattens weights with
    ``view``, which a ``channels_last`` weight does not allow).
    """
    model.to(memory_format=torch.contiguous_format)
    for _, m in model.named_modules():
        for hook in list(m._forward_pre_hooks.values()):
            if isinstance(hook, prune.BasePruningMethod):
                prune.remove(m, hook._tensor_name)
    return model


@torch.no_grad()
def prune_global(model: nn.Module, sparsity: float) -> nn.Module:
    """Prune ``model`` in place to a cumulative global ``sparsity`` over Conv2d + Linear weights.

    Exactly ``round(sparsity * N)`` of the N weights are zero afterwards: the smallest in absolute value, which
    include every weight already pruned (they are 0), so pruning a pruned model further keeps its earlier zeros.
    The new masks remain attached (fine-tune, then :func:`make_permanent`).

    Raises:
        ValueError: ``sparsity`` outside [0, 1) or NaN, or lower than the model's current sparsity.
    """
    sparsity = _check_sparsity(sparsity)
    make_permanent(model)
    current = global_sparsity(model)
    if sparsity < current - 1e-9:
        raise ValueError(f"sparsity={sparsity} is below the model's current sparsity {current:.4f}; "
                         "pruning only removes weights")
    params = [(m, "weight") for _, m in prunable(model)]
    n_total = sum(m.weight.numel() for m, _ in params)
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=round(sparsity * n_total))
    return model


@torch.no_grad()
def prune_layerwise(model: nn.Module, sparsity: float, include_batchnorm: bool = True) -> nn.Module:
    """Prune every layer to ``sparsity`` of its own weights by magnitude (the authors' per-layer percentile)."""
    sparsity = _check_sparsity(sparsity)
    make_permanent(model)
    for _, m in prunable(model, include_batchnorm):
        prune.l1_unstructured(m, "weight", amount=round(sparsity * m.weight.numel()))
    return model


def layerwise_masks(model: nn.Module, sparsity: float, include_batchnorm: bool = True) -> dict[str, torch.Tensor]:
    """The masks :func:`prune_layerwise` would attach to ``model`` (which stays as it is): ``{"<layer>.weight": bool
    tensor, True = kept}``, what the next lottery round starts from."""
    pruned = prune_layerwise(copy.deepcopy(model), sparsity, include_batchnorm)
    return {f"{name}.weight": m.weight_mask.bool() for name, m in prunable(pruned, include_batchnorm)}


@torch.no_grad()
def rewind(model: nn.Module, initial_state: dict[str, torch.Tensor]) -> nn.Module:
    """Lottery-ticket rewinding: every parameter goes back to its initial value; masks stay in force.

    ``initial_state`` is the plain state dict of the model before dense training (``init.pt``). BatchNorm
    running statistics are rewound too.
    """
    for name, tensor in model.state_dict().items():
        source = name[: -len("_orig")] if name.endswith("_orig") else name
        if name.endswith("_mask"):
            continue
        if source not in initial_state:
            raise ValueError(f"initial state has no entry {source!r}; was it saved from the same architecture?")
        tensor.copy_(initial_state[source])
    for _, m in prunable(model, include_batchnorm=True):
        if hasattr(m, "weight_mask"):
            m.weight = effective_weight(m)  # what the next forward pre-hook would compute
    return model


# ----------------------------------------------------------------------------- the authors' code path
# Re-implemented from the description of the authors' public notebooks (code/utils.ipynb: prune_network,
# original_initialization; code/lottery_ticket.ipynb: the round loop): every parameter whose name contains
# "weight" (convolutions, BatchNorm scales, the classifier) is pruned by its own percentile, the mask accumulates,
# and nothing keeps the pruned weights at zero while the network retrains.

def authors_tensors(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The parameters the authors' code prunes: every one whose name contains ``"weight"``."""
    return [(name, p) for name, p in model.named_parameters() if "weight" in name]


@torch.no_grad()
def authors_masks(model: nn.Module, rate: float, masks: dict[str, torch.Tensor] | None = None
                  ) -> dict[str, torch.Tensor]:
    """The authors' ``prune_network``: per tensor, the ``rate`` quantile of the absolute non-zero values is the
    threshold; a position is masked when its weight is below it or when it was masked before (the mask accumulates).

    Args:
        model: a network without pruning hooks (see :func:`make_permanent`); it is not modified.
        rate: the share of each tensor's non-zero weights to cut, in [0, 1) (the authors': 0.2). At 0 nothing new
            is masked.
        masks: the previous round's masks (``{parameter name: bool tensor, True = kept}``), None for round 1.

    Returns:
        ``{parameter name: bool tensor}`` of the same shapes, True where the weight is kept.
    """
    rate = _check_sparsity(rate)
    out = {}
    for name, p in authors_tensors(model):
        alive = p.detach().abs()[p != 0].double()
        threshold = torch.quantile(alive, rate).item() if alive.numel() else 0.0  # np.percentile's interpolation
        kept = p.detach().abs() >= threshold
        out[name] = kept & masks[name] if masks is not None else kept
    return out


def mask_sparsity(masks: dict[str, torch.Tensor], model: nn.Module) -> float:
    """The share of Conv2d + Linear weights a set of :func:`authors_masks` masks (the sparsity it would enforce)."""
    names = {f"{name}.weight" for name, _ in prunable(model)}
    chosen = [m for name, m in masks.items() if name in names]
    return sum(int((~m).sum()) for m in chosen) / sum(m.numel() for m in chosen)


@torch.no_grad()
def rewind_authors(model: nn.Module, masks: dict[str, torch.Tensor], initial_state: dict[str, torch.Tensor]
                   ) -> nn.Module:
    """The authors' ``original_initialization``: every weight to its initial value times its mask, every bias to its
    initial value. Buffers (BatchNorm running statistics) are *not* rewound: they stay as training left them."""
    for name, p in model.named_parameters():
        if name not in initial_state:
            raise ValueError(f"initial state has no entry {name!r}; was it saved from the same architecture?")
        if "bias" in name:
            p.copy_(initial_state[name])
        if "weight" in name:
            p.copy_(initial_state[name] * masks[name].to(p.dtype))
    return model


def enforce_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Keep the masked weights of ``model`` at zero while it trains (``torch.nn.utils.prune`` hooks; what the
    authors' loop does *not* do). :func:`make_permanent` folds them in."""
    modules = dict(model.named_modules())
    for name, mask in masks.items():
        module_name, _, tensor = name.rpartition(".")
        prune.custom_from_mask(modules[module_name], tensor, mask)
    return model
