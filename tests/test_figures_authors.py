"""The chapter "What the authors' code did" (prunelib.figures.authors): its tables, figures and one-sentence
answer read what the decomposition holds, and say what is not measured yet."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from prunelib.figures import authors as fig  # noqa: E402
from prunelib.sweep.decomposition import decomposition  # noqa: E402

from test_decomposition import REFERENCE, _runs  # noqa: E402


def _parts(seeds: list[int]) -> dict:
    runs = _runs(seeds)
    for run in runs:
        for net in run["networks"]:
            constant = net["network"] != "dense"
            net["history"] = [{"epoch": e, "lr": 1e-3 if constant else 1e-3 * (1 - e / 3), "val_top1": 0.5 + 0.1 * e}
                              for e in range(3)]
    return decomposition(runs, REFERENCE)


def _item(said: str, contrast: str) -> str:
    """The answer's list item of ``contrast`` ("" where it has none)."""
    return next((line for line in said.splitlines() if line.startswith(f"- **{contrast}**")), "")


def test_the_answer_says_what_each_contrast_shows_with_its_numbers_and_the_papers() -> None:
    said = fig.answer(_parts([0, 1, 2]))
    a1 = _item(said, "A1 - D")
    assert a1.startswith("- **A1 - D**, their code path, round 1, against its dense network: Gini, VG +0.041")
    assert "over 3 seeds, paper +0.040: *holds; effects above" in a1 and "within one run" not in said
    one = _item(fig.answer(_parts([0])), "S - D")
    assert "(seed 0, within one run, paper +0.040): *holds; effects above" in one
    two = _item(fig.answer(_parts([0, 1])), "A1 - D")  # under three seeds: each seed's own verdict and numbers
    assert "seed 0, within one run" in two and "seed 1, within one run" in two
    assert _item(said, "A1 - S")  # every seed has both networks
    parts = _parts([0, 1, 2])
    parts["contrasts"] = [c for c in parts["contrasts"] if c["contrast"] != "A1 - S"]
    assert not _item(fig.answer(parts), "A1 - S")  # no seed with both networks: nothing said of it
    assert not _item(said, "M1 - A1")  # no network with the mask held
    assert all(len(line.split()) <= 60 for line in said.splitlines())  # short items, not one long sentence


def test_the_answer_says_what_holding_the_mask_changes_where_a_seed_has_it() -> None:
    runs = _runs([0])
    dense, a1 = runs[0]["networks"]
    gini = a1["methods"]["VG"]["gini"]
    held = dict(a1, methods={"VG": {"gini": [g - 0.01 for g in gini], "road": {}},
                             "IG": {"gini": [g - 0.01 for g in gini], "road": {}}})
    runs.append({"regime": "authors_masked", "seed": 0, "networks": [dense, held]})
    item = _item(fig.answer(decomposition(runs, REFERENCE)), "M1 - A1")
    assert "holding that mask while retraining at the constant rate" in item
    assert "-0.010" in item and "seed 0, within one run" in item and "paper" not in item


def test_the_answer_says_what_annealing_the_retraining_changes_where_a_seed_has_it() -> None:
    runs = _runs([0])
    dense, a1 = runs[0]["networks"]
    annealed = dict(a1, methods={m: {"gini": [g - 0.03 for g in a1["methods"][m]["gini"]], "road": {}}
                                 for m in ("VG", "IG")})  # the cosine schedule takes 0.03 of A1's rise back
    runs.append({"regime": "authors_annealed", "seed": 0, "networks": [dense, annealed]})
    said = fig.answer(decomposition(runs, REFERENCE))
    item = _item(said, "C1 - A1")
    assert "Gini, VG -0.030" in item and "(within one run)*" not in item and "*opposite; effects above" in item
    assert "paper" not in item
    assert not _item(said, "L1 - C1")  # no lottery ticket done right measured


