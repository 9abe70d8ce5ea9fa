"""AOPC formulas (checked against the paper's reference numbers) and bootstrap CIs."""
import json

import pytest
import torch

from prunelib.metrics import aopc_authors, aopc_standard, bootstrap_ci
from prunelib.reference import REFERENCE_FILE as REF  # the paper's numbers, shipped with the package


@pytest.mark.parametrize("method", ["vanilla_gradient", "integrated_gradients"])
def test_aopc_authors_reproduces_reference(method):
    ref = json.loads(REF.read_text())
    levels = [str(p) for p in ref["pruning_percent"]]
    for lvl, expected in zip(levels, ref["aopc_morf"][method]):
        curve = ref["road_morf"][method][lvl]
        assert aopc_authors(curve).item() == pytest.approx(expected, abs=5e-7)
        assert abs(aopc_standard(curve).item() - expected) > 1e-3  # the other convention does not match


def test_formulas_analytic():
    c = torch.tensor([1.0, 0.5, 0.0])
    assert aopc_authors(c).item() == pytest.approx((0 + 0.5 + 1.0) / 4)
    assert aopc_standard(c).item() == pytest.approx((0 + 0.5 + 1.0) / 4)
    assert aopc_standard(c, reference=0.8).item() == pytest.approx((-0.2 + 0.3 + 0.8) / 4)
    m = torch.tensor([[1.0, 0.5, 0.0], [0.9, 0.9, 0.9]])
    torch.testing.assert_close(aopc_authors(m), torch.tensor([0.375, 0.0]))
    with pytest.raises(ValueError, match="curve"):
        aopc_authors([])
    with pytest.raises(ValueError, match="curve"):
        aopc_authors([0.5, float("nan")])


def test_bootstrap_ci():
    g = torch.Generator().manual_seed(0)
    v = torch.randn(400, generator=g) + 3.0
    ci = bootstrap_ci(v, n_boot=500, seed=1)
    assert ci.low < ci.estimate < ci.high and ci.estimate == pytest.approx(v.double().mean().item())
    se = v.double().std().item() / 20
    assert (ci.high - ci.low).item() == pytest.approx(2 * 1.96 * se, rel=0.15)
    again = bootstrap_ci(v, n_boot=500, seed=1)
    assert torch.equal(ci.low, again.low) and torch.equal(ci.high, again.high)
    const = bootstrap_ci(torch.full((10,), 0.25), n_boot=50)
    assert const.low.item() == const.high.item() == 0.25
    correct = torch.rand(50, 4, generator=g) < torch.tensor([0.9, 0.7, 0.5, 0.3])
    curve_ci = bootstrap_ci(correct, lambda m: m.double().mean(0), n_boot=200)
    assert curve_ci.low.shape == (4,) and (curve_ci.low <= curve_ci.estimate).all() and (curve_ci.estimate <= curve_ci.high).all()
    aopc_ci = bootstrap_ci(correct, lambda m: aopc_authors(m.double().mean(0)), n_boot=200)
    assert aopc_ci.low <= aopc_ci.estimate <= aopc_ci.high
    with pytest.raises(ValueError, match="values"):
        bootstrap_ci(torch.zeros(0))
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(v, level=95)
