"""The decision rules behind the book's verdicts and image selection, on constructed inputs with known answers."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from prunelib import data
from prunelib.stages.common import shared_correct
from prunelib.stages.comparison import paired_difference, verdict


def _d(low: float, high: float) -> dict:
    return {"estimate": (low + high) / 2, "low": low, "high": high}


@pytest.mark.parametrize("diffs, sign, expected", [
    ([_d(0.01, 0.05), _d(-0.01, 0.02)], +1, "holds"),
    ([_d(-0.05, -0.01), _d(-0.01, 0.02)], +1, "does not hold"),
    ([_d(-0.01, 0.01), _d(-0.02, 0.03)], +1, "inconclusive"),
    ([_d(0.01, 0.05), _d(-0.05, -0.01)], +1, "mixed"),
    ([_d(-0.05, -0.01)], -1, "holds"),
])
def test_verdict_rules(diffs, sign, expected) -> None:
    assert verdict(diffs, sign) == expected


def _metrics(gini_dense: list[float], gini_pruned: list[float], images_pruned: list[int]) -> dict:
    road = {"morf": {"correct": [[1] * 10] * len(gini_dense)}}
    return {"images": {"0.0": list(range(len(gini_dense))), "0.5": images_pruned},
            "methods": {"VG": {"0.0": {"gini": gini_dense, "road": road},
                               "0.5": {"gini": gini_pruned, "road": {"morf": {"correct": [[1] * 10] * len(gini_pruned)}}}}}}


def test_paired_difference_uses_only_shared_images() -> None:
    # images 0..3 at both levels, with +0.1 each; image 9 only at the pruned level (must be ignored)
    m = _metrics([0.2, 0.3, 0.4, 0.5], [0.3, 0.4, 0.5, 0.6, 0.99], [0, 1, 2, 3, 9])
    d = paired_difference(m, "VG", "0.5", "gini", n_boot=200)
    assert d["n"] == 4
    assert d["estimate"] == pytest.approx(0.1)
    assert d["low"] == pytest.approx(0.1) and d["high"] == pytest.approx(0.1)  # a constant difference


class Constant(nn.Module):
    """Predicts class ``c`` for every image."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.c, self.w = c, nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(x.shape[0], 10) + self.w
        out[:, self.c] = 1.0
        return out


def test_shared_correct_prefers_images_right_at_every_level() -> None:
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2])
    split = data.Split(images=torch.zeros(8, 3, 8, 8, dtype=torch.uint8), labels=labels,
                       files=[f"f{i}" for i in range(8)], name="val", root=None)
    models = {0.0: Constant(0), 0.5: Constant(0)}
    chosen, n_shared = shared_correct(models, split, image_size=8, n=3)
    assert n_shared == 3 and all(torch.equal(c, torch.tensor([0, 1, 2])) for c in chosen.values())
    models = {0.0: Constant(0), 0.5: Constant(1)}  # no image is right at both levels
    with pytest.warns(UserWarning, match="only 3 correctly classified"):
        chosen, n_shared = shared_correct(models, split, image_size=8, n=4)
    assert n_shared == 0
    assert chosen[0.0].tolist() == [0, 1, 2] and chosen[0.5].tolist() == [3, 4, 5]
