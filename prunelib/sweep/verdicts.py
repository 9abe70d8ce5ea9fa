"""Verdicts that account for training noise: is a pruning effect bigger than what retraining alone does?

The rule (fixed before the runs finished, rule 2 amended after; the book's Methods state it):

1. **Within one training run** (the rule of the single-seed book): for a seed, regime and pruned level, the
   paired per-image difference ``metric(level) - metric(dense)`` on the images both networks classify correctly,
   with a bootstrap 95 % interval over those images. It *excludes zero* when the interval lies on one side of 0.
2. **The noise floor** of a metric: the largest paired difference, over the images both explain, between two
   dense networks of different seeds (all pairs), and for the lottery regime also the largest paired
   ``|control - dense|`` of a seed, the unpruned control being the dense network rewound and retrained without
   pruning. (Amended once the runs had finished: the rule as first written compared the means of each network
   over its own job's images. A job explains the images all its networks classify correctly, so two jobs
   explain different images, and their means differ by the image sample as well: the same dense network,
   measured by two jobs, moved about as much as two seeds did. ``floors`` keeps both.)
3. A level **holds beyond training noise** in a direction when every seed's within-run interval excludes zero
   on that side and the mean effect over seeds is larger than the noise floor; it is **within training noise**
   when every seed's interval excludes zero on that side but the mean effect is not larger than the floor;
   otherwise it is **inconclusive**.
4. A claim about a group of levels (light: up to 55 % removed; aggressive: 65 % and more) **holds** when some
   level holds beyond noise in the claimed direction and none holds beyond noise against it; **does not hold**
   in the mirrored case; **mixed** when both occur; else **within noise** when some level is within noise (in
   either direction), else **inconclusive**. Networks near chance are left out. With a single dense seed and no
   control there is no noise floor: the claim is then judged by rule 1 alone and said to hold (or not) **within
   one run**.
"""
from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import torch

from .. import metrics
from ..checkpoint import save_json
from .. import paths
from .seed_rule import AGGRESSIVE_MIN, CLAIMS, LIGHT_MAX, group_of, per_image  # noqa: F401
from .summary import load_runs

#: the file the sweep writes the noise-floor rule's verdicts to, beside summary.csv
VERDICTS = "verdicts.json"


def mean_value(network: dict[str, Any], stem: str, method: str) -> float | None:
    """The mean of a network's values over its images; None when it classifies none of them correctly."""
    values = list(per_image(network, stem, method).values())
    return sum(values) / len(values) if values else None


def paired(level: dict[str, Any], dense: dict[str, Any], stem: str, method: str, n_boot: int, seed: int) -> dict:
    """Mean paired difference ``level - dense`` over the images both explain, with a bootstrap 95 % interval."""
    a, b = per_image(level, stem, method), per_image(dense, stem, method)
    shared = sorted(i for i in set(a) & set(b) if math.isfinite(a[i] - b[i]))
    if not shared:  # no image both classify correctly (or only NaN): this pair cannot be judged
        return None
    ci = metrics.bootstrap_ci(torch.tensor([a[i] - b[i] for i in shared], dtype=torch.float64), n_boot=n_boot, seed=seed)
    return {"n": len(shared), "estimate": float(ci.estimate), "low": float(ci.low), "high": float(ci.high)}


def paired_distance(a: dict[str, Any], b: dict[str, Any], stem: str, method: str, n_boot: int,
                    seed: int) -> float | None:
    """``|paired difference|`` of two networks over the images both explain; None when they share no image."""
    diff = paired(a, b, stem, method, n_boot, seed)
    return None if diff is None else abs(diff["estimate"])


