"""The judging rule's error rates and power, simulated on the study's own variance (``python -m
prunelib.sweep.power``).

**The variance components.** For one claim and saliency method, the measured per-seed paired effects of global
pruning on the fixed image set, ``d[s, l]`` for seed ``s`` and level ``l`` of the claim's group, are modelled as

    d[s, l] = mu[l] + a[s] + b[s, l] + e[s, l]

with ``a`` common to a seed's levels (sd ``seed_sd``: the reference network's own deviation, shared by every level
pruned from it), ``b`` specific to a level of a seed (sd ``level_sd``) and ``e`` the image sample's noise (sd
``image_sd / sqrt(n_images)``, ``image_sd`` the pooled sd of the per-image paired differences). The estimates are
the two-way analysis of variance without replication (method of moments, negative components set to 0): the
seeds' mean square ``MS_seed`` estimates ``L seed_sd**2 + level_sd**2 + image_sd**2 / n``, the residual one
``MS_res`` estimates ``level_sd**2 + image_sd**2 / n``.

**The simulation.** Each simulated study draws ``S`` seeds' effects at the claim's levels from that model with
``mu`` zero (no effect) or the paper's jump at each level (the paper's jumps differ by level; a level without one
has none), applies rules 2-6 of :mod:`prunelib.sweep.seed_rule` (the same code, vectorised over studies) and
records the claim's verdict. The false-positive rate is the share of studies under no effect that assert one
(*holds*, *opposite* or *larger than the paper's*); the power is the share of studies under the paper's jumps that
come out *holds*; each with its Monte-Carlo standard error ``sqrt(r (1 - r) / n)``. The output file
(``results/noise/seed_rule_power.json``) is what the book quotes and what rule 5's *underpowered* reads.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..runs import first_network
from .seed_rule import (CLAIMS, HOLDS, LARGER, OPPOSITE, POWER_FILE, SMALLER, claim_arrays, group_of,
                        judge_arrays, measured, paired, paper_jumps, seed_moments)

#: studies per claim, method, truth and number of seeds in the printed simulation
N_SIMS = 20_000
SEEDS = tuple(range(3, 11))
#: the numbers of seeds the printed report and the book's table show (the file holds every one of SEEDS, which
#: rule 5 reads for the number of seeds a claim has)
SHOWN = (3, 5, 10)
METHODS = ("VG", "IG")


def components(effects: np.ndarray, image_var: np.ndarray) -> dict[str, float]:
    """Variance components of per-seed effects ``effects`` (S, L) whose sampling variances (the per-image paired
    differences' variance over the number of images) are ``image_var`` (S, L): ``{"seed_sd", "level_sd",
    "sampling_sd"}`` (module docstring; S >= 2 and L >= 2)."""
    S, L = effects.shape
    if S < 2 or L < 2:
        raise ValueError(f"variance components need at least 2 seeds and 2 levels, got {S} x {L}")
    seed_means, level_means, grand = effects.mean(1), effects.mean(0), effects.mean()
    ms_seed = L * ((seed_means - grand) ** 2).sum() / (S - 1)
    resid = effects - seed_means[:, None] - level_means[None, :] + grand
    ms_res = (resid ** 2).sum() / ((S - 1) * (L - 1))
    sampling = float(image_var.mean())
    return {"seed_sd": math.sqrt(max(0.0, (ms_seed - ms_res) / L)),
            "level_sd": math.sqrt(max(0.0, ms_res - sampling)), "sampling_sd": math.sqrt(sampling)}


def simulate(n_seeds: int, means: Sequence[float], *, seed_sd: float, level_sd: float, sampling_sd: float,
             sign: int, jumps: Sequence[float | None], n_sims: int, rng_seed: int = 0) -> dict[str, float]:
    """The share of each claim verdict of ``n_sims`` simulated studies of ``n_seeds`` seeds whose true effect at
    level ``l`` is ``means[l]`` (module docstring); the rule judges each against the paper's ``jumps``."""
    rng = np.random.default_rng(rng_seed)
    L = len(means)
    d = (np.asarray(means, dtype=float)[None, :, None] + rng.normal(0, seed_sd, (n_sims, 1, n_seeds))
         + rng.normal(0, math.sqrt(level_sd ** 2 + sampling_sd ** 2), (n_sims, L, n_seeds)))
    levels = judge_arrays(*seed_moments(d), sign, jumps)["verdict"]
    toward = [j is not None and sign * j > 0 for j in jumps]
    names, counts = np.unique(claim_arrays(levels, toward), return_counts=True)
    return {str(k): int(c) / n_sims for k, c in zip(names, counts)}


def mc_se(rate: float, n: int) -> float:
    """The Monte-Carlo (binomial) standard error ``sqrt(rate (1 - rate) / n)`` of a share of ``n`` studies."""
    return math.sqrt(rate * (1 - rate) / n)


