"""The landing page's table of claims (prunelib.figures.claims): every claim against every regime, the verdicts
of the seed-level rule in its own words, and "not measured yet" where a sweep has none."""
from __future__ import annotations

from prunelib.figures import claims
from prunelib.sweep.seed_rule import CLAIMS, seed_verdicts

from test_decomposition import REFERENCE, _runs


def test_the_authors_column_reads_the_seed_rule_of_the_authors_sweep() -> None:
    authors = seed_verdicts(_runs([0, 1, 2]), REFERENCE)  # A1 is +0.04-0.042 over dense on every seed
    rows = claims.claims_rows({"study": None, "authors": authors})
    assert [r["the paper's claim"] for r in rows] == [sentence for *_, sentence in CLAIMS]
    gini = rows[0]
    assert gini["the authors' code"] == "VG: holds · IG: holds"
    assert gini["global pruning"] == claims.NOT_MEASURED and gini["lottery, against its unpruned control"] == claims.NOT_MEASURED


def test_one_seed_says_within_one_run() -> None:
    authors = seed_verdicts(_runs([0]), REFERENCE)
    cell = claims.claims_rows({"study": None, "authors": authors})[0]["the authors' code"]
    assert "within one run (1 seed)" in cell
