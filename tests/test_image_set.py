"""Measurement protocol v2: one fixed image set per profile, independent of every network, and one value per
(network, image) whatever list or job the image is measured in."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from prunelib.data import CLASSES
from prunelib.image_set import fixed_image_set, set_size
from prunelib.measure.faithfulness import measure


def _labels(per_class: int = 12) -> torch.Tensor:
    return torch.arange(len(CLASSES)).repeat_interleave(per_class)[torch.randperm(per_class * len(CLASSES),
                                                                            generator=torch.Generator().manual_seed(3))]


def test_the_set_is_class_balanced_sorted_and_fixed_by_its_seed() -> None:
    labels = _labels()
    chosen = fixed_image_set(labels, 5, seed=0)
    assert torch.equal(chosen, torch.sort(chosen).values) and len(set(chosen.tolist())) == 50
    assert torch.bincount(labels[chosen], minlength=len(CLASSES)).tolist() == [5] * len(CLASSES)
    assert torch.equal(chosen, fixed_image_set(labels, 5, seed=0))
    assert not torch.equal(chosen, fixed_image_set(labels, 5, seed=1))


def test_a_class_s_draw_depends_only_on_its_own_images() -> None:
    """Nothing but the labels and the profile's two settings choose the set: a network, a seed of the study or a
    regime cannot change it; and one class's images changing leaves the other classes' draws alone."""
    labels = _labels()
    chosen = fixed_image_set(labels, 4, seed=0)
    shorter = labels.clone()
    church = CLASSES.index("church")
    shorter[(labels == church).nonzero()[-1]] = -1  # one church image fewer
    other = fixed_image_set(shorter, 4, seed=0)
    keep = labels[chosen] != church
    assert torch.equal(chosen[keep], other[labels[other] != church])


def test_too_few_images_of_a_class_is_named() -> None:
    with pytest.raises(ValueError, match="13 per class"):
        fixed_image_set(_labels(12), 13, seed=0)


def test_set_size_reads_the_profile() -> None:
    assert set_size({"n_attribution_images": 250}) == (25, 0)
    assert set_size({"n_attribution_images": 4, "image_set_per_class": 30, "image_set_seed": 7}) == (30, 7)


def test_one_network_and_one_image_give_one_road_curve_in_any_list() -> None:
    """ROAD's imputation noise and the random baseline are seeded by the image's validation index, not its place."""
    torch.manual_seed(0)
    # a linear classifier with large weights: its decisions flip with the imputation's noise, so the curves
    # tell the noise of one image from another's
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 2)).eval()
    with torch.no_grad():
        model[1].weight.mul_(1e3)
    x, y = 1e-3 * torch.randn(5, 3, 16, 16), torch.tensor([0, 1, 1, 0, 1])  # the noise (sigma 0.01) dominates
    index = torch.tensor([40, 7, 123, 9, 300])
    kwargs = dict(methods=("VG", "random"), n_bootstrap=10, seed=0)
    whole = measure(model, x, y, index=index, **kwargs)
    order = [3, 0, 4]  # another job: other images around, another order
    part = measure(model, x[order], y[order], index=index[order], **kwargs)
    for method, orders in (("VG", ("morf", "lerf")), ("random", ("morf",))):
        for o in orders:
            assert [whole[method]["road"][o]["correct"][i] for i in order] == part[method]["road"][o]["correct"]
    shifted = measure(model, x[order], y[order], **kwargs)  # seeded by position (the first protocol): differs
    assert shifted["VG"]["road"]["morf"]["correct"] != part["VG"]["road"]["morf"]["correct"]
    assert shifted["random"]["road"]["morf"]["correct"] != part["random"]["road"]["morf"]["correct"]


def test_aggregates_are_over_the_kept_images_only() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 3)).eval()
    x, y = torch.randn(4, 3, 16, 16), torch.tensor([0, 1, 2, 0])
    keep = torch.tensor([True, False, True, False])
    out = measure(model, x, y, methods=("VG",), n_bootstrap=10, keep=keep)["VG"]
    assert len(out["gini"]) == 4  # per-image values cover every image
    assert out["gini_mean"]["estimate"] == pytest.approx((out["gini"][0] + out["gini"][2]) / 2)
    none = measure(model, x, y, methods=("VG",), n_bootstrap=10, keep=torch.zeros(4, dtype=torch.bool))["VG"]
    assert none["gini_mean"] == {"estimate": None, "low": None, "high": None}
