"""The paper's claims against every way the study ran it, in one vocabulary: the table of the landing page.

Each cell is the verdict of the seed-level rule (:mod:`prunelib.sweep.seed_rule`, read from the sweeps'
``seed_verdicts.json``) for one claim under one regime and reference, per saliency method: *holds*, *opposite*,
*mixed*, *paper's effect excluded* or *inconclusive*, with "within one run (N seeds)" where fewer than 3 seeds
speak. A column whose sweep has not been measured under that rule says so.
"""
from __future__ import annotations

import json
from typing import Any

from .. import paths
from ..sweep.seed_rule import CLAIMS, SEED_VERDICTS

#: the table's columns: (heading, which sweep: "study" or "authors", regime, reference)
COLUMNS = (("global pruning", "study", "global", "dense"),
           ("lottery, against dense", "study", "lottery", "dense"),
           ("lottery, against its unpruned control", "study", "lottery", "control"),
           ("the authors' code", "authors", "authors_code", "dense"))
NOT_MEASURED = "not measured yet"


def load_claims(study_profile: str, authors_profile: str) -> dict[str, dict[str, Any] | None]:
    """The seed-level verdicts of both sweeps: ``{"study": ..., "authors": ...}`` (None where a sweep has none)."""
    out: dict[str, dict[str, Any] | None] = {}
    for key, profile in (("study", study_profile), ("authors", authors_profile)):
        file = paths.results_dir(profile) / SEED_VERDICTS
        out[key] = json.loads(file.read_text()) if file.is_file() else None
    return out


def claims_rows(verdicts: dict[str, dict[str, Any] | None]) -> list[dict[str, str]]:
    """One row per claim of the paper, one column per :data:`COLUMNS`: ``"VG: holds · IG: inconclusive"``."""
    rows = []
    for key, _, _, _, sentence in CLAIMS:
        row = {"the paper's claim": sentence}
        for heading, sweep, regime, reference in COLUMNS:
            by_method = (((verdicts.get(sweep) or {}).get("claims", {}).get(key, {}).get("by_regime", {})
                          .get(regime, {}).get(reference)))
            row[heading] = (" · ".join(f"{m}: {v}" for m, v in sorted(by_method.items(), key=_method_order))
                            if by_method else NOT_MEASURED)
        rows.append(row)
    return rows


def _method_order(item: tuple[str, str]) -> int:
    from ..saliency import METHODS
    return list(METHODS).index(item[0]) if item[0] in METHODS else len(METHODS)
