"""The judging rule: one verdict for every effect the study judges, on every page (measurement protocol v2).

1. **The effect within one run.** For a seed, a regime and a pruned level, the paired effect is the mean over the
   images of the fixed set that both the level's network and its reference classify correctly of
   ``metric(level) - metric(reference)``. The reference is the dense network of the same seed, and also the seed's
   unpruned control where the regime has one: under the lottery regime the initial weights retrained with nothing
   pruned; under global pruning the dense network given one level's fine-tuning with nothing removed (a job of its
   own, used only where it was fine-tuned from the dense network the levels were pruned from). Both are reported.
   The control's own effect against the dense network (what the extra training does with nothing removed) is
   judged for each light claim by the same rules, a family of one, compared with the paper's jump at its first
   level (dense -> 10 %) and the claim's design power: *smaller than the paper's* says the extra training alone
   does not make a jump of the paper's size. Networks near chance are measured but never judged (*not judged*).
2. **Across seeds.** With S >= 3 seeds, each seed's effect is one draw of a random effect: the level's estimate is
   their mean, with the two-sided p-value of the one-sample t-test on S - 1 degrees of freedom, its 95 % t-interval
   and its 90 % t-interval (scipy).
3. **One multiplicity family per claim.** A claim's family is its levels (light: up to 55 % removed; aggressive:
   65 % and more) for one regime, reference and saliency method; a contrast of the decomposition's family is its
   metrics. The p-values of a family are corrected by Holm's step-down procedure at alpha = 0.05.
4. **The bound.** The 90 % interval is two one-sided tests at 5 %: every effect beyond its end in the claimed
   direction is excluded. That end is the level's *bound*, reported in the metric's units and, where the paper's
   jump lies in the claimed direction, as a share of it ("effects above 6 % of the paper's jump excluded").
5. **A level's verdict**, the first that applies: *holds* (Holm-adjusted p below 0.05, estimate in the claimed
   direction); *opposite* (in the other); *larger than the paper's* (the 90 % interval lies beyond the paper's
   jump); *smaller than the paper's* (the bound lies below the paper's jump); *underpowered* (the design's power to
   detect the paper's jumps, :mod:`prunelib.sweep.power`, is below 80 %, and nothing of the paper's size is
   excluded); else *inconclusive*.
6. **A claim's verdict** over its levels: *holds* or *opposite* when some level does and none goes the other way
   (both: *inconclusive*, naming them); else *smaller than the paper's* when every level with a paper jump in the
   claimed direction is; else *larger than the paper's* when some level is; else *underpowered* or *inconclusive*.
7. **Within one run.** With fewer than 3 seeds the same rule is applied with the image as the unit: per seed, the
   mean paired difference with a class-clustered standard error (statsmodels OLS, ``cov_type="cluster"`` on the
   image's class, t on G - 1 degrees of freedom); a verdict holds *within one run* when every seed gives it, and
   always says so.
8. **Too few seeds.** A level measured on fewer than 3 seeds within a claim judged over 3 or more is shown with its
   seeds' mean and *not judged*; Holm's correction and the claim's verdict are over the levels judged, and the
   claim names the levels left out.
9. **Selection.** Every level records, per seed, the share of the images its reference classifies correctly that
   drop out of the paired set (the level's network misclassifies them) and the effect over all images of the fixed
   set (each network on every image, correct or not) beside the paired one; where more than 5 % drop out, both are
   shown. An aggressive claim is judged on the all-images effect at every level.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from scipy import stats

from ..measure.faithfulness import per_image_aopc, per_image_gap
from ..image_set import kept
from ..runs import first_network

ALPHA = 0.05
MIN_SEEDS = 3
#: the design power below which a claim nothing excludes is *underpowered* (rule 5)
POWER_WANTED = 0.80
#: more images than this share out of a level's paired set: the all-images effect is reported beside it (rule 9)
DROP_OUT = 0.05
HOLDS, OPPOSITE, LARGER, SMALLER = "holds", "opposite", "larger than the paper's", "smaller than the paper's"
UNDERPOWERED, INCONCLUSIVE, NOT_JUDGED = "underpowered", "inconclusive", "not judged"
#: every verdict word of the rule, in the order rule 5 tries them, and the word of what it cannot judge
VERDICTS = (HOLDS, OPPOSITE, LARGER, SMALLER, UNDERPOWERED, INCONCLUSIVE)
#: a level's verdict where it is measured on fewer than MIN_SEEDS seeds of a claim judged over seeds (rule 8)
TOO_FEW = f"{NOT_JUDGED} (fewer than {MIN_SEEDS} seeds)"
WITHIN = "within one run"
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
#: the claims judged from other measurements than the per-image metrics: (key, sentence)
CONCEPTS_CLAIM = ("concepts_aggressive", "Aggressive pruning lowers concept coherence (CRAFT, mean coherence of a "
                  "class's concepts)")
AGREEMENT_CLAIM = ("agreement", "Pruning moves the saliency maps away from the dense network's by more than a second "
                   "training run does (Spearman rank correlation)")
#: every row of the table of claims, in order: (key, sentence)
CLAIM_ROWS = tuple((key, sentence) for key, *_, sentence in CLAIMS) + (CONCEPTS_CLAIM, AGREEMENT_CLAIM)
#: the claims judged over all images of the fixed set rather than the paired set (rule 9)
ALL_IMAGES_GROUPS = ("aggressive",)
#: the paper's label of a round-based network: their code's round 1 is its "20 %", round 2 its "30 %"
ROUND_LABELS = {0.2: 20, 0.36: 30}


def group_of(level: float) -> str | None:
    """``"light"`` (0 < level <= 55 %), ``"aggressive"`` (>= 65 %) or None; ``level`` in percent."""
    return "light" if 0 < level <= LIGHT_MAX else "aggressive" if level >= AGGRESSIVE_MIN else None


# ------------------------------------------------------------------------------------------ the rule, vectorised
def seed_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard error and degrees of freedom of the last axis of ``x`` (..., S): the seed-level unit."""
    n = x.shape[-1]
    return x.mean(-1), x.std(-1, ddof=1) / math.sqrt(n), np.full(x.shape[:-1], n - 1.0)