def test_the_answer_says_whether_a_lottery_ticket_done_right_reproduces_the_jump() -> None:
    runs = _runs([0])
    dense, a1 = runs[0]["networks"]
    annealed = dict(a1, methods={m: {"gini": [g - 0.03 for g in a1["methods"][m]["gini"]], "road": {}}
                                 for m in ("VG", "IG")})
    ticket = dict(a1, methods={m: {"gini": [g - 0.035 for g in a1["methods"][m]["gini"]], "road": {}}
                               for m in ("VG", "IG")})  # 0.005 below C1: holding the mask lowers it a little
    runs += [{"regime": "authors_annealed", "seed": 0, "networks": [dense, annealed]},
             {"regime": "authors_lottery", "seed": 0, "networks": [dense, ticket]}]
    parts = decomposition(runs, REFERENCE)
    said = fig.answer(parts)
    assert "Gini, VG -0.005" in _item(said, "L1 - C1") and "*opposite" in _item(said, "L1 - C1")
    right = _item(said, "L1 - D")
    ticket_vs_dense = next(c for c in parts["contrasts"] if c["contrast"] == "L1 - D")["metrics"]["gini_vg"]
    assert f"{ticket_vs_dense['estimate']:+.3f}" in right
    assert f"paper {ticket_vs_dense['paper_jump']:+.3f}" in right  # the paper's "20 %" jump


def test_the_answer_and_tables_name_what_is_not_measured_yet() -> None:
    assert "is measured yet" in fig.answer(None)
    rows = fig.network_rows(None)
    assert [r["network"] for r in rows] == list(fig.NETWORKS) and all(r["top-1 (%)"] == "not measured yet" for r in rows)
    parts = _parts([0])
    by_name = {r["network"]: r for r in fig.network_rows(parts)}
    assert by_name["A1"]["top-1 (%)"] == pytest.approx(80.0) and by_name["A1"]["mask sparsity (%)"] == pytest.approx(20)
    assert by_name["A1"]["learning rate, first → last epoch"] == "1.0e-03 → 1.0e-03"
    assert by_name["M1"]["top-1 (%)"] == "not measured yet"
    assert [r["verdict"] for r in fig.contrast_rows(None)] == ["no two networks of a contrast measured yet"]


def test_the_contrast_table_has_one_row_per_contrast_and_metric_measured() -> None:
    rows = fig.contrast_rows(_parts([0, 1, 2]))
    a1 = next(r for r in rows if r["contrast"].startswith("A1 - D: ") and r["metric"] == "Gini, VG")
    assert a1["interval over"] == "3 seeds" and a1["verdict"].startswith("holds; effects above")
    assert a1["paper's jump"] == pytest.approx(0.04) and a1["effect"]["value"] == pytest.approx(0.041)
    one = next(r for r in fig.contrast_rows(_parts([0])) if r["contrast"].startswith("S - D: "))
    assert one["interval over"] == "4 images, seed 0"


def test_the_figures_draw_the_histories_and_the_intervals_they_read() -> None:
    parts = _parts([0, 1, 2])
    lr = fig.plot_learning_rates(parts)
    lines = {line.get_label(): list(line.get_ydata()) for line in lr.axes[0].get_lines()}
    assert lines["D"] == pytest.approx([1e-3, 1e-3 * 2 / 3, 1e-3 / 3]) and lines["A1"] == pytest.approx([1e-3] * 3)
    assert lr.get_figwidth() <= fig.COLUMN_IN
    dec = fig.plot_decomposition(parts)
    gini_vg = dec.axes[0]
    assert gini_vg.get_title() == "Gini, VG"
    row = parts["contrasts"][0]["metrics"]["gini_vg"]
    assert any(list(line.get_xdata()) == pytest.approx([row["low"], row["high"]]) for line in gini_vg.get_lines())
    assert dec.get_figwidth() <= fig.COLUMN_IN


