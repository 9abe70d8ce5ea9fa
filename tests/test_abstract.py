"""The landing page's abstract (prunelib.sweep.abstract): written from the verdicts, the simulated error rates and
the decomposition, so that it changes when they do."""
from __future__ import annotations

import pandas as pd
import pytest

from prunelib.sweep import abstract


def _verdicts(gini: str, aopc: str) -> dict:
    return {"claims": {key: {"by_regime": {"global": {"dense": {"VG": v, "IG": v}}}}
                       for key, v in (("gini_light", gini), ("aopc_light", aopc))}}


def test_the_answer_groups_the_claims_by_what_the_rule_said() -> None:
    said = abstract.answer(_verdicts("smaller than the paper's; effects above 6 % excluded", "underpowered"), 3)
    assert said.startswith("Over 3 seeds of global pruning")
    assert "smaller than the paper's for the Gini index (VG and IG) and underpowered for AOPC MoRF (VG and IG)" \
        in said  # plain words: the abstract is glued as HTML
    assert "holds for the Gini index (VG and IG) and AOPC MoRF (VG and IG)" in abstract.answer(
        _verdicts("holds", "holds"), 3)


def _contrast(name: str, verdicts: dict[str, str]) -> dict:
    runs = {s: {"estimate": 0.04, "verdict": v} for s, v in verdicts.items()}
    return {"contrast": name, "metrics": {"gini_vg": {"within_runs": runs, "seeds": dict.fromkeys(runs, 0.04),
                                                      "paper_jump": 0.032, "verdict": "holds"}}}


def test_why_concludes_only_when_every_seed_of_both_contrasts_rises() -> None:
    parts = {"contrasts": [_contrast("A1 - D", {"1": "holds", "2": "holds"}), _contrast("S - D", {"0": "holds"})]}
    said = abstract.why(parts)
    assert "+0.040 and +0.040 (seeds 1 and 2, each within one run)" in said and "(seed 0, within one run)" in said
    # the conclusion leans on S - D, which one seed measured: it says so
    assert said.endswith("on one training run (seed 0), the paper's jump comes with the authors' retraining, not "
                         "with pruning.")
    parts["contrasts"][1] = _contrast("S - D", {"0": "smaller than the paper's"})
    assert abstract.why(parts).endswith("is not settled.")
    assert "not yet measured" in abstract.why(None)


def test_why_says_a_seed_level_interval_once_and_what_annealing_changes() -> None:
    over_seeds = {"unit": "seed", "estimate": 0.04, "low": 0.03, "high": 0.05, "seeds": {"0": 0.04, "1": 0.03,
                  "2": 0.05}, "within_runs": {}, "paper_jump": 0.032, "verdict": "holds"}
    parts = {"contrasts": [{"contrast": "A1 - D", "metrics": {"gini_vg": over_seeds}},
                           _contrast("S - D", {"0": "holds"}), _contrast("A1 - S", {"0": "smaller than the paper's"})]}
    said = abstract.why(parts)
    assert "by +0.040 [+0.030, +0.050] (95 % interval over 3 seeds), against the paper's +0.032" in said
    assert "A1 - S" not in said and "mask adds" not in said  # the chapter lists the other contrasts
    assert said.endswith("(seed 0), the paper's jump comes with the authors' retraining, not with pruning.")
    annealed = _contrast("C1 - A1", {"0": "opposite"})
    annealed["metrics"]["gini_vg"]["within_runs"]["0"]["estimate"] = -0.035
    said = abstract.why({"contrasts": parts["contrasts"] + [annealed]})
    assert "annealing that retraining on the cosine schedule instead changes it by -0.035 (seed 0, within one run)" in said
    assert said.endswith("comes with the constant learning rate of the authors' retraining, not with pruning.")
    assert len(said.split()) < 110
    # over 3 seeds for every contrast the conclusion leans on: no hedge
    settled = {**over_seeds, "estimate": -0.035, "low": -0.04, "high": -0.03, "verdict": "opposite"}
    three = {"contrasts": [{"contrast": "A1 - D", "metrics": {"gini_vg": over_seeds}},
                           {"contrast": "S - D", "metrics": {"gini_vg": over_seeds}},
                           {"contrast": "C1 - A1", "metrics": {"gini_vg": settled}}]}
    assert abstract.why(three).endswith(": the paper's jump comes with the constant learning rate of the authors' "
                                        "retraining, not with pruning.")
    annealed["metrics"]["gini_vg"]["within_runs"]["0"]["verdict"] = "inconclusive"
    assert abstract.why({"contrasts": parts["contrasts"] + [annealed]}).endswith(
        "comes with the authors' retraining, not with pruning.")  # annealing did not take the rise back
    over_seeds["verdict"] = "inconclusive"
    assert abstract.why(parts).endswith("is not settled.")


