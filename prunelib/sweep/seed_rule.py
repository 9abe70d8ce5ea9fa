"""Verdicts from seed-level statistics (measurement protocol v2); the rule was written before its numbers existed.

1. **The effect within one run.** For a seed, a regime and a pruned level, the paired effect is the mean over the
   images of the fixed set that both the level's network and its reference classify correctly of
   ``metric(level) - metric(reference)``. The reference is the dense network of the same seed, and under the
   lottery regime also the seed's unpruned control (a retrained network is the natural null for a retrained
   network); both are reported. Networks near chance are measured but never judged.
2. **Across seeds.** With S >= 3 seeds, each seed's effect is one draw of a random effect: the level's estimate is
   their mean, with a 95 % t-interval on S - 1 degrees of freedom and the two-sided p-value of the one-sample
   t-test (scipy).
3. **Multiplicity.** The levels of one claim (light: up to 55 % removed; aggressive: 65 % and more) are corrected
   together by Holm's step-down procedure at alpha = 0.05 (as statsmodels' ``multipletests`` computes it).
4. **A level's verdict.** *holds* when its Holm-adjusted p-value is below 0.05 and the estimate lies in the claimed
   direction; *opposite* when it lies in the other; otherwise *excluded* when the paper's jump at that level lies
   outside the level's 95 % interval (the data are incompatible with an effect as large as the paper's); otherwise
   *inconclusive*.
5. **A claim's verdict** (per regime and saliency method): *holds*, *opposite* or *mixed* when some level holds,
   some is opposite, or both; otherwise *paper's effect excluded* when every level of the group at which the paper
   reports a jump is excluded; otherwise *inconclusive*.
6. **Fewer than 3 seeds.** The same rule with the image as the unit (a paired t-test over the images of each
   seed, Holm over levels), which speaks of one training run only; a verdict holds *within one run* when every
   seed gives it, and says so.
7. **A level measured on fewer seeds than that** (a job stopped before its last levels) within a claim judged over
   3 or more seeds is shown with its seeds' mean and not judged; Holm's correction and the claim's verdict are
   over the levels judged, and the claim names the levels left out. (Added with the first partial job: without it a
   level on 2 seeds took a verdict from a t-interval on 1 degree of freedom, against rule 6.)

The error rates of this rule are measured by simulation with known answers (:func:`simulate`, the settings of
:data:`SCENARIOS`; ``python -m prunelib.sweep.seed_rule`` prints them, each with its Monte-Carlo standard error).
With 3 or 5 seeds and 10,000 studies per setting, under no effect a claim comes out *holds*, *opposite* or *mixed*
in 5.0 +- 0.1 % of studies (4.6-5.2 %, +- 0.2 %, per metric; Holm's procedure bounds it at 5 %); under an effect
as large as the paper's, *paper's effect excluded* in none of 80,000 (below 0.004 % at 95 %; it cannot exceed
5 %, the chance that one level's 95 % interval misses the true effect).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
from scipy import stats

from ..stages.faithfulness import per_image_aopc, per_image_gap
from .summary import kept

ALPHA = 0.05
MIN_SEEDS = 3
EXCLUDED = "paper's effect excluded"
#: a level's verdict where it is measured on fewer than MIN_SEEDS seeds of a claim judged over seeds (rule 7)
TOO_FEW = "not judged (fewer than 3 seeds)"
#: the file the sweep writes the verdicts of this rule to, beside summary.csv
SEED_VERDICTS = "seed_verdicts.json"
LIGHT_MAX, AGGRESSIVE_MIN = 55.0, 65.0
#: the paper's claims: (key, metric stem, sign, level group, sentence)
CLAIMS = (
    ("gini_light", "gini", +1, "light", "Pruning sharpens saliency maps (Gini up at light-to-moderate levels)"),
    ("aopc_light", "aopc_morf", +1, "light", "Light-to-moderate pruning improves faithfulness (AOPC MoRF up)"),
    ("gap_light", "aopc_gap", +1, "light",
     "Light-to-moderate pruning raises AOPC MoRF - LeRF (faithfulness in both removal orders)"),
    ("gini_aggressive", "gini", -1, "aggressive", "Aggressive pruning lowers saliency sparsity (Gini down)"),
)
#: the paper's label of a round-based network: their code's round 1 is its "20 %", round 2 its "30 %"
ROUND_LABELS = {0.2: 20, 0.36: 30}


def group_of(level: float) -> str | None:
    """``"light"`` (0 < level <= 55 %), ``"aggressive"`` (>= 65 %) or None; ``level`` in percent."""
    return "light" if 0 < level <= LIGHT_MAX else "aggressive" if level >= AGGRESSIVE_MIN else None


def interval(values: Sequence[float]) -> dict[str, float | int | None]:
    """Mean, 95 % t-interval (n - 1 degrees of freedom) and two-sided one-sample t-test p-value of ``values``."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return {"n": len(x), "estimate": float(x.mean()) if len(x) else None, "low": None, "high": None, "p": None}
    mean, low, high, p = (float(v[0]) for v in t_intervals(x[None, :]))
    return {"n": len(x), "estimate": mean, "low": low, "high": high, "p": p}