def measured_effects(runs: list[dict[str, Any]], stem: str, method: str, group: str
                     ) -> tuple[list[float], np.ndarray, np.ndarray, list[int]]:
    """Levels (percent), per-seed effects (S, L) and their sampling variances (S, L), and seeds, of global pruning
    against the dense network: the levels of ``group`` measured on 2 seeds or more (near chance left out), on the
    seeds that measured them all (a seed stopped early drops out of a group it did not finish)."""
    from .seed_rule import ALL_IMAGES_GROUPS
    cells: dict[int, dict[float, tuple[float, float]]] = {}
    for run in (r for r in runs if r["regime"] == "global"):
        dense = first_network(run["networks"], "dense")
        if dense is None:
            continue
        for net in run["networks"]:
            level = round(100 * net["target"], 3)
            if (net["network"] != "pruned" or group_of(level) != group or net.get("near_chance")
                    or not measured(net, stem, method)):
                continue
            values = np.array(paired(net, dense, stem, method, group in ALL_IMAGES_GROUPS)[0])
            cells.setdefault(run["seed"], {})[level] = (values.mean(), values.var(ddof=1) / len(values))
    counts: dict[float, int] = {}
    for c in cells.values():
        for level in c:
            counts[level] = counts.get(level, 0) + 1
    levels = sorted(lv for lv, n in counts.items() if n >= 2)  # a level on one seed says nothing of seed variance
    seeds = sorted(s for s, c in cells.items() if set(levels) <= set(c))
    effects = np.array([[cells[s][lv][0] for lv in levels] for s in seeds])
    sampling = np.array([[cells[s][lv][1] for lv in levels] for s in seeds])
    return levels, effects, sampling, seeds


def calibrated(runs: list[dict[str, Any]], reference: dict[str, Any], *, n_sims: int = N_SIMS,
               seeds: Sequence[int] = SEEDS, rng_seed: int = 0) -> dict[str, Any]:
    """Every claim of :data:`prunelib.sweep.seed_rule.CLAIMS` x saliency method: its variance components, the
    paper's jumps at its levels, and per number of seeds the false-positive rate and the power with their Monte-Carlo
    standard errors (module docstring). ``runs``: the noise profile's jobs on the fixed image set."""
    jumps = paper_jumps(reference)
    out: dict[str, Any] = {"n_sims": n_sims, "seeds": list(seeds), "claims": {}}
    for c, (key, stem, sign, group, _) in enumerate(CLAIMS):
        for m, method in enumerate(METHODS):
            levels, effects, sampling, used = measured_effects(runs, stem, method, group)
            if len(used) < 2 or len(levels) < 2:
                continue
            comp = components(effects, sampling)
            paper = [jumps.get((stem, method, round(lv))) for lv in levels]
            row: dict[str, Any] = {**comp, "levels": levels, "measured_seeds": used, "sign": sign,
                                   "paper_jumps": paper, "by_seeds": {}}
            for n in seeds:
                kw = {k: comp[k] for k in ("seed_sd", "level_sd", "sampling_sd")}
                base = rng_seed + 1000 * n + 10 * (len(METHODS) * c + m)
                null = simulate(n, [0.0] * len(levels), sign=sign, jumps=paper, n_sims=n_sims, rng_seed=base,
                                **kw)
                truth = simulate(n, [j or 0.0 for j in paper], sign=sign, jumps=paper, n_sims=n_sims,
                                 rng_seed=base + 1, **kw)
                fpr, larger = null.get(HOLDS, 0.0) + null.get(OPPOSITE, 0.0), null.get(LARGER, 0.0)
                rates = {"false_positive": fpr, "false_positive_se": mc_se(fpr, n_sims),
                         "larger_under_no_effect": larger, "larger_under_no_effect_se": mc_se(larger, n_sims)}
                if any(j is not None and sign * j > 0 for j in paper):  # where some paper jump is the claim's
                    held, smaller = truth.get(HOLDS, 0.0), truth.get(SMALLER, 0.0)
                    rates.update(power=held, power_se=mc_se(held, n_sims), wrongly_smaller=smaller,
                                 wrongly_smaller_se=mc_se(smaller, n_sims))
                row["by_seeds"][str(n)] = rates
            out["claims"].setdefault(key, {})[method] = row
    return out


def _shown(result: dict[str, Any]) -> list[int]:
    """The numbers of seeds of :data:`SHOWN` that ``result`` simulated, or all it simulated where none is."""
    return [n for n in SHOWN if n in result["seeds"]] or list(result["seeds"])


def _pct(rate: float, se: float) -> str:
    return f"{100 * rate:5.1f} ± {100 * se:.1f} %"


