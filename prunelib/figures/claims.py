"""The paper's claims against every way the study ran it, in one vocabulary: the table of the landing page.

Each cell is the verdict of the judging rule (:mod:`prunelib.sweep.seed_rule`, read from the sweeps'
``seed_verdicts.json``) for one claim under one regime and reference, per saliency method, with its bound: *holds*,
*opposite*, *larger than the paper's*, *smaller than the paper's*, *underpowered*, *inconclusive* or *not judged*,
with "within one run (N seeds)" where fewer than 3 seeds speak. A column whose sweep has not been measured under that rule says so. The study's networks measured before
the fixed image set (protocol v1, archived in ``results/<profile>/protocol-v1/``) are judged by the same rule,
each seed over the images its own job explained.
"""
from __future__ import annotations

import json
from typing import Any

from .. import paths
from ..sweep.seed_rule import AGREEMENT_CLAIM, CLAIM_ROWS, DROP_OUT, SEED_VERDICTS
from ..sweep.summary import archive_dir

#: the archived measurement of the study judged beside today's (:func:`prunelib.sweep.summary.archive_dir`)
ARCHIVE = "protocol-v1"
#: the table's columns: (heading, which sweep: "study", "study-v1" (its archive) or "authors", regime, reference)
COLUMNS = (("global pruning, 3 seeds (protocol v1)", "study-v1", "global", "dense"),
           ("global pruning, fixed image set", "study", "global", "dense"),
           ("lottery, against its unpruned control", "study", "lottery", "control"),
           ("the authors' code", "authors", "authors_code", "dense"))
NOT_MEASURED = "not measured yet"
#: the claims the study adds to the paper's (the paper reports MoRF alone)
ADDED = {"gap_light": "added by this study, not the paper's", "agreement": "added by this study, not the paper's"}


def load_claims(study_profile: str, authors_profile: str) -> dict[str, dict[str, Any] | None]:
    """The seed-level verdicts of the sweeps: ``{"study": ..., "study-v1": ..., "authors": ...}`` (None where one
    has none). The lottery column reads the study's sweep, else its archive."""
    out: dict[str, dict[str, Any] | None] = {}
    for key, folder in (("study", paths.results_dir(study_profile)),
                        ("study-v1", archive_dir(study_profile, ARCHIVE)),
                        ("authors", paths.results_dir(authors_profile))):
        file = folder / SEED_VERDICTS
        out[key] = json.loads(file.read_text()) if file.is_file() else None
    return out


def claims_rows(verdicts: dict[str, dict[str, Any] | None]) -> list[dict[str, str]]:
    """One row per claim (:data:`prunelib.sweep.seed_rule.CLAIM_ROWS`: the paper's, concept coherence, map
    agreement), one column per :data:`COLUMNS`: ``"VG: holds; effects above ... · IG: inconclusive; ..."``. The lottery column
    reads the archived measurement (protocol v1) until the fixed image set has a lottery job, and its heading says
    so; a claim the study adds is marked (:data:`ADDED`)."""
    archived = all(_cell(verdicts, "study", key, "lottery", "control") is None for key, _ in CLAIM_ROWS)
    rows = []
    for key, sentence in CLAIM_ROWS:
        row = {"claim": sentence + (f" ({ADDED[key]})" if key in ADDED else "")}
        for heading, sweep, regime, reference in COLUMNS:
            if sweep == "study" and regime == "lottery" and archived:
                sweep, heading = "study-v1", f"{heading} (protocol v1)"
            by_method = _cell(verdicts, sweep, key, regime, reference)
            row[heading] = (" · ".join(f"{m}: {v}" for m, v in sorted(by_method.items(), key=_method_order))
                            if by_method else NOT_MEASURED)
        rows.append(row)
    return rows