def t_intervals(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row by row of ``x`` (R, n): mean, 95 % t-interval and two-sided one-sample t-test p-value (scipy's t)."""
    n = x.shape[-1]
    mean, se = x.mean(-1), x.std(-1, ddof=1) / math.sqrt(n)
    half = stats.t.ppf(1 - ALPHA / 2, n - 1) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * stats.t.sf(np.abs(mean) / np.where(se > 0, se, 1), n - 1),
                     np.where(mean != 0, 0.0, 1.0))
    return mean, mean - half, mean + half, p


def holm_rows(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values of each row of ``p`` (R, m): the step-down ``max_{j<=k} (m - j) p_(j)``, capped at 1
    (what ``statsmodels.stats.multitest.multipletests(method="holm")`` returns, row by row)."""
    m = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ranked = np.take_along_axis(p, order, -1) * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, -1)
    return out


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values (None stays None): :func:`holm_rows` on the known ones, which
    ``tests/test_seed_rule.py`` checks against statsmodels' ``multipletests(method="holm")`` (that function runs
    ``gc.collect()`` on every call, 0.06-0.3 s each in a process holding torch: too slow for the simulations)."""
    known = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    if known:
        adjusted = holm_rows(np.array([[p_values[i] for i in known]], dtype=float))[0]
        for i, p in zip(known, adjusted):
            out[i] = float(p)
    return out


def level_verdict(row: dict[str, Any], sign: int, paper_jump: float | None) -> str:
    """Rule 4 for one level: ``row`` has ``estimate``, ``low``, ``high`` and ``p_holm``."""
    if row.get("p_holm") is not None and row["p_holm"] < ALPHA:
        return "holds" if np.sign(row["estimate"]) == sign else "opposite"
    if paper_jump is not None and row.get("low") is not None and not row["low"] <= paper_jump <= row["high"]:
        return "excluded"
    return "inconclusive"


def claim_verdict(level_verdicts: Sequence[str], has_jump: Sequence[bool]) -> str:
    """Rule 5 over the levels of a group (``has_jump``: whether the paper reports a jump at each); levels not judged
    (rule 7) take no part."""
    kept_levels = [(v, j) for v, j in zip(level_verdicts, has_jump) if v != TOO_FEW]
    level_verdicts, has_jump = [v for v, _ in kept_levels], [j for _, j in kept_levels]
    holds, opposite = "holds" in level_verdicts, "opposite" in level_verdicts
    if holds or opposite:
        return "mixed" if holds and opposite else "holds" if holds else "opposite"
    judged = [v for v, jump in zip(level_verdicts, has_jump) if jump]
    if judged and all(v == "excluded" for v in judged):
        return EXCLUDED
    return "inconclusive"


def judge_levels(effects: Sequence[Sequence[float]], sign: int, paper_jumps: Sequence[float | None]) -> list[dict]:
    """Rules 2-4 for the levels of one claim: ``effects[l]`` are level ``l``'s paired effects, one per seed (or,
    within one run, one per image). Returns one row per level with its interval, Holm p-value and verdict."""
    rows = [interval(e) for e in effects]
    for row, p in zip(rows, holm([r["p"] for r in rows])):
        row["p_holm"] = p
    for row, jump in zip(rows, paper_jumps):
        row["paper_jump"] = jump
        row["verdict"] = level_verdict(row, sign, jump)
    return rows


# ----------------------------------------------------------------------------- from the jobs' result files
def per_image(network: dict[str, Any], stem: str, method: str) -> dict[int, float]:
    """``{validation index: value}`` of a metric stem (``gini``, ``aopc_morf``, ``aopc_lerf``, ``aopc_gap``)."""
    entry = network["methods"][method]
    if stem == "gini":
        values = torch.tensor(entry["gini"], dtype=torch.float64)
    elif stem == "aopc_gap":
        values = per_image_gap(entry)
    else:
        values = per_image_aopc(entry, stem.split("_")[1])
    return {i: v for i, v, ok in zip(network["images"], values.tolist(), kept(network).tolist()) if ok}


def measured(network: dict[str, Any], stem: str, method: str) -> bool:
    """Whether a network's measurement holds what a metric stem is computed from."""
    entry = network["methods"].get(method)
    if entry is None:
        return False
    needs = {"gini": "gini" in entry, "aopc_morf": "morf" in entry["road"], "aopc_lerf": "lerf" in entry["road"],
             "aopc_gap": {"morf", "lerf"} <= set(entry["road"])}
    return needs[stem]


def paired_values(level: dict[str, Any], reference: dict[str, Any], stem: str, method: str) -> list[float]:
    """Per-image ``level - reference`` over the images both classify correctly (finite values only)."""
    a, b = per_image(level, stem, method), per_image(reference, stem, method)
    return [a[i] - b[i] for i in sorted(set(a) & set(b)) if math.isfinite(a[i] - b[i])]


def paper_jumps(reference: dict[str, Any]) -> dict[tuple[str, str, int], float]:
    """``{(stem, method, paper level in %): paper(level) - paper(dense)}`` for Gini and AOPC MoRF."""
    out = {}
    for key, stem in (("gini", "gini"), ("aopc", "aopc_morf")):
        for method, values in reference[key].items():
            for level, value in zip(reference["sparsity"][1:], values[1:]):
                out[(stem, method, round(100 * level))] = value - values[0]
    return out


def paper_label(method: str, target: float) -> int | None:
    """The paper's label of one of our levels: the same percentage for global pruning, the round for the
    round-based regimes (lottery, the authors' code: :data:`ROUND_LABELS`)."""
    if method == "global":
        return round(100 * target)
    return next((label for t, label in ROUND_LABELS.items() if abs(t - target) < 1e-6), None)


def seed_verdicts(runs: list[dict[str, Any]], reference: dict[str, Any]) -> dict[str, Any]:
    """Apply the rule to the jobs' result files: ``{"levels": {regime: {reference: {claim: {method: [rows]}}}},
    "claims": {claim: {"sentence", "by_regime": {regime: {reference: {method: verdict}}}}}, "unjudged": [...]}``."""
    from .. import regimes
    jumps = paper_jumps(reference)
    methods = sorted({m for r in runs for n in r["networks"] for m in n["methods"] if m != "random"})
    levels: dict[str, Any] = {}
    claims: dict[str, Any] = {key: {"sentence": sentence, "by_regime": {}} for key, _, _, _, sentence in CLAIMS}
    unjudged: list[str] = []
    for regime in sorted({r["regime"] for r in runs}):
        method_kind = regimes.get(regime).method
        regime_runs = [r for r in runs if r["regime"] == regime]
        references = ["dense"] + (["control"] if any(n["network"] == "control" for r in regime_runs
                                                        for n in r["networks"]) else [])
        for ref in references:
            for key, stem, sign, group, _ in CLAIMS:
                for method in methods:
                    rows = _claim_rows(regime_runs, ref, stem, method, sign, group, method_kind, jumps, unjudged)
                    levels.setdefault(regime, {}).setdefault(ref, {}).setdefault(key, {})[method] = rows
                    verdict = claim_verdict([r["verdict"] for r in rows], [r["paper_jump"] is not None for r in rows])
                    if rows and rows[0]["unit"] == "image":
                        verdict += f" within one run ({rows[0]['n_seeds']} seed{'s' if rows[0]['n_seeds'] > 1 else ''})"
                    left_out = [f"{r['level']:.0f} %" for r in rows if r["verdict"] == TOO_FEW]
                    if left_out:
                        verdict += f" ({', '.join(left_out)} on fewer than {MIN_SEEDS} seeds: not judged)"
                    by = claims[key]["by_regime"].setdefault(regime, {}).setdefault(ref, {})
                    by[method] = verdict if rows else "no level to judge"
    return {"rule": __doc__.split("\n\n", 1)[1].strip(), "levels": levels, "claims": claims,
            "unjudged": sorted(set(unjudged))}


def _claim_rows(regime_runs: list[dict], ref: str, stem: str, method: str, sign: int, group: str, method_kind: str,
                jumps: dict, unjudged: list[str]) -> list[dict]:
    by_target: dict[float, dict[int, list[float]]] = {}
    for run in regime_runs:
        reference = next((n for n in run["networks"] if n["network"] == ref), None)
        if reference is None:
            continue
        for net in run["networks"]:
            if (net["network"] != "pruned" or group_of(100 * net["target"]) != group
                    or not measured(net, stem, method) or not measured(reference, stem, method)):
                continue
            name = f"{run['regime']} seed {run['seed']} at {100 * net['target']:.4g} %"
            if net.get("near_chance"):
                unjudged.append(f"{name}: near chance")
                continue
            values = paired_values(net, reference, stem, method)
            if not values:
                unjudged.append(f"{name}: no image it and its {ref} network both classify correctly")
                continue
            by_target.setdefault(round(net["target"], 6), {})[run["seed"]] = values
    targets = sorted(by_target)
    seeds = sorted({s for t in targets for s in by_target[t]})
    label = lambda t: paper_label(method_kind, t)  # noqa: E731
    paper = [jumps.get((stem, method, label(t))) if label(t) is not None else None for t in targets]
    if len(seeds) >= MIN_SEEDS:
        means = {t: [float(np.mean(v)) for v in by_target[t].values()] for t in targets}
        full = [k for k, t in enumerate(targets) if len(by_target[t]) >= MIN_SEEDS]
        judged = dict(zip(full, judge_levels([means[targets[k]] for k in full], sign, [paper[k] for k in full])))
        rows = [judged.get(k) or {"n": len(means[t]), "estimate": float(np.mean(means[t])), "low": None,
                                  "high": None, "p": None, "p_holm": None, "paper_jump": paper[k], "verdict": TOO_FEW}
                for k, t in enumerate(targets)]
        for row, t in zip(rows, targets):
            row.update(unit="seed", level=100 * t, n_seeds=len(by_target[t]),
                       seeds={s: float(np.mean(v)) for s, v in by_target[t].items()},
                       n_images={s: len(v) for s, v in by_target[t].items()})
        return rows
    per_seed = {s: judge_levels([by_target[t].get(s, []) for t in targets], sign, paper) for s in seeds}
    rows = []
    for k, t in enumerate(targets):
        verdicts = {per_seed[s][k]["verdict"] for s in seeds}
        first = per_seed[seeds[0]][k]
        rows.append({**first, "unit": "image", "level": 100 * t, "n_seeds": len(seeds),
                     "verdict": verdicts.pop() if len(verdicts) == 1 else "inconclusive",
                     "seeds": {s: per_seed[s][k]["estimate"] for s in seeds},
                     "n_images": {s: len(by_target[t].get(s, [])) for s in seeds}})
    return rows


# ----------------------------------------------------------------------------------------- simulation
def simulate(n_seeds: int, effects: Sequence[float], *, seed_sd: float, image_sd: float, n_images: int = 300,
             offset_sd: float = 0.02, image_effect_sd: float = 0.05, sign: int = +1,
             paper: Sequence[float | None] | None = None, n_sims: int = 2000, rng_seed: int = 0,
             chunk: int = 1000) -> dict[str, float]:
    """How often each claim verdict comes out when the truth is known.

    Each simulated study has ``n_seeds`` seeds; seed ``s`` has a dense network whose per-image values are
    ``offset_s + b_i + e`` (a seed offset of sd ``offset_sd``, an image effect of sd ``image_effect_sd`` shared by
    every network, and noise ``e`` of sd ``image_sd / sqrt(2)``, drawn afresh for every network) and, per level
    ``l``, a pruned network ``offset_s + b_i + effects[l] + u_sl + e`` (``u_sl``: how much the effect varies from
    seed to seed, sd ``seed_sd``). So ``image_sd`` is the sd of a per-image paired difference ``pruned - dense``
    within one seed (as :data:`SCENARIOS` measures it), and a seed's paired effect has sd
    ``sqrt(seed_sd**2 + image_sd**2 / n_images)`` around ``effects[l]``; the levels of a seed share its dense
    network's noise, as they do in the study. Each seed's paired effect is the mean of its per-image differences,
    as :func:`seed_verdicts` computes it; rules 2-5 are applied to every study (vectorised over studies, the same
    formulas as :func:`judge_levels`, which ``tests/test_seed_rule.py`` checks). ``n_sims`` studies are drawn
    ``chunk`` at a time (memory); the result depends on ``rng_seed``, ``n_sims`` and ``chunk``. Returns the share
    of each claim verdict, each with a Monte-Carlo standard error of ``mc_se(share, n_sims)``.
    """
    rng = np.random.default_rng(rng_seed)
    L = len(effects)
    paper = list(paper) if paper is not None else [None] * L
    effect = np.asarray(effects, dtype=float)[None, :, None, None]
    noise_sd = image_sd / math.sqrt(2)  # per network, so that pruned - dense has sd image_sd per image
    verdicts = []
    for start in range(0, n_sims, chunk):
        n = min(chunk, n_sims - start)
        offsets = rng.normal(0, offset_sd, (n, 1, n_seeds, 1))
        image = rng.normal(0, image_effect_sd, (n, 1, 1, n_images))
        dense = rng.normal(0, noise_sd, (n, 1, n_seeds, n_images))
        dense += offsets + image
        u = rng.normal(0, seed_sd, (n, L, n_seeds, 1))
        pruned = rng.normal(0, noise_sd, (n, L, n_seeds, n_images))
        pruned += offsets + image + effect + u
        pruned -= dense
        per_seed = pruned.mean(-1)  # (n, L, seeds): each seed's mean per-image paired difference
        verdicts.append(claim_verdicts(per_seed, sign, paper))
    names, counts = np.unique(np.concatenate(verdicts), return_counts=True)
    return {str(k): int(c) / n_sims for k, c in zip(names, counts)}


def mc_se(rate: float, n: int) -> float:
    """The Monte-Carlo (binomial) standard error ``sqrt(rate (1 - rate) / n)`` of a share ``rate`` of ``n``
    simulated studies (0 when ``rate`` is 0 or 1: then ``3 / n`` bounds the true share at 95 %)."""
    return math.sqrt(rate * (1 - rate) / n)


def claim_verdicts(per_seed: np.ndarray, sign: int, paper: Sequence[float | None]) -> np.ndarray:
    """Rules 2-5 for many studies at once: ``per_seed`` (studies, levels, seeds) of paired effects -> each study's
    claim verdict; the formulas of :func:`judge_levels` and :func:`claim_verdict`, vectorised."""
    mean, low, high, p = t_intervals(per_seed)
    significant = holm_rows(p) < ALPHA
    holds = (significant & (np.sign(mean) == sign)).any(-1)
    opposite = (significant & (np.sign(mean) == -sign)).any(-1)
    jumps = np.array([np.nan if j is None else j for j in paper])
    has_jump = ~np.isnan(jumps)
    excluded_level = (jumps[None, :] < low) | (jumps[None, :] > high)
    excluded = has_jump.any() & (excluded_level | ~has_jump[None, :]).all(-1) & ~holds & ~opposite
    return np.where(holds & opposite, "mixed", np.where(holds, "holds", np.where(opposite, "opposite",
                    np.where(excluded, EXCLUDED, "inconclusive"))))


#: the settings of the printed simulation: per metric, the seed-to-seed sd of a light level's effect and the sd of
#: the per-image paired differences, the medians over the global regime's light levels of results/noise (protocol
#: v1, 3 seeds; its seed sd also holds the image sample's noise, so it errs large), and the paper's dense -> 10 % jump
SCENARIOS = {"Gini VG": {"seed_sd": 0.00085, "image_sd": 0.0075, "paper": 0.046},
             "Gini IG": {"seed_sd": 0.00045, "image_sd": 0.0041, "paper": 0.018},
             "AOPC MoRF VG": {"seed_sd": 0.0093, "image_sd": 0.084, "paper": 0.040},
             "AOPC MoRF IG": {"seed_sd": 0.014, "image_sd": 0.122, "paper": -0.013}}


#: studies per scenario in the printed simulation: a rate near 5 % has a Monte-Carlo standard error of 0.22 %
N_SIMS = 10_000


def _pct(rate: float, n: int) -> str:
    """A simulated share of ``n`` studies as ``5.0 +- 0.2 %`` (its :func:`mc_se`), or ``0 of n`` / ``n of n``."""
    if rate in (0, 1):
        return f"{round(rate * n):,} of {n:,}"
    se = 100 * mc_se(rate, n)
    digits = 1 if se >= 0.095 else 2
    return f"{100 * rate:.{digits}f} +- {se:.{digits}f} %"


def scenario_rates(n_seeds: int, n_sims: int = N_SIMS) -> dict[str, dict[str, float]]:
    """The rule simulated with known answers for each metric of :data:`SCENARIOS` with ``n_seeds`` seeds:
    ``{metric: {"false": share of studies with no effect judged holds, opposite or mixed, "excluded": share with no
    effect judged paper's effect excluded, "power": share with the paper's effect judged holds, "wrongly_excluded":
    share with the paper's effect judged excluded}}``, each of ``n_sims`` studies; every scenario and truth draws its
    own random numbers, so the rates are independent estimates."""
    out = {}
    for k, (name, s) in enumerate(SCENARIOS.items()):
        kw = {"seed_sd": s["seed_sd"], "image_sd": s["image_sd"], "sign": 1 if s["paper"] > 0 else -1,
              "paper": [s["paper"]] * 4, "n_sims": n_sims}
        null = simulate(n_seeds, [0.0] * 4, rng_seed=100 * n_seeds + 2 * k, **kw)
        power = simulate(n_seeds, [s["paper"]] * 4, rng_seed=100 * n_seeds + 2 * k + 1, **kw)
        out[name] = {"false": sum(null.get(v, 0.0) for v in ("holds", "opposite", "mixed")),
                     "excluded": null.get(EXCLUDED, 0.0), "power": power.get("holds", 0.0),
                     "wrongly_excluded": power.get(EXCLUDED, 0.0)}
    return out


def main() -> None:  # pragma: no cover - prints the simulation; tests/test_seed_rule.py checks the rates
    print(f"The seed-level rule, simulated ({N_SIMS:,} studies per scenario and truth; 4 light levels; Holm over "
          "levels; each rate +- its Monte-Carlo standard error)")
    for n_seeds in (3, 5):
        rates = scenario_rates(n_seeds)
        for name, r in rates.items():
            print(f"{n_seeds} seeds, {name:13s}: no effect -> holds/opposite/mixed {_pct(r['false'], N_SIMS)}, "
                  f"excluded {_pct(r['excluded'], N_SIMS)}; the paper's effect ({SCENARIOS[name]['paper']:+.3f}) -> "
                  f"holds {_pct(r['power'], N_SIMS)}, wrongly excluded {_pct(r['wrongly_excluded'], N_SIMS)}")
        n_all = N_SIMS * len(rates)
        print(f"{n_seeds} seeds, all {len(rates)} scenarios ({n_all:,} studies): no effect -> holds/opposite/mixed "
              f"{_pct(float(np.mean([r['false'] for r in rates.values()])), n_all)}; the paper's effect -> wrongly "
              f"excluded {_pct(float(np.mean([r['wrongly_excluded'] for r in rates.values()])), n_all)}")


if __name__ == "__main__":  # pragma: no cover
    main()