def holm_rows(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values of each row of ``p`` (R, m): the step-down ``max_{j<=k} (m - j) p_(j)``, capped at 1
    (what ``statsmodels.stats.multitest.multipletests(method="holm")`` returns, row by row; that function runs
    ``gc.collect()`` on every call, too slow for the simulations)."""
    m = p.shape[-1]
    order = np.argsort(p, axis=-1)
    ranked = np.take_along_axis(p, order, -1) * (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(ranked, axis=-1), 1.0)
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, -1)
    return out


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values (None stays None): :func:`holm_rows` on the known ones."""
    known = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    if known:
        adjusted = holm_rows(np.array([[p_values[i] for i in known]], dtype=float))[0]
        for i, p in zip(known, adjusted):
            out[i] = float(p)
    return out


def judge_arrays(estimate: np.ndarray, se: np.ndarray, df: np.ndarray, sign: int, jumps: Sequence[float | None],
                 power: float | None = None) -> dict[str, np.ndarray]:
    """Rules 2-5 for R families of L levels at once: ``estimate``, ``se``, ``df`` (R, L); ``jumps`` (L,) the
    paper's jump per level (None: none); ``power`` the design's power at the paper's jumps (None: unknown).

    Returns arrays (R, L): ``p``, ``p_holm``, ``low``/``high`` (95 %), ``low90``/``high90``, ``bound`` (the 90 %
    end in the claimed direction), ``share`` (bound / jump where the jump lies in the claimed direction, else nan)
    and ``verdict`` (strings of :data:`VERDICTS`)."""
    est, se, df = (np.asarray(a, dtype=float) for a in (estimate, se, df))
    jump = np.array([np.nan if j is None else j for j in jumps], dtype=float)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, np.abs(est) / np.where(se > 0, se, 1.0), np.where(est != 0, np.inf, 0.0))
    p = 2 * stats.t.sf(t, df)
    half95, half90 = stats.t.ppf(1 - ALPHA / 2, df) * se, stats.t.ppf(1 - ALPHA, df) * se
    low90, high90 = est - half90, est + half90
    toward = sign * jump > 0  # the paper's jump lies in the claimed direction
    near, far = np.minimum(sign * low90, sign * high90), np.maximum(sign * low90, sign * high90)
    bound = sign * far
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(toward, bound / np.where(toward, jump, 1.0), np.nan)
    significant = holm_rows(p) < ALPHA
    larger = toward & (near > sign * jump)
    smaller = toward & (far < sign * jump)
    weak = power is not None and power < POWER_WANTED
    verdict = np.select(
        [significant & (sign * est > 0), significant & (sign * est < 0), larger, smaller,
         np.full(est.shape, weak)],
        [HOLDS, OPPOSITE, LARGER, SMALLER, UNDERPOWERED], INCONCLUSIVE)
    return {"p": p, "p_holm": holm_rows(p), "low": est - half95, "high": est + half95, "low90": low90,
            "high90": high90, "bound": bound, "share": share, "verdict": verdict}