def dense_floor(dense: list[tuple[int, dict[str, Any]]], stem: str, method: str, n_boot: int, seed: int) -> dict:
    """How far apart dense networks are, from every measurement of a dense network (``(seed, network)``, one per
    job; a seed's network appears once per regime):

    - ``dense_seeds``: the largest ``|paired difference|`` between two networks of different seeds (rule 2);
    - ``dense_seed_means``: the largest difference between the means over each job's own images (the rule as
      first written);
    - ``same_network``: the largest difference between two jobs' means of the same network, i.e. what the image
      sample alone moves (None when no network was measured twice).

    A value is None where there is no such pair."""
    pairs = list(combinations(dense, 2))
    def means(a: dict[str, Any], b: dict[str, Any]) -> float | None:
        x, y = mean_value(a, stem, method), mean_value(b, stem, method)
        return None if x is None or y is None else abs(x - y)

    return {"dense_seeds": _largest(*(paired_distance(a, b, stem, method, n_boot, seed)
                                      for (sa, a), (sb, b) in pairs if sa != sb)),
            "dense_seed_means": _largest(*(means(a, b) for (sa, a), (sb, b) in pairs if sa != sb)),
            "same_network": _largest(*(means(a, b) for (sa, a), (sb, b) in pairs if sa == sb))}


def level_verdict(diffs: list[dict], mean_effect: float, floor: float | None) -> str:
    """``"up"``/``"down"`` beyond noise, ``"up within noise"``/``"down within noise"``, ``"up within one run"``
    (no noise floor: fewer than two dense seeds and no control) or ``"inconclusive"``."""
    if diffs and all(d["low"] > 0 for d in diffs):
        direction = "up"
    elif diffs and all(d["high"] < 0 for d in diffs):
        direction = "down"
    else:
        return "inconclusive"
    if floor is None:
        return f"{direction} within one run"
    return direction if abs(mean_effect) > floor else f"{direction} within noise"


def directions(sign: int) -> tuple[str, str]:
    """(the claimed direction, the opposite one) of a claim of direction ``sign``: ``("up", "down")`` for +1."""
    return ("up", "down") if sign > 0 else ("down", "up")


def deciding(verdict: str, sign: int) -> set[str]:
    """The level verdicts that give a claim of direction ``sign`` its ``verdict`` under rule 4 (``{"down"}`` for a
    "Gini down" claim that holds); empty for a verdict no level decides (inconclusive, within noise)."""
    right, wrong = directions(sign)
    return {"holds": {right}, "does not hold": {wrong}, "mixed": {right, wrong}}.get(verdict, set())


def claim_verdict(level_verdicts: list[str], sign: int) -> str:
    """Combine the level verdicts of a group for a claim of direction ``sign`` (rule 4)."""
    right, wrong = directions(sign)
    holds, against = right in level_verdicts, wrong in level_verdicts
    if holds and against:
        return "mixed"
    if holds:
        return "holds"
    if against:
        return "does not hold"
    if any("within noise" in v for v in level_verdicts):
        return "within noise"
    single = [v.split()[0] for v in level_verdicts if v.endswith("within one run")]
    if single:  # no noise floor: today's single-run rule, said as such
        return claim_verdict(single, sign) + " within one run"
    return "inconclusive"


def noise_verdicts(profile: str, runs: list[dict[str, Any]] | None = None, *, write: bool = True) -> dict[str, Any]:
    """Apply the rule to every finished job of ``profile``; write and return ``results/<profile>/verdicts.json``:
    ``floors``, ``levels`` and ``claims`` under the rule, and the same three under ``as_first_written`` (rule 2's
    floor from each network's mean over its own job's images), so that the amendment can be seen to change."""
    runs = load_runs(profile) if runs is None else runs
    unjudged: list[str] = []
    if not runs:
        raise FileNotFoundError(f"no finished jobs for profile {profile!r}")
    methods = [m for m in runs[0]["settings"]["methods"] if m != "random"]
    metrics = {f"{stem}_{m.lower()}": (stem, m) for stem in sorted({c[1] for c in CLAIMS}) for m in methods}
    dense = {(r["regime"], r["seed"]): next(n for n in r["networks"] if n["network"] == "dense") for r in runs}
    measured = [(seed, net) for (_, seed), net in sorted(dense.items(), key=lambda kv: kv[0][1])]
    n_boot, image_seed = runs[0]["settings"]["n_bootstrap"], runs[0]["settings"]["image_seed"]
    spreads = {metric: dense_floor(measured, stem, method, n_boot, image_seed) for metric, (stem, method) in metrics.items()}
    floors: dict[str, dict[str, dict]] = {}
    effects: dict[str, dict[str, list[dict]]] = {}
    for regime in sorted({r["regime"] for r in runs}):
        regime_runs = [r for r in runs if r["regime"] == regime]
        for metric, (stem, method) in metrics.items():
            control = _largest(*(paired_distance(n, dense[(regime, r["seed"])], stem, method, n_boot, image_seed)
                                 for r in regime_runs for n in r["networks"] if n["network"] == "control"))
            floors.setdefault(regime, {})[metric] = {**spreads[metric], "control": control,
                                                     "floor": _largest(spreads[metric]["dense_seeds"], control),
                                                     "n_dense_seeds": len({s for s, _ in measured})}
            effects.setdefault(regime, {})[metric] = level_effects(regime_runs, dense, stem, method, unjudged)
    first = {regime: {metric: {**f, "floor": _largest(f["dense_seed_means"], f["control"])} for metric, f in by.items()}
             for regime, by in floors.items()}
    out = {"profile": profile, "rule": __doc__.split("\n\n", 1)[1].strip(), "unjudged": sorted(set(unjudged)),
           **judge(effects, floors, methods), "as_first_written": judge(effects, first, methods)}
    if write:
        save_json(out, paths.results_dir(profile) / VERDICTS)
    return out


