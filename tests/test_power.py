"""The judging rule's simulation (prunelib.sweep.power): its variance components recovered from data drawn with
known ones, its false-positive rate under no effect at most alpha (Holm's bound), its power against the exact
power of a t-test (scipy's noncentral t), its command line. Small simulations; Monte-Carlo tolerances of 4 standard
errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from prunelib.sweep import power
from prunelib.sweep.seed_rule import ALPHA, HOLDS, OPPOSITE


def test_the_variance_components_are_recovered() -> None:
    rng = np.random.default_rng(0)
    S, L, seed_sd, level_sd, sampling_sd = 4000, 4, 0.02, 0.01, 0.005
    effects = (np.array([0.01, 0.02, 0.03, 0.0])[None, :] + rng.normal(0, seed_sd, (S, 1))
               + rng.normal(0, level_sd, (S, L)) + rng.normal(0, sampling_sd, (S, L)))
    got = power.components(effects, np.full((S, L), sampling_sd ** 2))
    assert got["seed_sd"] == pytest.approx(seed_sd, rel=0.05)
    assert got["level_sd"] == pytest.approx(level_sd, rel=0.05)
    assert got["sampling_sd"] == pytest.approx(sampling_sd)
    with pytest.raises(ValueError, match="2 seeds and 2 levels"):
        power.components(effects[:, :1], np.zeros((S, 1)))


def test_a_negative_component_is_set_to_zero() -> None:
    effects = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])  # all of it common to a seed's levels
    got = power.components(effects, np.full((3, 2), 0.01))
    assert got["level_sd"] == 0.0 and got["seed_sd"] == pytest.approx(1.0)


@pytest.mark.parametrize("n_seeds", [3, 5])
def test_false_positives_under_no_effect_are_at_most_alpha(n_seeds: int) -> None:
    """The levels of a seed share its component (as the study's AOPC does): Holm still bounds the share of null
    studies with a significant level at alpha."""
    n = 4000
    rates = power.simulate(n_seeds, [0.0] * 4, seed_sd=0.015, level_sd=0.002, sampling_sd=0.007, sign=+1,
                           jumps=[0.04, 0.042, 0.04, 0.023], n_sims=n, rng_seed=n_seeds)
    false = rates.get(HOLDS, 0.0) + rates.get(OPPOSITE, 0.0)
    assert false <= ALPHA + 4 * power.mc_se(ALPHA, n), rates
    assert sum(rates.values()) == pytest.approx(1.0)


def test_the_power_of_one_level_is_a_t_tests() -> None:
    """One level, the seed's effect normal with sd sqrt(seed**2 + level**2 + sampling**2): the rule's *holds* is
    the power of a two-sided one-sample t-test, noncentrality effect sqrt(S) / sd."""
    S, effect, sd, n = 5, 0.02, 0.02, 4000
    expected = stats.nct.sf(stats.t.ppf(1 - ALPHA / 2, S - 1), S - 1, effect * math.sqrt(S) / sd)
    held = power.simulate(S, [effect], seed_sd=0.012, level_sd=0.0, sampling_sd=0.016, sign=+1, jumps=[effect],
                          n_sims=n, rng_seed=7).get(HOLDS, 0.0)
    assert abs(held - expected) <= 4 * power.mc_se(expected, n), (held, expected)


def _network(kind: str, target: float, gini: list[float]) -> dict:
    return {"network": kind, "target": target, "level": 100 * target, "near_chance": False,
            "images": list(range(len(gini))), "correct": [True] * len(gini),
            "methods": {"VG": {"gini": gini, "road": {}}}}


def test_calibrated_on_jobs_reports_components_and_rates() -> None:
    rng = np.random.default_rng(2)
    reference = {"sparsity": [0.0, 0.1, 0.2], "gini": {"VG": [0.40, 0.45, 0.44]}, "aopc": {"VG": [0.2, 0.2, 0.2]}}
    runs = []
    for seed in range(3):
        base = list(0.4 + rng.normal(0, 0.01, 40))
        shift = rng.normal(0, 0.01)
        runs.append({"regime": "global", "seed": seed, "networks": [_network("dense", 0.0, base)] + [
            _network("pruned", t, [b + shift + rng.normal(0, 0.002) for b in base]) for t in (0.1, 0.2)]})
    out = power.calibrated(runs, reference, n_sims=200, seeds=(3, 5))
    row = out["claims"]["gini_light"]["VG"]
    assert row["levels"] == [10.0, 20.0] and row["paper_jumps"] == pytest.approx([0.05, 0.04])
    assert set(row["by_seeds"]) == {"3", "5"} and {"false_positive", "power", "power_se"} <= set(row["by_seeds"]["3"])
    assert "aopc_light" not in out["claims"]  # nothing measured: no row
    assert "gini_light" in power.report(out)


def test_a_seed_without_its_dense_network_drops_out_of_the_effects() -> None:
    runs = [{"regime": "global", "seed": seed, "networks": [_network("dense", 0.0, [0.4, 0.5])] * (seed < 2) + [
        _network("pruned", 0.1, [0.45 + 0.01 * seed, 0.55])]} for seed in range(3)]
    levels, effects, _, seeds = power.measured_effects(runs, "gini", "VG", "light")
    assert levels == [10.0] and seeds == [0, 1]
    assert effects[:, 0] == pytest.approx([0.05, 0.055])


def test_the_command_line_honours_its_arguments(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        power.main(["--help"])
    assert done.value.code == 0 and "--n-sims" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        power.main(["--seeds", "1"])
