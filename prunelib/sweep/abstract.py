"""The book's abstract, written from the study's results (nothing typed by hand but the question).

Five sentences, in order: the question; what was run (:func:`what_ran`); the answer (:func:`answer`, the seed-level
verdicts of the paper's light-pruning claims under global pruning); how sure (:func:`how_sure`, the rule's error
rates and power simulated on the study's own variance, read from the simulation's output file, and what rests on
one seed); why the paper saw an effect (:func:`why`, the
decomposition of the authors' training loop). Chapter 7 glues them; the landing page opens with them.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..reference import load_reference
from .seed_rule import MIN_SEEDS, TOO_FEW, WITHIN, design_power, load_power

QUESTION = ("Does pruning a network make its saliency maps sparser and more faithful, as Suwal et al. (2025) report "
            "for a ResNet-18 on ImageNette, or is the jump they see from their dense network to its pruned ones what "
            "a second training run would do anyway?")
#: the paper's light-pruning claims the answer speaks of: (claim key of the judging rule, the metric's name)
LIGHT = (("gini_light", "the Gini index"), ("aopc_light", "AOPC MoRF"))



def _dense_top1(df: pd.DataFrame) -> list[float]:
    dense = df[(df.network == "dense") & (df.metric == "top1")].drop_duplicates("seed")
    return sorted(100 * dense.value)


def what_ran(archived: pd.DataFrame, study: pd.DataFrame, authors: pd.DataFrame | None) -> str:
    """Sentence 2: the networks trained (how many seeds, at what accuracy against the paper's), the regimes, what
    was measured, and the authors' loop."""
    top1 = _dense_top1(archived) + _dense_top1(study)
    seeds = int(archived[archived.network == "dense"].seed.nunique())
    paper = 100 * load_reference()["top1"][0]
    levels = max(archived.level.max(), study.level.max())
    loop = (" and ran the authors' own training loop as written" if authors is not None and not authors.empty else "")
    return (f"The study trained ResNet-18s from scratch at 128 px on {seeds} seeds ({min(top1):.1f}-{max(top1):.1f} % "
            f"top-1 for the dense networks, against the paper's {paper:.1f} % at 224 px), pruned them by "
            f"global magnitude up to {levels:.0f} % and by lottery-ticket rounds (masks held), measured the sparsity (Gini) "
            f"and faithfulness (ROAD, AOPC) of their Vanilla-Gradient and Integrated-Gradients maps and their CRAFT "
            f"concepts{loop}.")


def answer(archived: dict[str, Any], n_seeds: int, fixed_set: dict[str, Any] | None = None) -> str:
    """Sentence 3: the verdicts of the paper's light-pruning claims under global pruning over ``n_seeds`` seeds
    (``archived``: the seed-level verdicts of protocol v1's jobs, each on its own images), grouped by what they
    say; and, where ``fixed_set`` (the verdicts on the fixed image set) judges them over seeds too, at which levels,
    and whether it says the same."""
    said = " and ".join(_said(archived))
    sentence = (f"Over {n_seeds} seeds of global pruning, the judging rule's verdict on the rise the paper reports at "
                "light pruning (10-50 % removed) ")
    judged, left_out = _seed_levels(fixed_set) if fixed_set is not None else ([], [])
    if not judged:
        return sentence + f"reads {said}."
    again = " and ".join(_said(fixed_set))
    levels = f"{judged[0]:.0f}-{judged[-1]:.0f} % removed" if len(judged) > 1 else f"{judged[0]:.0f} % removed"
    rest = f"; {listed([f'{v:.0f} %' for v in left_out])} on fewer seeds, not judged" if left_out else ""
    fixed = (f"and again on one fixed image set ({levels}{rest})" if again == said else
             f"and on one fixed image set ({levels}{rest}) {again}")
    return sentence + f"reads {said} on each job's own images, {fixed}."


def _said(verdicts: dict[str, Any]) -> list[str]:
    """The light claims' verdicts under global pruning, grouped: ``["holds for the Gini index (VG and IG)",
    ...]`` (a verdict's qualifiers, "within one run" or the levels not judged, left to the sentence)."""
    said: dict[str, list[str]] = {}
    for key, name in LIGHT:
        by_method = verdicts["claims"][key]["by_regime"]["global"]["dense"]
        words = verdicts["claims"][key].get("verdicts", {}).get("global", {}).get("dense", by_method)
        bare = {m: v.split(f" {WITHIN}")[0].split(" (")[0].split(";")[0] for m, v in words.items()}
        for verdict, methods in _grouped(bare).items():
            said.setdefault(verdict, []).append(f"{name} ({methods})")
    return [f"{word} for {' and '.join(names)}" for word, names in said.items()]


def _seed_levels(verdicts: dict[str, Any]) -> tuple[list[float], list[float]]:
    """The light levels (percent) at which global pruning's Gini claim is judged over seeds, and those shown on too
    few seeds to be judged (rule 7); both empty where the claim is judged within one run."""
    rows = [r for rows in verdicts.get("levels", {}).get("global", {}).get("dense", {}).get("gini_light", {}).values()
            for r in rows]
    if not rows or any(r.get("unit") != "seed" for r in rows):
        return [], []
    judged = sorted({r["level"] for r in rows if r["verdict"] != TOO_FEW})
    return judged, sorted({r["level"] for r in rows if r["verdict"] == TOO_FEW} - set(judged))


def _grouped(by_method: dict[str, str]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for method, verdict in by_method.items():
        out.setdefault(verdict, []).append(method)
    return {v: " and ".join(sorted(ms, key=lambda m: (m != "VG", m))) for v, ms in out.items()}


def how_sure(power: dict[str, Any], n_seeds: int, one_seed: list[str]) -> str:
    """Sentence 4: the judging rule's simulated false-positive rate (the largest over the light claims, with its
    Monte-Carlo standard error) and its power at the paper's jumps with ``n_seeds`` seeds, as the simulation's output
    file ``power`` holds them (:mod:`prunelib.sweep.power`), and what rests on one seed."""
    verbs = "rests on one seed and speaks" if len(one_seed) == 1 else "rest on one seed and speak"
    rest = f"; {' and '.join(one_seed)} {verbs} of one training run" if one_seed else ""
    rates = {(key, m): r["by_seeds"].get(str(n_seeds)) for key, _ in LIGHT
             for m, r in power.get("claims", {}).get(key, {}).items()}
    rates = {k: r for k, r in rates.items() if r is not None}
    if not rates:
        return f"The judging rule's error rates with {n_seeds} seeds are not simulated yet{rest}."
    worst = max(rates.values(), key=lambda r: r["false_positive"])
    held = ", ".join(f"{name} {m} {100 * rates[(key, m)]['power']:.0f} %" for key, name in LIGHT
                     for m in ("VG", "IG") if "power" in rates.get((key, m), {}))
    return (f"Simulated on the study's own seed-to-seed variance, the judging rule with {n_seeds} seeds calls an absent "
            f"effect present in at most {100 * worst['false_positive']:.1f} % of studies "
            f"(± {100 * worst['false_positive_se']:.1f} %) and detects the paper's jumps in {held} of them{rest}.")


def listed(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def why(parts: dict[str, Any] | None) -> str:
    """Sentence 5: what the authors' loop does to the Gini index of the VG maps against its dense network
    (``A1 - D``), what retraining the same way without pruning does (``S - D``) and, where measured, what annealing
    that retraining changes (``C1 - A1``), beside the paper's jump: over seeds with the interval where 3 or more
    seeds speak, else per seed measured, each within one run. It concludes that the jump comes with their
    retraining where every seed of ``A1 - D`` and ``S - D`` rises, and with its constant rate where, besides,
    annealing it lowers it on every seed measured; a conclusion that rests on fewer than 3 seeds says on which.
    The other contrasts are listed in the chapter, not here."""
    by = {c["contrast"]: c["metrics"].get("gini_vg") for c in (parts or {}).get("contrasts", [])}
    code, schedule = by.get("A1 - D"), by.get("S - D")
    if not code or not schedule:
        return "The authors' training loop is not yet measured against its dense network and without pruning."

    def judged(row: dict[str, Any]) -> list[dict[str, Any]]:  # the verdicts a row rests on: over seeds, or each seed's
        return [row] if row.get("unit") == "seed" else list((row.get("within_runs") or {}).values())

    def values(row: dict[str, Any]) -> str:
        if row.get("unit") == "seed":
            return (f"{row['estimate']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}] (95 % interval over "
                    f"{len(row['seeds'])} seeds)")
        runs = sorted(row["within_runs"].items())
        seeds = " and ".join(str(s) for s, _ in runs)
        return (" and ".join(f"{r['estimate']:+.3f}" for _, r in runs)
                + (f" (seeds {seeds}, each within one run)" if len(runs) > 1 else f" (seed {seeds}, within one run)"))

    both = all(r["verdict"] == "holds" for row in (code, schedule) for r in judged(row))
    annealed = by.get("C1 - A1")  # the cosine schedule in place of the constant rate: does it take the rise back?
    takes_back = bool(annealed) and all(r["verdict"] == "opposite" for r in judged(annealed))
    leaning = [row for row in (schedule, annealed if takes_back else None) if row and row.get("unit") != "seed"]
    seeds = sorted({int(s) for row in leaning for s in row.get("within_runs") or {}})
    hedge = ("" if not seeds else f"on {'one training run' if len(seeds) == 1 else f'{len(seeds)} training runs'} "
             f"(seed{'s' if len(seeds) > 1 else ''} {listed([str(s) for s in seeds])}), ")
    rate = " the constant learning rate of" if takes_back else ""
    said = (f"{hedge}the paper's jump comes with{rate} the authors' retraining, not with pruning" if both else
            "whether the jump comes with their retraining rather than with pruning is not settled")
    anneal = (f", and annealing that retraining on the cosine schedule instead changes it by {values(annealed)}"
              if annealed else "")
    return (f"Run as written, the authors' training loop (masks never held, a constant learning rate) raises the "
            f"Gini index of the VG maps over its dense network by {values(code)}, against the paper's "
            f"{code['paper_jump']:+.3f} (its dense → \"20 %\" jump); retraining their rewound dense network the same way without pruning raises "
            f"it by {values(schedule)}{anneal}: {said}.")


def abstract(*, archived_df: pd.DataFrame, archived_verdicts: dict[str, Any], study_df: pd.DataFrame,
             authors_df: pd.DataFrame | None, decomposition: dict[str, Any] | None,
             one_seed: list[str], study_verdicts: dict[str, Any] | None = None) -> list[str]:
    """The five sentences, in order (``study_verdicts``: the fixed image set's seed-level verdicts)."""
    n_seeds = int(archived_df[(archived_df.network == "dense") & (archived_df.regime == "global")].seed.nunique())
    return [QUESTION, what_ran(archived_df, study_df, authors_df), answer(archived_verdicts, n_seeds, study_verdicts),
            how_sure(load_power(), max(n_seeds, MIN_SEEDS), one_seed), why(decomposition)]


#: how the key findings word a light claim's verdict (the rule's vocabulary, :mod:`prunelib.sweep.seed_rule`)
PLAIN = {"holds": "rises as the paper reports", "opposite": "falls instead",
         "larger than the paper's": "rises by more than the paper's jump",
         "inconclusive": "is undecided", "underpowered": "is undecided"}


def key_findings(study_verdicts: dict[str, Any], decomposition: dict[str, Any] | None,
                 power: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """The landing page's three sentences (at most 70 words): what the paper claimed, what the seeds of global
    pruning on the fixed image set show (Vanilla-Gradient maps: the Gini index's bound as a share of the paper's
    jump, AOPC's verdict and its design power), and what the authors' retraining without pruning does
    (``S - D`` of the decomposition). Every number comes from the arguments."""
    gini = reference["gini"]["VG"]
    claim = (f"The paper reports that removing 10-50 % of a ResNet-18's weights makes its saliency maps sparser "
             f"(Gini index {gini[1] - gini[0]:+.3f}) and more faithful.")
    rows = study_verdicts.get("levels", {}).get("global", {}).get("dense", {})
    verdicts = study_verdicts.get("claims", {})
    seeds = sorted({n for r in rows.get("gini_light", {}).get("VG", []) for n in [r.get("n_seeds")] if n})
    if not seeds:
        return [claim, "Global pruning is not yet judged over seeds."]
    n = max(seeds)

    def said(key: str, metric: str) -> str:
        verdict = verdicts[key]["verdicts"]["global"]["dense"]["VG"].split(" (")[0].split(";")[0]
        if verdict == "smaller than the paper's":
            share = max(r["share"] for r in rows[key]["VG"] if r.get("share") is not None)
            return f"{metric} rises by at most {100 * share:.0f} % of the paper's jump"
        wording = PLAIN.get(verdict, f"is {verdict}")
        chance = design_power(power, key, "VG", n) if verdict in ("underpowered", "inconclusive") else None
        return f"{metric} {wording}" + (f" ({100 * chance:.0f} % power)" if chance is not None else "")

    seen = f"Over {n} training seeds, {said('gini_light', 'sparsity')} and {said('aopc_light', 'faithfulness')}."
    by = {c["contrast"]: c["metrics"].get("gini_vg") for c in (decomposition or {}).get("contrasts", [])}
    retrained = by.get("S - D")
    if not retrained or retrained.get("unit") != "seed":
        return [claim, seen]
    cause = (f"Retraining the authors' dense network their way without pruning moves Gini by "
             f"{retrained['estimate']:+.3f} [{retrained['low']:+.3f}, {retrained['high']:+.3f}] over "
             f"{len(retrained['seeds'])} seeds: " + ("the paper's jump comes with that retraining."
                                                   if retrained["verdict"] == "holds" else
                                                   "whether the paper's jump comes with it is undecided."))
    return [claim, seen, cause]