def _largest(*values: float | None) -> float | None:
    """The largest of the known values; None when none is known (one seed and no control: no floor to judge by)."""
    return max((v for v in values if v is not None), default=None)


def level_effects(regime_runs: list[dict[str, Any]], dense: dict[tuple[str, int], dict], stem: str,
                  method: str, unjudged: list[str] | None = None) -> list[dict[str, Any]]:
    """Rule 1 for every pruned level (networks near chance left out): ``{"level", "group", "seeds": {seed: paired
    difference from that job's dense network}, "mean_effect"}``; ``dense`` maps (regime, seed) to it. A network that
    shares no correctly classified image with its dense network is not judged: ``unjudged`` receives it."""
    rows = []
    unjudged = [] if unjudged is None else unjudged
    levels = sorted({round(n["level"], 1) for r in regime_runs for n in r["networks"]
                     if n["network"] == "pruned" and not n["near_chance"]})
    for level in levels:
        diffs = {}
        for r in regime_runs:
            net = next((n for n in r["networks"] if n["network"] == "pruned"
                        and round(n["level"], 1) == level and not n["near_chance"]), None)
            diff = None if net is None else paired(net, dense[(r["regime"], r["seed"])], stem, method,
                                                   r["settings"]["n_bootstrap"], r["settings"]["image_seed"])
            if diff is not None:
                diffs[r["seed"]] = diff
            elif net is not None:
                unjudged.append(f"{r['regime']} seed {r['seed']} at {level:g} %: no image it and its dense "
                                "network both classify correctly")
        if diffs:
            rows.append({"level": level, "group": group_of(level), "seeds": diffs,
                         "mean_effect": sum(d["estimate"] for d in diffs.values()) / len(diffs)})
    return rows


def judge(effects: dict[str, dict[str, list[dict]]], floors: dict[str, dict[str, dict]],
          methods: list[str]) -> dict[str, Any]:
    """Rules 3 and 4: each level's verdict against ``floors[regime][metric]["floor"]``, then each claim's;
    ``{"floors", "levels", "claims"}``. ``effects[regime][metric]`` are :func:`level_effects`' rows."""
    levels = {regime: {metric: [{**row, "verdict": level_verdict(list(row["seeds"].values()), row["mean_effect"],
                                                                 floors[regime][metric]["floor"])} for row in rows]
                       for metric, rows in by_metric.items()} for regime, by_metric in effects.items()}
    claims: dict[str, Any] = {}
    for key, stem, sign, group, sentence in CLAIMS:
        claims[key] = {"sentence": sentence, "by_regime": {
            regime: {method: claim_verdict([row["verdict"] for row in by_metric[f"{stem}_{method.lower()}"]
                                            if row["group"] == group], sign) for method in methods}
            for regime, by_metric in levels.items()}}
    return {"floors": floors, "levels": levels, "claims": claims}