def claim_arrays(level_verdicts: np.ndarray, toward: Sequence[bool], power: float | None = None) -> np.ndarray:
    """Rule 6 for R families at once: ``level_verdicts`` (R, L) -> (R,) claim verdicts; ``toward`` (L,): whether the
    paper's jump at a level lies in the claimed direction."""
    v = np.asarray(level_verdicts)
    holds, opposite = (v == HOLDS).any(-1), (v == OPPOSITE).any(-1)
    toward = np.asarray(toward, dtype=bool)
    smaller = toward.any() & ((v == SMALLER) | ~toward[None, :]).all(-1)
    weak = power is not None and power < POWER_WANTED
    return np.select([holds & ~opposite, opposite & ~holds, holds & opposite, smaller, (v == LARGER).any(-1),
                      np.full(holds.shape, weak)],
                     [HOLDS, OPPOSITE, INCONCLUSIVE, SMALLER, LARGER, UNDERPOWERED], INCONCLUSIVE)


# ----------------------------------------------------------------------------------------- the rule, one family
def interval(values: Sequence[float]) -> dict[str, float | int | None]:
    """Mean, 95 % t-interval (n - 1 degrees of freedom) and two-sided one-sample t-test p-value of ``values``."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return {"n": len(x), "estimate": float(x.mean()) if len(x) else None, "low": None, "high": None, "p": None}
    out = judge_arrays(*(a[None, None] for a in seed_moments(x)), +1, [None])
    return {"n": len(x), "estimate": float(x.mean()), "low": float(out["low"][0, 0]),
            "high": float(out["high"][0, 0]), "p": float(out["p"][0, 0])}


def clustered_moments(values: Sequence[float], classes: Sequence[int] | None) -> tuple[float, float, float]:
    """Mean, standard error and degrees of freedom of per-image ``values`` within one run: the class-clustered
    standard error of an intercept-only OLS (statsmodels, ``cov_type="cluster"``, t on G - 1 degrees of freedom),
    or with ``classes`` None (images of unknown class) the ordinary one on n - 1."""
    import statsmodels.api as sm
    y = np.asarray(values, dtype=float)
    if len(y) < 2:  # no spread to estimate: no interval (as numpy's would be, without its warning)
        return (float(y[0]) if len(y) else math.nan), math.nan, 0.0
    if classes is None or len(set(classes)) < 2:
        return float(y.mean()), float(y.std(ddof=1) / math.sqrt(len(y))), float(len(y) - 1)
    fit = sm.OLS(y, np.ones((len(y), 1))).fit(cov_type="cluster", cov_kwds={"groups": np.asarray(classes)})
    return float(fit.params[0]), float(fit.bse[0]), float(len(set(classes)) - 1)


def judge_levels(moments: Sequence[tuple[float, float, float]], sign: int, paper_jumps: Sequence[float | None],
                 power: float | None = None) -> list[dict[str, Any]]:
    """Rules 2-5 for the levels of one family: ``moments[l]`` is level ``l``'s (estimate, se, df) (from
    :func:`seed_moments` over seeds or :func:`clustered_moments` within one run). One row per level."""
    if not moments:
        return []
    est, se, df = (np.array([[m[k] for m in moments]]) for k in range(3))
    out = judge_arrays(est, se, df, sign, paper_jumps, power)
    rows = []
    for k, jump in enumerate(paper_jumps):
        row = {"estimate": float(est[0, k]), "se": float(se[0, k]), "df": float(df[0, k]), "paper_jump": jump,
               "verdict": str(out["verdict"][0, k])}
        for key in ("p", "p_holm", "low", "high", "low90", "high90", "bound", "share"):
            value = float(out[key][0, k])
            row[key] = None if math.isnan(value) else value
        rows.append(row)
    return rows


def claim_verdict(rows: Sequence[dict[str, Any]], sign: int, power: float | None = None) -> str:
    """Rule 6 over the rows of one claim's levels (levels not judged take no part)."""
    judged = [r for r in rows if r["verdict"] in VERDICTS]
    if not judged:
        return TOO_FEW if rows else NOT_JUDGED
    toward = [r["paper_jump"] is not None and sign * r["paper_jump"] > 0 for r in judged]
    verdict = str(claim_arrays(np.array([[r["verdict"] for r in judged]]), toward, power)[0])
    if verdict == INCONCLUSIVE and {HOLDS, OPPOSITE} <= {r["verdict"] for r in judged}:
        at = {v: ", ".join(f"{r['level']:.0f} %" for r in judged if r["verdict"] == v) for v in (HOLDS, OPPOSITE)}
        verdict += f" (holds at {at[HOLDS]}, opposite at {at[OPPOSITE]})"
    return verdict