def report(result: dict[str, Any]) -> str:
    """The simulation's output as text: components, then the rates per claim x method x number of seeds."""
    lines = [f"The judging rule simulated on the study's variance ({result['n_sims']:,} studies per claim, method, "
             "truth and number of seeds; each rate ± its Monte-Carlo standard error)", "",
             "variance components (sd): seed (common to a seed's levels), level (seed x level), sampling "
             "(image sample, per seed effect)"]
    for key, by in result["claims"].items():
        for method, r in by.items():
            jumps = ", ".join("-" if j is None else f"{j:+.3f}" for j in r["paper_jumps"])
            lines.append(f"  {key:16s} {method}: seed {r['seed_sd']:.4f}  level {r['level_sd']:.4f}  sampling "
                         f"{r['sampling_sd']:.4f}  (levels {', '.join(f'{lv:g}' for lv in r['levels'])} %; "
                         f"paper's jumps {jumps}; seeds {r['measured_seeds']})")
    lines += ["", "claim x method, seeds: under no effect, holds or opposite (false positives) | larger than the "
              "paper's || at the paper's jumps, holds (power) | smaller than the paper's (wrongly)"]
    for key, by in result["claims"].items():
        for method, r in by.items():
            for n, s in ((n, r["by_seeds"][str(n)]) for n in _shown(result)):
                at_jumps = (f"{_pct(s['power'], s['power_se'])} | {_pct(s['wrongly_smaller'], s['wrongly_smaller_se'])}"
                            if "power" in s else "no jump of the paper's in the claimed direction")
                lines.append(f"  {key:16s} {method} {int(n):2d} seeds: "
                             f"{_pct(s['false_positive'], s['false_positive_se'])} | "
                             f"{_pct(s['larger_under_no_effect'], s['larger_under_no_effect_se'])} || {at_jumps}")
    return "\n".join(lines)


#: the simulation's output as the book's Methods page includes it, beside the JSON
POWER_TABLE = "seed_rule_power.md"
NAMES = {"gini_light": "Gini up, light", "aopc_light": "AOPC MoRF up, light", "gap_light": "AOPC MoRF - LeRF up, light",
         "gini_aggressive": "Gini down, aggressive (all images)"}


def markdown(result: dict[str, Any]) -> str:
    """The simulation's output as two Markdown tables (variance components; rates with their Monte-Carlo standard
    errors), every number rounded once from the raw values of ``result``."""
    seeds = _shown(result)
    lines = ["| claim | method | levels (%) | paper's jumps | seed sd | level sd | sampling sd |",
             "|---|---|---|---|---|---|---|"]
    for key, by in result["claims"].items():
        for method, r in by.items():
            jumps = ", ".join("–" if j is None else f"{j:+.3f}" for j in r["paper_jumps"])
            lines.append(f"| {NAMES.get(key, key)} | {method} | {', '.join(f'{lv:g}' for lv in r['levels'])} | "
                         f"{jumps} | {r['seed_sd']:.4f} | {r['level_sd']:.4f} | {r['sampling_sd']:.4f} |")
    lines += ["", "| claim | method | " + " | ".join(f"{n} seeds: false positives | {n} seeds: power" for n in seeds)
              + " |", "|---|---|" + "---|---|" * len(seeds)]
    for key, by in result["claims"].items():
        for method, r in by.items():
            cells = []
            for n in seeds:
                s = r["by_seeds"][str(n)]
                cells += [_pct(s["false_positive"], s["false_positive_se"]).strip(),
                          _pct(s["power"], s["power_se"]).strip() if "power" in s else "–"]
            lines.append(f"| {NAMES.get(key, key)} | {method} | " + " | ".join(cells) + " |")
    lines += ["", f"{result['n_sims']:,} simulated studies per claim, method, truth and number of seeds; each rate "
              "± its Monte-Carlo standard error. Power: the share of studies with the paper's jump at each level that "
              "come out *holds*; – where the paper reports no jump in the claimed direction. Written by "
              "`python -m prunelib.sweep.power` from the noise profile's fixed-set jobs."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - reads the study's files; tests call calibrated
    from .. import paths
    from ..reference import load_reference
    parser = argparse.ArgumentParser(prog="python -m prunelib.sweep.power", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="noise", help="the profile whose fixed-set jobs calibrate it")
    parser.add_argument("--n-sims", type=int, default=N_SIMS, help="studies per claim, method, truth and seeds")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="numbers of seeds, comma-separated")
    parser.add_argument("--rng-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help=f"where to write the JSON (default results/<profile>/{POWER_FILE}, with {POWER_TABLE} beside it; "
                             "'-': nowhere)")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.n_sims < 1 or not seeds or min(seeds) < 2:
        parser.error("--n-sims must be >= 1 and every --seeds value >= 2")
    folder = paths.results_dir(args.profile)
    files = sorted((folder / "runs").glob("global-seed*.json"))
    if not files:
        parser.error(f"no global pruning jobs in {folder / 'runs'}")
    runs = [json.loads(f.read_text()) for f in files]
    result = calibrated(runs, load_reference(), n_sims=args.n_sims, seeds=seeds, rng_seed=args.rng_seed)
    result["calibrated_on"] = [str(f.relative_to(folder.parent.parent)) for f in files]
    print(report(result))
    if str(args.out) != "-":
        from ..checkpoint import save_json
        out = args.out or folder / POWER_FILE
        save_json(result, out)
        out.with_name(POWER_TABLE).write_text(markdown(result))
        print(f"\nwritten: {out} and {out.with_name(POWER_TABLE).name}")


if __name__ == "__main__":  # pragma: no cover
    main()
