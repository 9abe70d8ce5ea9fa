"""The headline figure (prunelib.figures.jump): the authors' loop taken apart beside three seeds of global pruning,
each effect with its interval and the paper's jump, read from made-up decomposition and seed-rule results."""
from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from prunelib.figures import jump  # noqa: E402
from prunelib.sweep.agreement import BASELINE  # noqa: E402


def _row(estimate: float, seeds: int, jump_: float | None = 0.03) -> dict:
    row = {"estimate": estimate, "low": estimate - 0.01, "high": estimate + 0.01, "paper_jump": jump_,
           "seeds": {str(s): estimate for s in range(seeds)}, "unit": "seed" if seeds >= 3 else "image"}
    if seeds < 3:  # within one run: each seed's own interval over its images
        row["within_runs"] = {"0": {"estimate": estimate + 0.001, "low": estimate - 0.02, "high": estimate + 0.02}}
    return row


PARTS = {"contrasts": [
    {"contrast": "A1 - D", "metrics": {"gini_vg": _row(0.04, 3), "aopc_morf_vg": _row(0.05, 3), "gini_ig": _row(1, 3)}},
    {"contrast": "L1 - C1", "metrics": {"gini_vg": _row(-0.005, 1, None)}},
    {"contrast": "A2 - D", "metrics": {"gini_vg": _row(0.02, 1)}},  # not drawn
]}
VERDICTS = {"levels": {"global": {"dense": {
    "gini_light": {"VG": [{**_row(0.001, 3), "level": 10.0}, {**_row(0.002, 3), "level": 20.0}],
                   "IG": [{**_row(0.5, 3), "level": 10.0}]},
    "aopc_light": {"VG": [{**_row(0.003, 3), "level": 10.0}]}}}}}


def test_the_rows_are_the_contrasts_drawn_then_global_pruning_with_plain_labels() -> None:
    rows = jump.jump_rows(PARTS, VERDICTS)
    assert [(r["label"], r["metric"]) for r in rows] == [
        ("their code (A1) − dense (D)", "gini_vg"), ("their code (A1) − dense (D)", "aopc_morf_vg"),
        ("annealed, mask held (L1) − annealed (C1)", "gini_vg"),
        ("global pruning, 10 % − dense", "gini_vg"), ("global pruning, 20 % − dense", "gini_vg"),
        ("global pruning, 10 % − dense", "aopc_morf_vg")]
    a1, held = rows[0], rows[2]
    assert (a1["estimate"], a1["low"], a1["high"], a1["over"], a1["paper_jump"]) == pytest.approx(
        (0.04, 0.03, 0.05, "3 seeds", 0.03))
    assert held["over"] == "seed 0, one run" and held["estimate"] == pytest.approx(-0.004)  # seed 0's own interval
    assert held["paper_jump"] is None
    assert jump.jump_rows(None, None) == []


def test_the_figure_draws_each_effect_its_interval_and_the_papers_jump(tmp_path, monkeypatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "n").mkdir()
    (tmp_path / "a" / "decomposition.json").write_text(json.dumps(PARTS))
    (tmp_path / "n" / "seed_verdicts.json").write_text(json.dumps(VERDICTS))
    monkeypatch.setenv("PRUNELIB_RESULTS", str(tmp_path))
    rows = jump.load_jump("n", "a")
    assert len(rows) == 6
    fig = jump.plot_jump(rows)
    gini, aopc = fig.axes
    assert [t.get_text() for t in gini.get_yticklabels()] == [
        "their code (A1) − dense (D)", "annealed, mask held (L1) − annealed (C1)", "global pruning, 10 % − dense",
        "global pruning, 20 % − dense"]
    squares = [line for line in gini.get_lines() if line.get_marker() == "s"]
    assert sorted(float(s.get_xdata()[0]) for s in squares) == pytest.approx([0.03, 0.03, 0.03])  # none for L1 - C1
    bars = [line for line in gini.get_lines() if len(line.get_xdata()) == 2 and line.get_linestyle() == "-"
            and line.get_ydata()[0] == line.get_ydata()[1] and line.get_color() == "C0"]
    assert sorted(tuple(round(x, 3) for x in b.get_xdata()) for b in bars) == [
        (-0.025, 0.015), (-0.009, 0.011), (-0.008, 0.012), (0.03, 0.05)]
    open_dots = [line for line in gini.get_lines() if line.get_marker() == "o" and line.get_markerfacecolor() == "white"]
    assert len(open_dots) == 1 and open_dots[0].get_ydata()[0] == 1  # L1 - C1: one run
    rules = [line for line in gini.get_lines() if list(line.get_ydata()) == [1.5, 1.5]]
    assert rules, "no rule between the authors' code and global pruning"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sorted(legend) == sorted(set(legend)) and "the paper's jump" in legend
    assert len(aopc.get_lines()) > 1
    plt.close(fig)


def test_the_agreement_fact_reads_round_one_and_the_seed_to_seed_baseline() -> None:
    def r(regime, seed, network, level, value, metric="agreement_spearman_vg"):
        return {"regime": regime, "seed": seed, "network": network, "level": level, "metric": metric, "value": value}
    df = pd.DataFrame([r("authors_code", 1, "pruned", 2.4, 0.7), r("authors_code", 0, "pruned", 6.0, 0.2),
                       r("authors_code", 0, "pruned", 2.7, 0.5091), r("authors_code", 0, "pruned", 2.7, 0.9, "gini_vg"),
                       r("dense", 1, BASELINE, 0, 0.476), r("dense", 2, BASELINE, 0, 0.478)])
    said = jump.agreement_fact(df)
    assert "(seed 0)" in said and "0.509 (VG)" in said and "(0.477, seeds 1 and 2)" in said
    assert jump.agreement_fact(df[df.network != BASELINE]) is None
