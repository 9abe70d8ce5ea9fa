"""The landing page's table of claims (prunelib.figures.claims): every claim against every regime, the verdicts
of the seed-level rule in its own words, and "not measured yet" where a sweep has none."""
from __future__ import annotations

from prunelib.figures import claims
from prunelib.sweep.seed_rule import CLAIM_ROWS, seed_verdicts

from test_decomposition import REFERENCE, _runs


def test_the_authors_column_reads_the_seed_rule_of_the_authors_sweep() -> None:
    authors = seed_verdicts(_runs([0, 1, 2]), REFERENCE, power={}, concept_runs=[])  # A1 is +0.04-0.042 over dense on every seed
    rows = claims.claims_rows({"study": None, "authors": authors})
    assert [r["claim"].split(" (added by this study")[0] for r in rows] == [sentence for _, sentence in CLAIM_ROWS]
    assert [key for (key, _), r in zip(CLAIM_ROWS, rows) if "added by this study" in r["claim"]] == \
        ["gap_light", "agreement"]
    gini = rows[0]
    assert gini["the authors' code"].startswith("VG: holds; effects above") and " · IG: holds; " in gini["the authors' code"]
    assert gini["global pruning, fixed image set"] == claims.NOT_MEASURED
    assert gini["lottery, against its unpruned control (protocol v1)"] == claims.NOT_MEASURED  # none archived either


def test_the_lottery_column_falls_back_to_the_archived_measurement_and_says_so() -> None:
    archived = {"claims": {"gini_light": {"by_regime": {"lottery": {"control": {"VG": "opposite within one run (1 seed)"}}}}}}
    row = claims.claims_rows({"study": None, "study-v1": archived, "authors": None})[0]
    assert row["lottery, against its unpruned control (protocol v1)"] == "VG: opposite within one run (1 seed)"
    assert row["global pruning, 3 seeds (protocol v1)"] == claims.NOT_MEASURED
    measured = {"claims": {"gini_light": {"by_regime": {"lottery": {"control": {"VG": "holds"}}}}}}
    row = claims.claims_rows({"study": measured, "study-v1": archived, "authors": None})[0]
    assert row["lottery, against its unpruned control"] == "VG: holds"  # the fixed image set's, once measured


def test_one_seed_says_within_one_run() -> None:
    authors = seed_verdicts(_runs([0]), REFERENCE, power={}, concept_runs=[])
    cell = claims.claims_rows({"study": None, "authors": authors})[0]["the authors' code"]
    assert "within one run (1 seed)" in cell


def test_concepts_and_agreement_have_rows_and_say_why_they_are_not_judged() -> None:
    study = {"claims": {"concepts_aggressive": {"by_regime": {"global": {"dense": {
        "CRAFT": "not judged (concepts measured on 1 seed (0); the rule needs 3)"}}}}},
        "agreement": {"claim": {"by_regime": {"global": {"dense": {"VG": "holds; effects above -0.010 excluded"}}}}}}
    rows = {r["claim"]: r for r in claims.claims_rows({"study": study, "authors": None})}
    (concepts,) = [r for c, r in rows.items() if c.startswith("Aggressive pruning lowers concept coherence")]
    assert concepts["global pruning, fixed image set"] == "CRAFT: not judged (concepts measured on 1 seed (0); the rule needs 3)"
    (agreement,) = [r for c, r in rows.items() if c.startswith("Pruning moves the saliency maps")]
    assert agreement["global pruning, fixed image set"] == "VG: holds; effects above -0.010 excluded"


def test_selection_rows_show_the_paired_and_all_images_effects_where_images_drop_out() -> None:
    level = {"level": 95.0, "dropped": {"0": 0.35, "2": 0.44}, "paired_effect": {"0": 0.004, "2": -0.001},
             "all_images_effect": {"0": -0.004, "2": -0.006}, "basis": "all images"}
    kept = {**level, "level": 10.0, "dropped": {"0": 0.01, "2": 0.02}, "basis": "paired images"}
    verdicts = {"levels": {"global": {"dense": {"gini_aggressive": {"VG": [level]}, "gini_light": {"VG": [kept]}}}}}
    (row,) = claims.selection_rows(verdicts)
    assert row["dropped (%)"] == "35, 44" and row["judged on"] == "all images"
    assert row["paired effect"] == "seed 0: +0.004, seed 2: -0.001"
    assert row["all-images effect"] == "seed 0: -0.004, seed 2: -0.006"
    assert claims.selection_rows(None) == []


def test_the_control_table_puts_the_fine_tuning_alone_beside_the_levels() -> None:
    from prunelib.sweep.controls import attach
    from test_seed_rule import _control_study
    reference = {"sparsity": [0.0, 0.1, 0.2], "gini": {"VG": [0.40, 0.45, 0.44]}, "aopc": {"VG": [0.2, 0.2, 0.2]}}
    rows = claims.control_rows(seed_verdicts(attach(_control_study(0.04))[0], reference, power={}, concept_runs=[]))
    gini = next(r for r in rows if r["claim"].startswith("Pruning sharpens") and r["method"] == "VG")
    assert gini["control against dense"].startswith("+0.040 [+0.0") and gini["control against dense"].endswith(
        "(seeds 0, 1, 2)")
    assert gini["its verdict"].startswith("holds; effects above")
    assert gini["levels against dense"].startswith("holds") and gini["levels against the control"] != claims.NOT_MEASURED
    assert [r["method"] for r in rows] == ["VG"] * 3  # the light claims, for the method the study judged
    assert {r["control against dense"] for r in claims.control_rows(None)} == {claims.NOT_MEASURED}