def bound_text(rows: Sequence[dict[str, Any]], sign: int) -> str:
    """What the data exclude over a claim's judged levels: ``"effects above 6-48 % of the paper's jump excluded"``
    where every judged level has a share, else the bounds in the metric's units (``"effects above +0.012
    excluded"``, below for a claimed fall)."""
    judged = [r for r in rows if r["verdict"] in VERDICTS and r.get("bound") is not None]
    if not judged:
        return ""
    word = "above" if sign > 0 else "below"
    shares = [r["share"] for r in judged if r.get("share") is not None]
    if len(shares) == len(judged):
        lo, hi = min(shares), max(shares)
        said = f"{100 * lo:.0f} %" if round(100 * lo) == round(100 * hi) else f"{100 * lo:.0f} to {100 * hi:.0f} %"
        return f"effects {word} {said} of the paper's jump excluded"
    lo, hi = min(r["bound"] for r in judged), max(r["bound"] for r in judged)
    said = f"{lo:+.3f}" if f"{lo:+.3f}" == f"{hi:+.3f}" else f"{lo:+.3f} to {hi:+.3f}"
    return f"effects {word} {said} excluded"


def describe(verdict: str, rows: Sequence[dict[str, Any]], sign: int) -> str:
    """A claim's verdict with its bound, as every page shows it: ``"smaller than the paper's; effects above 6 to
    48 % of the paper's jump excluded"``; a verdict within one run keeps its words."""
    bound = bound_text(rows, sign)
    return f"{verdict}; {bound}" if bound else verdict


# ----------------------------------------------------------------------------- from the jobs' result files
#: the simulation's output (:mod:`prunelib.sweep.power`), beside the noise profile's results
POWER_FILE = "seed_rule_power.json"


def load_power(folder: Path | None = None) -> dict[str, Any]:
    """The simulation's output file (``results/noise/seed_rule_power.json`` unless ``folder`` is given), or ``{}``
    where the simulation has not been run: then no verdict is *underpowered*."""
    from .. import paths
    file = (folder or paths.results_dir("noise")) / POWER_FILE
    return json.loads(file.read_text()) if file.is_file() else {}


