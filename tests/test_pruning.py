"""Global magnitude pruning: exact counts, smallest magnitudes, masks that survive training, monotone levels."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from prunelib import pruning
from prunelib.models import resnet18
from prunelib.optim import Ranger


def tiny_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 3),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def all_weights(model: nn.Module) -> torch.Tensor:
    return torch.cat([pruning.effective_weight(m).flatten() for _, m in pruning.prunable(model)])


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.9, 0.98])
def test_exact_count_of_smallest_magnitudes(sparsity: float) -> None:
    model = tiny_net()
    before = all_weights(model).abs()
    pruning.prune_global(model, sparsity)
    after = all_weights(model)
    n_zero = int((after == 0).sum())
    assert n_zero == round(sparsity * before.numel())
    assert pruning.global_sparsity(model) == pytest.approx(n_zero / before.numel())
    if 0 < n_zero < before.numel():
        # every pruned weight is no larger than every surviving one
        assert before[after == 0].max() <= before[after != 0].min()


def test_resnet18_global_not_layerwise() -> None:
    model = resnet18(seed=0)
    pruning.prune_global(model, 0.5)
    report = pruning.sparsity_report(model)
    assert report["global"] == pytest.approx(0.5, abs=1e-6)
    per_layer = [v["sparsity"] for v in report["layers"].values()]
    assert max(per_layer) - min(per_layer) > 0.1  # global ranking: layers end up unequally sparse


def test_masks_survive_optimizer_steps() -> None:
    model = tiny_net()
    pruning.prune_global(model, 0.6)
    zero_before = all_weights(model) == 0
    opt = Ranger(model.parameters(), lr=1e-2, weight_decay=1e-2)
    for _ in range(8):  # crosses a Lookahead synchronisation (k = 6)
        opt.zero_grad()
        model(torch.randn(4, 3, 12, 12)).square().sum().backward()
        opt.step()
    after = all_weights(model)
    assert torch.all(after[zero_before] == 0)
    assert not torch.equal(after[~zero_before], all_weights(tiny_net())[~zero_before])  # the rest did train


def test_pruning_further_keeps_earlier_zeros() -> None:
    model = tiny_net()
    pruning.prune_global(model, 0.3)
    zeros_30 = all_weights(model) == 0
    with torch.no_grad():  # simulate fine-tuning that moves the surviving weights
        for _, m in pruning.prunable(model):
            m.weight_orig.mul_(torch.rand_like(m.weight_orig) + 0.5)
    pruning.prune_global(model, 0.7)
    after = all_weights(model)
    assert torch.all(after[zeros_30] == 0)
    assert int((after == 0).sum()) == round(0.7 * after.numel())


def test_make_permanent_removes_hooks_keeps_zeros() -> None:
    model = tiny_net()
    pruning.prune_global(model, 0.5)
    pruning.make_permanent(model)
    assert not any(k.endswith("_mask") or k.endswith("_orig") for k in model.state_dict())
    assert pruning.global_sparsity(model) == pytest.approx(0.5, abs=1e-2)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, math.nan, "0.5"])
def test_invalid_sparsity(bad) -> None:
    with pytest.raises(ValueError, match="sparsity"):
        pruning.prune_global(tiny_net(), bad)


def test_cannot_unprune() -> None:
    model = tiny_net()
    pruning.prune_global(model, 0.5)
    with pytest.raises(ValueError, match="below the model's current sparsity"):
        pruning.prune_global(model, 0.2)


def test_layerwise_and_rewind() -> None:
    model = tiny_net()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # "training"
    pruning.prune_layerwise(model, 0.5, include_batchnorm=True)
    pruning.rewind(model, initial)
    for name, m in pruning.prunable(model, include_batchnorm=True):
        w = m.weight.detach()
        assert int((w == 0).sum()) == round(0.5 * w.numel()), name
        alive = w != 0
        assert torch.equal(w[alive], initial[f"{name}.weight"][alive]), name


def test_channels_last_model_can_be_pruned() -> None:
    model = resnet18(seed=0).to(memory_format=torch.channels_last)
    pruning.prune_global(model, 0.3)
    pruning.prune_layerwise(model, 0.5)
    assert pruning.global_sparsity(model) == pytest.approx(0.5, abs=1e-3)
