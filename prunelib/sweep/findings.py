"""The noise study's findings in words, written from its table and verdicts (nothing typed by hand).

:func:`findings` returns sentences for the chapter "Is it noise?" and the book's landing page: how many dense seeds
and how accurate they are, how far apart the dense seeds are beside the paper's jump from dense to 10 %, each claim's
verdict under each regime, and which jobs have not finished.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..reference import load_reference
from ..saliency import in_order

#: the paper's series whose jump from dense to 10 % is set beside our seed-to-seed spread: key -> (our metric
#: stem, label); every saliency method the paper reports for it
JUMPS = {"gini": ("gini", "Gini"), "aopc": ("aopc_morf", "AOPC (MoRF)")}


def dense_accuracy(df: pd.DataFrame) -> str:
    """``"3 dense seeds: 84.5, 84.9, 85.1 % top-1 (paper: 84.2 %)"``."""
    dense = df[(df.network == "dense") & (df.metric == "top1")].drop_duplicates("seed").sort_values("seed")
    paper = load_reference()["top1"][0]
    values = ", ".join(f"{100 * v:.1f}" for v in dense.value)
    return (f"{len(dense)} dense network{'s' if len(dense) != 1 else ''} of different seeds: {values} % top-1 "
            f"(the paper's: {100 * paper:.1f} %).")


def spread_vs_jump(verdicts: dict[str, Any]) -> list[str]:
    """Per series of :data:`JUMPS` and method: the largest paired difference between dense seeds (the noise
    floor's, :func:`prunelib.sweep.verdicts.dense_floor`) beside the paper's dense -> 10 % jump."""
    reference = load_reference()
    floors = verdicts.get("floors", {}).get("global", {})
    out = []
    for key, (stem, label) in JUMPS.items():
        for method in in_order(reference[key]):
            floor = floors.get(f"{stem}_{method.lower()}", {})
            spread = floor.get("dense_seeds")
            if spread is None:  # fewer than two dense seeds: no spread to compare
                continue
            jump = reference[key][method][1] - reference[key][method][0]
            ratio = f"{abs(jump) / spread:.1f} times" if spread > 0 else "infinitely"
            out.append(f"{label} {method}: dense networks of {floor['n_dense_seeds']} seeds differ by up to "
                       f"{spread:.3f} on the images both explain; the paper's jump from dense to 10 % is {jump:+.3f}, "
                       f"{ratio} that spread.")
    return out


def judged(verdicts: dict[str, Any]) -> list[tuple[str, dict[str, dict[str, str]]]]:
    """Per claim, in the order of :data:`prunelib.sweep.verdicts.CLAIMS`: its sentence and ``{regime: {method:
    verdict}}``; a verdict that holds (or does not) says at which levels, and on how many seeds where some are
    missing there (near chance, so left out): ``"holds (at 98 % on 1 of 3 seeds; ...)"``."""
    from .verdicts import CLAIMS
    out = []
    for key, stem, sign, group, _ in (c for c in CLAIMS if c[0] in verdicts["claims"]):
        claim, cells = verdicts["claims"][key], {}
        for regime, by_method in claim["by_regime"].items():
            for method in in_order(by_method):
                levels = verdicts.get("levels", {}).get(regime, {}).get(f"{stem}_{method.lower()}", [])
                where = decided_at(levels, by_method[method], sign, group)
                cells.setdefault(regime, {})[method] = by_method[method] + (f" ({where})" if where else "")
        out.append((claim["sentence"], cells))
    return out


def claim_verdicts(verdicts: dict[str, Any]) -> list[str]:
    """One sentence per claim: its verdict under each regime and method (:func:`judged`)."""
    return [f"{sentence.rstrip('.')}: " + "; ".join(f"{regime}: " + ", ".join(f"{m} {v}" for m, v in by_method.items())
                                                   for regime, by_method in cells.items()) + "."
            for sentence, cells in judged(verdicts)]


def decided_at(levels: list[dict[str, Any]], verdict: str, sign: int, group: str) -> str:
    """The levels of ``group`` that decide a claim's ``verdict`` (rule 4 of :mod:`prunelib.sweep.verdicts`), each
    with its seeds when fewer than the most measured at any level: ``"at 98 % on 1 of 3 seeds; the others are
    near chance there"``. Empty for a verdict that no single level decides (inconclusive, within noise)."""
    from .verdicts import deciding
    decide = deciding(verdict, sign)
    if not decide or not levels:
        return ""
    n = max(len(level["seeds"]) for level in levels)
    found = [level for level in levels if level["group"] == group and level["verdict"] in decide]
    if all(len(level["seeds"]) == n for level in found):
        at = "at " + ", ".join(f"{level['level']:.0f}" for level in found) + " %"
        return f"{at}, every seed" if n > 1 else at
    on = ", ".join(f"{level['level']:.0f} % on {len(level['seeds'])} of {n} seeds" for level in found)
    return f"at {on}; the others are near chance there"


def pending(df: pd.DataFrame, seeds: tuple[int, ...], regimes: tuple[str, ...], lottery_seeds: tuple[int, ...]) -> str | None:
    """Which of the planned jobs (``seeds`` x global, ``lottery_seeds`` x lottery) have no results yet."""
    done = set(zip(df.regime, df.seed))
    missing = [f"{r} seed {s}" for r in regimes for s in (seeds if r == "global" else lottery_seeds)
               if (r, s) not in done]
    return f"Not finished yet: {', '.join(missing)}." if missing else None


def findings(df: pd.DataFrame, verdicts: dict[str, Any], *, seeds: tuple[int, ...] = (0, 1, 2),
             lottery_seeds: tuple[int, ...] = (0,)) -> list[str]:
    """Every sentence, in reading order (the planned jobs: ``seeds`` in the global regime, ``lottery_seeds`` in the
    lottery regime, as the issue asks)."""
    out = [dense_accuracy(df), *spread_vs_jump(verdicts), *claim_verdicts(verdicts)]
    left = pending(df, seeds, ("global", "lottery"), lottery_seeds)
    return out + ([left] if left else [])