def _cell(verdicts: dict[str, dict[str, Any] | None], sweep: str, key: str, regime: str, reference: str
          ) -> dict[str, str] | None:
    mine = verdicts.get(sweep) or {}
    claim = (mine.get("agreement") or {}).get("claim", {}) if key == AGREEMENT_CLAIM[0] else \
        mine.get("claims", {}).get(key, {})
    return claim.get("by_regime", {}).get(regime, {}).get(reference)


def _method_order(item: tuple[str, str]) -> int:
    from ..saliency import METHODS
    return list(METHODS).index(item[0]) if item[0] in METHODS else len(METHODS)


def selection_rows(verdicts: dict[str, Any] | None, threshold: float = DROP_OUT) -> list[dict[str, Any]]:
    """Rule 9 of the judging rule, shown: per regime, claim, method and level at which some seed's paired set lost
    more than ``threshold`` of the fixed set's images, the share dropped and the effect over the paired images beside
    the effect over all images, per seed, and which of the two the claim is judged on."""
    rows = []
    for regime, by_ref in ((verdicts or {}).get("levels") or {}).items():
        if regime == "concepts":
            continue
        for claim, by_method in by_ref.get("dense", {}).items():
            for method, levels in by_method.items():
                for level in levels:
                    dropped = level.get("dropped") or {}
                    if not dropped or max(dropped.values()) <= threshold:
                        continue
                    rows.append({"regime": regime, "claim": claim, "method": method, "level (%)": level["level"],
                                 "dropped (%)": ", ".join(f"{100 * v:.0f}" for v in dropped.values()),
                                 "paired effect": _per_seed(level.get("paired_effect")),
                                 "all-images effect": _per_seed(level.get("all_images_effect")),
                                 "judged on": level.get("basis", "paired images")})
    return rows


def _per_seed(values: dict[str, float | None] | None) -> str:
    return ", ".join(f"seed {s}: {'–' if v is None else f'{v:+.3f}'}" for s, v in (values or {}).items())


def control_rows(verdicts: dict[str, Any] | None, regime: str = "global") -> list[dict[str, str]]:
    """The unpruned control beside the levels (rule 1 of the judging rule), one row per light claim and saliency
    method judged (every method where none is): the control's own effect against the dense network (its mean over
    seeds with its 95 % t-interval, then its verdict and bound), and the claim's verdict over the levels against the
    dense network and against the control. A cell not measured yet says so."""
    from ..sweep.seed_rule import CLAIMS
    from ..saliency import METHODS
    claims = (verdicts or {}).get("claims", {})
    effects = (verdicts or {}).get("control_effects", {}).get(regime, {})
    light = [(key, sentence) for key, _, _, group, sentence in CLAIMS if group == "light"]
    judged = {m for key, _ in light for m in claims.get(key, {}).get("by_regime", {}).get(regime, {}).get("dense", {})}
    rows = []
    for key, sentence in light:
        by_ref = claims.get(key, {}).get("by_regime", {}).get(regime, {})
        for method in [m for m in METHODS if m in judged] or list(METHODS):
            effect = effects.get(key, {}).get(method)
            rows.append({"claim": sentence, "method": method,
                         "control against dense": _effect(effect["rows"]) if effect and effect["rows"] else NOT_MEASURED,
                         "its verdict": effect["said"] if effect else NOT_MEASURED,
                         "levels against dense": by_ref.get("dense", {}).get(method, NOT_MEASURED),
                         "levels against the control": by_ref.get("control", {}).get(method, NOT_MEASURED)})
    return rows


def _effect(rows: list[dict[str, Any]]) -> str:
    """The control's one row: ``+0.012 [+0.004, +0.020] (seeds 0-2)``, or each seed's value within one run."""
    (row,) = rows
    seeds = ", ".join(str(s) for s in row.get("seeds", {}))
    if row.get("unit") == "seed" and row.get("low") is not None:
        return f"{row['estimate']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}] (seeds {seeds})"
    return f"{_per_seed(row.get('seeds'))} (within one run)"