def test_under_three_seeds_each_seed_is_shown_and_judged_within_its_own_run() -> None:
    rows = [r for r in fig.contrast_rows(_parts([0, 1]))
            if r["contrast"].startswith("A1 - D: ") and r["metric"] == "Gini, VG"]
    assert [r["interval over"].split(", ")[1] for r in rows] == ["seed 0", "seed 1"]
    assert all(r["verdict"].endswith("(within one run)") for r in rows)
    assert rows[0]["effect"]["value"] != rows[1]["effect"]["value"]  # each seed's own effect
    figure = fig.plot_decomposition(_parts([0, 1]))
    assert len(figure.axes[0].lines) > len(fig.plot_decomposition(_parts([0])).axes[0].lines)


def test_the_learning_rate_figure_shows_the_seed_with_the_most_networks() -> None:
    epoch = [{"epoch": 0, "lr": 1e-3, "val_top1": 0.5}]
    parts = {"networks": {"0": {"D": {"history": epoch}, "S": {"history": epoch}},
                          "1": {"D": {"history": epoch}, "A1": {"history": epoch}, "A2": {"history": epoch}}}}
    assert fig.fullest_seed(parts) == 1 and fig.fullest_seed(None) == 0
    parts["networks"]["0"]["A1"] = {"history": epoch}
    assert fig.fullest_seed(parts) == 0  # a tie: the lowest seed


def test_the_learning_rate_figure_has_one_legend_for_both_panels_and_the_decomposition_few_ticks() -> None:
    import matplotlib.pyplot as plt
    parts = _parts([0])
    lr_fig = fig.plot_learning_rates(parts, 0)
    legend = [t.get_text() for t in lr_fig.legends[0].get_texts()]
    assert legend and all(": " in text for text in legend) and len(legend) == len(set(legend))
    assert all(ax.get_legend() is None for ax in lr_fig.axes)
    plt.close(lr_fig)
    drawn = fig.plot_decomposition(parts)
    drawn.canvas.draw()
    assert all(len(ax.get_xticks()) <= 6 for ax in drawn.axes)
    plt.close(drawn)


def test_the_contrasts_over_seeds_and_within_one_run_go_to_two_tables() -> None:
    three, one = _parts([0, 1, 2]), _parts([0])
    none = [{"contrast": "none", "metric": "none", "verdict": "no two networks of a contrast measured yet"}]
    assert fig.contrast_rows(three, over_seeds=True) == fig.contrast_rows(three) and all(
        r["interval over"] == "3 seeds" for r in fig.contrast_rows(three, over_seeds=True))
    assert fig.contrast_rows(three, over_seeds=False) == none == fig.contrast_rows(one, over_seeds=True)
    assert fig.contrast_rows(one, over_seeds=False) == fig.contrast_rows(one)


def test_a_seed_compared_through_two_realizations_of_d_is_named() -> None:
    parts = decomposition(_runs([0, 1, 2]), REFERENCE)
    a1_s = next(c for c in parts["contrasts"] if c["contrast"] == "A1 - S")
    a1_s["metrics"]["gini_vg"]["across_parents"] = [1, 2]
    rows = [r for r in fig.contrast_rows(parts) if r["contrast"].startswith("A1 - S") and r["metric"] == "Gini, VG"]
    assert [r["interval over"] for r in rows] == ["3 seeds (1, 2: each network against its own D)"]
    assert all(r["interval over"] == "3 seeds" for r in fig.contrast_rows(parts) if not r["contrast"].startswith("A1 - S"))
    item = next(line for line in fig.answer(parts).splitlines() if line.startswith("- **A1 - S**"))
    assert "Gini, VG +0.011 [" in item and "over 3 seeds (1, 2: each network against its own D)" in item


def test_each_contrast_gets_its_own_table_so_that_none_runs_past_a_phone_screen() -> None:
    parts = _parts([0, 1])
    rows, tables = fig.contrast_rows(parts, over_seeds=False), fig.contrast_tables(parts, over_seeds=False)
    assert len(tables) == len({r["contrast"] for r in rows}) > 1
    assert [r for t in tables for r in t] == rows  # the same rows, in the same order
    assert all(len({r["contrast"] for r in t}) == 1 for t in tables)
    assert fig.contrast_tables(parts, over_seeds=True) == [fig.contrast_rows(parts, over_seeds=True)]  # "none"