def design_power(power: dict[str, Any], claim: str, method: str, n_seeds: int) -> float | None:
    """The simulated power of ``claim`` for ``method`` with ``n_seeds`` seeds at the paper's jumps (None: not
    simulated)."""
    row = power.get("claims", {}).get(claim, {}).get(method, {}).get("by_seeds", {}).get(str(n_seeds), {})
    return row.get("power")


def image_classes(run: dict[str, Any], network: dict[str, Any]) -> list[int] | None:
    """The class of each image of a network's measurement, where the job measured the fixed image set: the set is
    ``image_set_per_class`` images per class sorted by validation index, and the validation split is ordered by
    class, so the k-th image is of class ``k // per_class`` (:mod:`prunelib.image_set`). None otherwise (a job of
    protocol v1 chose its own images)."""
    per_class = run.get("settings", {}).get("image_set_per_class")
    images = network["images"]
    if not per_class or len(images) % per_class or images != sorted(images):
        return None
    return [k // per_class for k in range(len(images))]


def per_image(network: dict[str, Any], stem: str, method: str, all_images: bool = False) -> dict[int, float]:
    """``{validation index: value}`` of a metric stem (``gini``, ``aopc_morf``, ``aopc_lerf``, ``aopc_gap``) over the
    images the network classifies correctly, or over all its images (``all_images``)."""
    entry = network["methods"][method]
    if stem == "gini":
        values = torch.tensor(entry["gini"], dtype=torch.float64)
    elif stem == "aopc_gap":
        values = per_image_gap(entry)
    else:
        values = per_image_aopc(entry, stem.split("_")[1])
    keep = [True] * len(values) if all_images else kept(network).tolist()
    return {i: v for i, v, ok in zip(network["images"], values.tolist(), keep) if ok}


def measured(network: dict[str, Any], stem: str, method: str) -> bool:
    """Whether a network's measurement holds what a metric stem is computed from."""
    entry = network["methods"].get(method)
    if entry is None:
        return False
    needs = {"gini": "gini" in entry, "aopc_morf": "morf" in entry["road"], "aopc_lerf": "lerf" in entry["road"],
             "aopc_gap": {"morf", "lerf"} <= set(entry["road"])}
    return needs[stem]


def paired(level: dict[str, Any], reference: dict[str, Any], stem: str, method: str, all_images: bool = False,
           classes: dict[int, int] | None = None, parents: tuple[dict[str, Any], ...] = ()
           ) -> tuple[list[float], list[int] | None]:
    """Per-image ``level - reference`` over the images both classify correctly (or all images, ``all_images``),
    finite values only, and each image's class (None where ``classes`` is None). ``parents``: the two networks
    ``level`` and ``reference`` were each pruned from, where these differ; then per image ``(level - parents[0]) -
    (reference - parents[1])``, over the images all four classify correctly."""
    a, b = per_image(level, stem, method, all_images), per_image(reference, stem, method, all_images)
    if parents:
        pa, pb = (per_image(p, stem, method, all_images) for p in parents)
        a = {i: a[i] - pa[i] for i in set(a) & set(pa)}
        b = {i: b[i] - pb[i] for i in set(b) & set(pb)}
    shared = [i for i in sorted(set(a) & set(b)) if math.isfinite(a[i] - b[i])]
    return [a[i] - b[i] for i in shared], (None if classes is None else [classes[i] for i in shared])


def paired_values(level: dict[str, Any], reference: dict[str, Any], stem: str, method: str) -> list[float]:
    """Per-image ``level - reference`` over the images both classify correctly (finite values only)."""
    return paired(level, reference, stem, method)[0]


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


def seed_verdicts(runs: list[dict[str, Any]], reference: dict[str, Any],
                  power: dict[str, Any] | None = None,
                  concept_runs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Apply the rule to the jobs' result files: ``{"levels": {regime: {reference: {claim: {method: [rows]}}}},
    "claims": {claim: {"sentence", "by_regime": {regime: {reference: {method: verdict with its bound}}},
    "verdicts": {regime: {reference: {method: verdict word}}}}}, "control_effects": {regime: {claim: {method:
    {"rows", "verdict", "said"}}}}, "unjudged": [...]}`` (``control_effects``: each unpruned control against the
    dense network, rule 1, for the regimes that have one). ``power``: the simulation's
    output (:func:`load_power` when None); ``concept_runs``: the jobs' concept measurements (:func:`load_concepts`
    when None), judged by :func:`concept_verdicts` (``levels["concepts"]``, ``claims["concepts_aggressive"]``)."""
    from .. import regimes
    power = load_power() if power is None else power
    jumps = paper_jumps(reference)
    methods = sorted({m for r in runs for n in r["networks"] for m in n["methods"] if m != "random"})
    levels: dict[str, Any] = {}
    claims: dict[str, Any] = {key: {"sentence": sentence, "by_regime": {}, "verdicts": {}}
                              for key, _, _, _, sentence in CLAIMS}
    unjudged: list[str] = []
    first_level = min((level for *_, level in jumps), default=None)  # the paper's first pruned level
    controls: dict[str, Any] = {}
    for regime in sorted({r["regime"] for r in runs}):
        method_kind = regimes.get(regime).method
        regime_runs = [r for r in runs if r["regime"] == regime]
        references = ["dense"] + (["control"] if any(n["network"] == "control" for r in regime_runs
                                                        for n in r["networks"]) else [])
        for ref in references:
            for key, stem, sign, group, _ in CLAIMS:
                for method in methods:
                    rows, verdict = _claim(regime_runs, ref, key, stem, method, sign, group, method_kind, jumps,
                                           power, unjudged)
                    levels.setdefault(regime, {}).setdefault(ref, {}).setdefault(key, {})[method] = rows
                    claims[key]["verdicts"].setdefault(regime, {}).setdefault(ref, {})[method] = verdict
                    by = claims[key]["by_regime"].setdefault(regime, {}).setdefault(ref, {})
                    by[method] = describe(verdict, rows, sign) if rows else "no level to judge"
                    if ref == "control" and group == "light":  # the control itself against the dense network
                        rows, verdict = _claim(regime_runs, "dense", key, stem, method, sign, group, method_kind,
                                               jumps, power, unjudged, network="control", paper_level=first_level)
                        controls.setdefault(regime, {}).setdefault(key, {})[method] = {
                            "rows": rows, "verdict": verdict,
                            "said": describe(verdict, rows, sign) if rows else "not measured"}
    concepts = concept_verdicts(runs, load_concepts(runs) if concept_runs is None else concept_runs)
    levels["concepts"] = concepts["levels"]
    claims[CONCEPTS_CLAIM[0]] = {"sentence": CONCEPTS_CLAIM[1], **concepts["claim"]}
    return {"rule": __doc__.split("\n\n", 1)[1].strip(), "levels": levels, "claims": claims,
            "control_effects": controls, "unjudged": sorted(set(unjudged))}


def load_concepts(runs: list[dict[str, Any]], folder: Path | None = None) -> list[dict[str, Any]]:
    """The concept measurements of ``runs`` (``<folder>/<regime>-seed<k>.json``; default ``folder``: each run's
    profile's ``results/<profile>/runs/concepts``) whose networks are the ones the runs measured (identity and
    checkpoint digest, :func:`prunelib.currency.networks`); others are left out."""
    from .. import paths
    from ..currency import digest, networks
    out = []
    for run in runs:
        if folder is None and not run.get("profile"):
            continue
        where = paths.results_dir(run["profile"]) / "runs" / "concepts" if folder is None else folder
        file = where / f"{run['regime']}-seed{run['seed']}.json"
        if not file.is_file():
            continue
        concepts = json.loads(file.read_text())
        recorded = concepts.get("networks", [])
        measured = set(map(digest, networks(run["networks"], like=recorded)))
        if all(digest(n) in measured for n in networks(recorded, like=recorded)):
            out.append(concepts)
    return out


def concept_verdicts(runs: list[dict[str, Any]], concept_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The concept claim under the rule: per seed, level and class, the change of the mean coherence of the class's
    concepts from the dense network to the level; a seed's effect is its mean over the classes; the levels of the
    aggressive group are a family (rules 2-6, claimed direction: down; no paper jump: coherence was judged by eye).
    With fewer than 3 seeds measured every level is *not judged*, with the reason."""
    def coherence(net: dict[str, Any], cls: str) -> float:
        return float(np.mean(net["classes"][cls]["coherence"]["per_concept"]))

    by_regime: dict[str, dict[float, dict[int, float]]] = {}
    for c in concept_runs:
        dense = first_network(c["networks"], "dense")
        run = next((r for r in runs if r["regime"] == c["regime"] and r["seed"] == c["seed"]), None)
        if dense is None or run is None:
            continue
        near = {n.get("identity") for n in run["networks"] if n.get("near_chance")}
        for net in c["networks"]:
            if net["network"] != "pruned" or group_of(net["level"]) != "aggressive" or net.get("identity") in near:
                continue
            classes = sorted(set(net["classes"]) & set(dense["classes"]))
            change = [coherence(net, k) - coherence(dense, k) for k in classes]
            if change:
                by_regime.setdefault(c["regime"], {}).setdefault(round(net["level"], 1), {})[c["seed"]] = \
                    float(np.mean(change))
    levels: dict[str, Any] = {}
    claim: dict[str, Any] = {"by_regime": {}, "verdicts": {}}
    for regime in sorted({r["regime"] for r in runs}):
        cells = by_regime.get(regime, {})
        seeds = sorted({s for v in cells.values() for s in v})
        if len(seeds) < MIN_SEEDS:
            why = (f"{NOT_JUDGED} (concepts measured on {len(seeds)} seed{'s' if len(seeds) != 1 else ''}"
                   f"{' (' + ', '.join(map(str, seeds)) + ')' if seeds else ''}; the rule needs {MIN_SEEDS})")
            rows = [{"level": lv, "seeds": v, "estimate": float(np.mean(list(v.values()))), "verdict": why}
                    for lv, v in sorted(cells.items())]
            verdict = text = why
        else:
            full = [(lv, v) for lv, v in sorted(cells.items()) if len(v) >= MIN_SEEDS]
            rows = judge_levels([tuple(float(a) for a in seed_moments(np.array(list(v.values())))) for _, v in full],
                                -1, [None] * len(full))
            for row, (lv, v) in zip(rows, full):
                row.update(level=lv, seeds=v, unit="seed")
            verdict = claim_verdict(rows, -1)
            text = describe(verdict, rows, -1)
        levels[regime] = rows
        claim["by_regime"][regime] = {"dense": {"CRAFT": text}}
        claim["verdicts"][regime] = {"dense": {"CRAFT": verdict}}
    return {"levels": levels, "claim": claim}