def test_how_sure_quotes_the_simulations_output() -> None:
    def rates(fp: float, held: float) -> dict:
        return {"3": {"false_positive": fp, "false_positive_se": 0.0015, "power": held, "power_se": 0.003}}
    power = {"claims": {"gini_light": {"VG": {"by_seeds": rates(0.048, 1.0)}, "IG": {"by_seeds": rates(0.05, 1.0)}},
                        "aopc_light": {"VG": {"by_seeds": rates(0.046, 0.419)},
                                       "IG": {"by_seeds": rates(0.04, 0.062)}}}}
    said = abstract.how_sure(power, 3, ["the lottery regime"])
    assert "in at most 5.0 % of studies (± 0.1 %)" in said and "with 3 seeds" in said
    assert "the Gini index VG 100 %, the Gini index IG 100 %, AOPC MoRF VG 42 %, AOPC MoRF IG 6 %" in said
    assert said.endswith("the lottery regime rests on one seed and speaks of one training run.")
    assert abstract.how_sure(power, 3, ["the lottery regime", "the control"]).endswith(
        "the lottery regime and the control rest on one seed and speak of one training run.")
    assert "not simulated yet" in abstract.how_sure({}, 3, [])


def test_what_ran_reads_the_dense_networks_from_the_tables() -> None:
    row = {"regime": "global", "network": "dense", "level": 0.0, "metric": "top1"}
    archived = pd.DataFrame([{**row, "seed": s, "value": v} for s, v in ((0, 0.845), (1, 0.849), (2, 0.842))]
                            + [{**row, "network": "pruned", "level": 98.0, "seed": 0, "value": 0.2}])
    study = pd.DataFrame([{**row, "seed": 0, "value": 0.851}])
    said = abstract.what_ran(archived, study, None)
    assert "on 3 seeds (84.2-85.1 % top-1" in said and "up to 98 %" in said and "authors' own" not in said
    with pytest.raises(KeyError):
        abstract.answer({"claims": {}}, 3)


def _levels(rows: list[tuple[float, str]]) -> dict:
    return {"levels": {"global": {"dense": {"gini_light": {"VG": [
        {"level": level, "verdict": verdict, "unit": "seed"} for level, verdict in rows]}}}}}


def test_the_answer_names_the_fixed_sets_levels_and_whether_it_agrees() -> None:
    v1 = _verdicts("smaller than the paper's", "inconclusive")
    same = {**_verdicts("smaller than the paper's (50 % on fewer than 3 seeds: not judged)", "inconclusive"),
            **_levels([(10.0, "smaller than the paper's"), (20.0, "smaller than the paper's"),
                       (50.0, "not judged (fewer than 3 seeds)")])}
    said = abstract.answer(v1, 3, same)
    assert said.endswith("on each job's own images, and again on one fixed image set (10-20 % removed; 50 % on "
                         "fewer seeds, not judged).")
    other = {**_verdicts("inconclusive", "inconclusive"), **_levels([(10.0, "inconclusive")])}
    assert "and on one fixed image set (10 % removed) inconclusive for the Gini index (VG and IG)" in \
        abstract.answer(v1, 3, other)
    within = {**same, **_levels([(10.0, "smaller than the paper's")])}
    within["levels"]["global"]["dense"]["gini_light"]["VG"][0]["unit"] = "image"  # within one run: not said
    assert abstract.answer(v1, 3, within) == abstract.answer(v1, 3)


def _study(gini: str, aopc: str, shares: list[float]) -> dict:
    rows = [{"level": 10.0 * (i + 1), "n_seeds": 3, "share": s} for i, s in enumerate(shares)]
    return {"claims": {k: {"verdicts": {"global": {"dense": {"VG": v}}}}
                       for k, v in (("gini_light", gini), ("aopc_light", aopc))},
            "levels": {"global": {"dense": {"gini_light": {"VG": rows}, "aopc_light": {"VG": rows}}}}}


def test_key_findings_are_three_sentences_of_at_most_70_words_from_the_results() -> None:
    reference = {"gini": {"VG": [0.40, 0.45]}}
    power = {"claims": {"aopc_light": {"VG": {"by_seeds": {"3": {"power": 0.25}}}}}}
    retrained = {"unit": "seed", "estimate": 0.05, "low": 0.04, "high": 0.06, "seeds": {"0": 0, "1": 0, "2": 0},
                 "verdict": "holds"}
    parts = {"contrasts": [{"contrast": "S - D", "metrics": {"gini_vg": retrained}}]}
    said = abstract.key_findings(_study("smaller than the paper's; effects above 6 % excluded", "underpowered",
                                        [0.02, 0.06]), parts, power, reference)
    assert len(said) == 3 and len(" ".join(said).split()) <= 70
    assert "(Gini index +0.050)" in said[0]
    assert said[1] == ("Over 3 training seeds, sparsity rises by at most 6 % of the paper's jump and faithfulness "
                       "is undecided (25 % power).")
    assert said[2].endswith("+0.050 [+0.040, +0.060] over 3 seeds: the paper's jump comes with that retraining.")
    holds = abstract.key_findings(_study("holds", "holds", [0.5]), parts, power, reference)
    assert "sparsity rises as the paper reports and faithfulness rises as the paper reports" in holds[1]
    parts["contrasts"][0]["metrics"]["gini_vg"]["verdict"] = "inconclusive"
    assert abstract.key_findings(_study("holds", "holds", [0.5]), parts, power, reference)[2].endswith("undecided.")
    assert abstract.key_findings({}, None, power, reference)[1] == "Global pruning is not yet judged over seeds."
