"""Map agreement (prunelib.metrics.agreement): known answers and batched-vs-one-by-one invariance."""
from __future__ import annotations

import pytest
import torch
from scipy import stats

from prunelib.metrics.agreement import as_saliency, spearman, top_k_iou


def _maps(n: int = 3, size: int = 20, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, size, size, generator=torch.Generator().manual_seed(seed))


def test_identical_maps_agree_fully() -> None:
    a = _maps()
    assert torch.allclose(spearman(a, a), torch.ones(3, dtype=torch.float64))
    assert torch.equal(top_k_iou(a, a), torch.ones(3, dtype=torch.float64))


def test_a_map_and_its_negation_have_opposite_ranks() -> None:
    a = _maps()
    assert torch.allclose(spearman(a, -a), -torch.ones(3, dtype=torch.float64))
    assert torch.equal(top_k_iou(a, -a), torch.zeros(3, dtype=torch.float64))  # the top 10 % are the bottom 10 %


def test_a_random_permutation_of_pixels_agrees_by_chance_only() -> None:
    a = _maps(n=50, size=64)
    perm = torch.randperm(64 * 64, generator=torch.Generator().manual_seed(1))
    b = a.reshape(50, -1)[:, perm].reshape(a.shape)
    assert spearman(a, b).mean().item() == pytest.approx(0.0, abs=0.01)
    assert top_k_iou(a, b).mean().item() == pytest.approx(0.1 / 1.9, abs=0.01)  # |A & B| / |A | B| by chance


def test_spearman_is_scipy_s_with_ties() -> None:
    a = torch.tensor([[[1.0, 2.0], [2.0, 5.0]]])
    b = torch.tensor([[[3.0, 1.0], [1.0, 0.0]]])
    assert spearman(a, b).item() == pytest.approx(stats.spearmanr(a.flatten(), b.flatten()).statistic)


def test_batched_equals_one_by_one() -> None:
    a, b = _maps(4, seed=2), _maps(4, seed=3)
    one = torch.cat([spearman(a[i:i + 1], b[i:i + 1]) for i in range(4)])
    assert torch.allclose(spearman(a, b), one)
    assert torch.equal(top_k_iou(a, b), torch.cat([top_k_iou(a[i:i + 1], b[i:i + 1]) for i in range(4)]))


def test_channel_sums_and_shapes() -> None:
    maps = torch.randn(2, 3, 8, 8)
    assert torch.equal(as_saliency(maps), maps.sum(1).abs())
    with pytest.raises(ValueError, match="two \\(N, H, W\\) tensors of one shape"):
        spearman(torch.rand(2, 8, 8), torch.rand(2, 8, 9))
    assert spearman(torch.ones(1, 4, 4), torch.rand(1, 4, 4)).item() == 0.0  # a constant map has no ranking


def test_no_images_give_no_values() -> None:
    empty = torch.zeros(0, 8, 8)
    assert spearman(empty, empty).shape == (0,) and top_k_iou(empty, empty).shape == (0,)