def _claim(regime_runs: list[dict], ref: str, key: str, stem: str, method: str, sign: int, group: str,
           method_kind: str, jumps: dict, power: dict, unjudged: list[str], network: str = "pruned",
           paper_level: int | None = None) -> tuple[list[dict], str]:
    """The rows of one claim's levels and its verdict (rules 1-9). ``network``: the networks judged against ``ref``
    (``"control"``: the unpruned control, its one row at 0 %); ``paper_level``: the paper's level whose jump every
    row is compared with (None: each level's own)."""
    all_images = group in ALL_IMAGES_GROUPS
    by_target: dict[float, dict[int, dict[str, Any]]] = {}
    for run in regime_runs:
        reference = next((n for n in run["networks"] if n["network"] == ref), None)
        if reference is None:
            continue
        classes = image_classes(run, reference)
        class_of = None if classes is None else dict(zip(reference["images"], classes))
        for net in run["networks"]:
            if (net["network"] != network or network == "pruned" and group_of(100 * net["target"]) != group
                    or not measured(net, stem, method) or not measured(reference, stem, method)):
                continue
            name = f"{run['regime']} seed {run['seed']} " + (f"at {100 * net['target']:.4g} %" if network == "pruned"
                                                               else network)
            if net.get("near_chance"):
                unjudged.append(f"{name}: near chance")
                continue
            values, cls = paired(net, reference, stem, method, False, class_of)
            every, every_cls = paired(net, reference, stem, method, True, class_of)
            if not values and not all_images:
                unjudged.append(f"{name}: no image it and its {ref} network both classify correctly")
                continue
            by_target.setdefault(round(net["target"], 6), {})[run["seed"]] = {
                "paired": values, "all": every, "classes": every_cls if all_images else cls,
                "judged": every if all_images else values,
                "dropped": 1 - len(values) / max(int(kept(reference).sum()), 1)}
    targets = sorted(by_target)
    seeds = sorted({s for t in targets for s in by_target[t]})
    label = lambda t: paper_level if paper_level is not None else paper_label(method_kind, t)  # noqa: E731
    paper = [jumps.get((stem, method, label(t))) if label(t) is not None else None for t in targets]
    basis = "all images" if all_images else "paired images"
    if len(seeds) >= MIN_SEEDS:
        seed_power = design_power(power, key, method, len(seeds))
        means = {t: {s: float(np.mean(v["judged"])) for s, v in by_target[t].items()} for t in targets}
        full = [k for k, t in enumerate(targets) if len(by_target[t]) >= MIN_SEEDS]
        moments = [tuple(float(a) for a in seed_moments(np.array(list(means[targets[k]].values()))))
                   for k in full]
        judged = dict(zip(full, judge_levels(moments, sign, [paper[k] for k in full], seed_power)))
        rows = [judged.get(k) or {"estimate": float(np.mean(list(means[t].values()))), "paper_jump": paper[k],
                                  "verdict": TOO_FEW, "p": None, "p_holm": None, "bound": None, "share": None}
                for k, t in enumerate(targets)]
        for row, t in zip(rows, targets):
            row.update(unit="seed", basis=basis, level=100 * t, n_seeds=len(by_target[t]), seeds=means[t],
                       design_power=seed_power, **_selection(by_target[t]))
        verdict = claim_verdict(rows, sign, seed_power)
        left_out = [f"{r['level']:.0f} %" for r in rows if r["verdict"] == TOO_FEW]
        if left_out and verdict != TOO_FEW:
            verdict += f" ({', '.join(left_out)} on fewer than {MIN_SEEDS} seeds: {NOT_JUDGED})"
        return rows, verdict
    per_seed = {s: judge_levels([clustered_moments(by_target[t][s]["judged"], by_target[t][s]["classes"])
                                 if len(by_target[t].get(s, {}).get("judged", [])) >= 2 else (math.nan,) * 3
                                 for t in targets], sign, paper) for s in seeds}
    rows = []
    for k, t in enumerate(targets):
        verdicts = {per_seed[s][k]["verdict"] for s in seeds}
        rows.append({**per_seed[seeds[0]][k], "unit": "image", "basis": basis, "level": 100 * t,
                     "n_seeds": len(seeds), "verdict": verdicts.pop() if len(verdicts) == 1 else INCONCLUSIVE,
                     "clustered": all(by_target[t].get(s, {}).get("classes") is not None for s in seeds),
                     "seeds": {s: per_seed[s][k]["estimate"] for s in seeds}, **_selection(by_target[t])})
    verdict = claim_verdict(rows, sign) if rows else NOT_JUDGED
    return rows, f"{verdict} {WITHIN} ({len(seeds)} seed{'s' if len(seeds) > 1 else ''})" if rows else verdict


def _selection(by_seed: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Rule 9's numbers of one level: per seed, the images in the paired set, the share of the reference's correctly
    classified images dropped, and the paired
    and all-images effects."""
    return {"n_images": {s: len(v["paired"]) for s, v in by_seed.items()},
            "dropped": {s: v["dropped"] for s, v in by_seed.items()},
            "paired_effect": {s: float(np.mean(v["paired"])) if v["paired"] else None for s, v in by_seed.items()},
            "all_images_effect": {s: float(np.mean(v["all"])) if v["all"] else None for s, v in by_seed.items()}}
