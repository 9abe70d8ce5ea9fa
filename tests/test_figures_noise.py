"""Chapter 7's tables read the sweep's long table (summary.csv) into one row per network, with known answers."""
from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

from prunelib.figures import noise
from prunelib.figures.noise import (NETWORK, heading, measure_order, network_rows, plot_noise, spread_rows)
from prunelib.figures.tables import DASH, LEVEL, table


def summary(*rows: tuple) -> pd.DataFrame:
    """A summary.csv of ``(regime, seed, network, level, metric, value)`` rows (intervals left out)."""
    return pd.DataFrame([dict(zip(("regime", "seed", "network", "level", "metric", "value"), r),
                              ci_low=None, ci_high=None, n_images=250) for r in rows])


DF = summary(("global", 0, "dense", 0.0, "gini_vg", 0.45), ("global", 0, "dense", 0.0, "top1", 0.845),
             ("global", 0, "dense", 0.0, "coherence_gain", 0.08), ("global", 0, "pruned", 10.2, "top1", 0.84),
             ("global", 0, "pruned", 10.2, "gini_vg", 0.46), ("global", 0, "pruned", 10.2, "aopc_random", 0.1),
             ("global", 0, "pruned", 10.2, "aopc_gap_vg", 0.2),
             ("lottery", 0, "control", 0.0, "top1", 0.83), ("global", 1, "dense", 0.0, "top1", 0.849),
             ("global", 1, "dense", 0.0, "gini_vg", 0.461))


def test_one_row_per_network_in_the_tables_order_top1_in_percent() -> None:
    rows = network_rows(DF)
    assert [tuple(r[k] for k in NETWORK) for r in rows] == [
        ("global", 0, "dense", 0), ("global", 0, "pruned", 10), ("lottery", 0, "control", 0), ("global", 1, "dense", 0)]
    assert list(rows[0]) == [*NETWORK, "top-1 (%)", "VG", "random order"]  # reading order, not the file's
    assert list(rows[0]["VG"]) == ["Gini", "AOPC MoRF - LeRF"]
    assert rows[0]["top-1 (%)"] == pytest.approx(84.5) and rows[1]["VG"] == {"Gini": 0.46, "AOPC MoRF - LeRF": 0.2}
    assert rows[2]["VG"]["Gini"] is None and rows[0]["random order"] == {"AOPC": None}  # missing where lacking


def test_concept_metrics_are_a_table_of_their_own_for_the_networks_that_have_them() -> None:
    assert network_rows(DF, concepts=True) == [{"regime": "global", "seed": 0, "network": "dense", LEVEL: 0,
                                                "coherence gain": 0.08}]
    assert all("coherence gain" not in row for row in network_rows(DF))


def test_a_missing_metric_shows_as_an_em_dash_and_top1_with_one_decimal() -> None:
    shown = table(network_rows(DF), index=NETWORK)  # displayed strings, index included
    assert shown.loc[("lottery", "0", "control", "0"), ("VG", "Gini")] == DASH
    assert shown.loc[("global", "0", "dense", "0"), ("top-1 (%)", "")] == "84.5"
    assert shown.loc[("global", "1", "dense", "0"), ("VG", "Gini")] == "0.461"


def test_metrics_in_reading_order_then_unknown_ones_by_name() -> None:
    found = {"zeta", "aopc_gap_ig", "gini_ig", "aopc_morf_vg", "top1", "gini_vg", "reconstruction_error", "alpha"}
    assert measure_order(found) == ["top1", "gini_vg", "aopc_morf_vg", "gini_ig", "aopc_gap_ig",
                                    "reconstruction_error", "alpha", "zeta"]


@pytest.mark.parametrize("metric, expected", [("gini_vg", ("VG", "Gini")), ("aopc_lerf_ig", ("IG", "AOPC LeRF")),
                                              ("aopc_gap_vg", ("VG", "AOPC MoRF - LeRF")), ("top1", ("top-1 (%)", "")),
                                              ("aopc_random", ("random order", "AOPC")),
                                              ("coherence_gain", ("coherence gain", "")),
                                              ("gini_xx", ("gini xx", ""))])  # not a saliency method of the registry
def test_heading_of_each_kind_of_metric(metric: str, expected: tuple[str, str]) -> None:
    assert heading(metric) == expected


def test_the_figure_has_one_legend_entry_for_the_dense_band_whatever_the_seeds_per_panel() -> None:
    matplotlib.use("Agg")
    fig = plot_noise(DF, reference={"sparsity": [0.0, 0.1], "top1": [0.84, 0.83], "gini": {"VG": [0.42, 0.47]},
                                    "aopc": {"VG": [0.26, 0.3]}})
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[:2] == ["top-1 (%)", "Gini, VG"] and "CRAFT coherence gain (seed 0)" in titles  # 2 seeds, 1 seed
    assert sum("range" in label for label in labels) == 1, labels


def _dense(gini: list[float], images: list[int], identity: str) -> dict:
    return {"network": "dense", "identity": identity, "images": images, "correct": [True] * len(images),
            "methods": {"VG": {"gini": gini, "road": {}}}}


def test_spread_rows_count_each_seeds_dense_network_once_from_raw_values() -> None:
    """Seeds 0 and 1 of global pruning, and the lottery job's copy of seed 0's dense network on other images: the
    range over seeds is over the two global seeds (the copy counts only as "same network, other images"), from the
    raw per-image values, each rounded once where shown."""
    runs = [{"regime": "global", "seed": 0, "networks": [_dense([0.4500, 0.4510], [0, 1], "d0")]},
            {"regime": "global", "seed": 1, "networks": [_dense([0.4600, 0.4640], [0, 1], "d1")]},
            {"regime": "lottery", "seed": 0, "networks": [_dense([0.4400, 0.4420], [2, 3], "d0")]}]
    rows = {r["metric"]: r for r in spread_rows(DF, runs, reference={"gini": {"VG": [0.42, 0.47]},
                                                                     "aopc": {"VG": [0.2, 0.25]}})}
    gini = rows["Gini, VG"]
    assert gini["dense, per seed"] == "0.451, 0.462"
    assert gini["seed-to-seed range"]["own images"] == pytest.approx(0.0115)
    assert gini["seed-to-seed range"]["same images"] == pytest.approx(0.0115)  # images 0 and 1, paired
    assert gini["same network, other images"] == pytest.approx(0.4505 - 0.441)
    assert gini["paper: dense -> 10 %"] == pytest.approx(0.05)
    assert rows["coherence gain"]["seed-to-seed range"] == {"own images": None, "same images": None}
    assert "top-1" not in rows and "AOPC MoRF - LeRF, VG" not in rows  # no dense value of the gap in this table


def test_coverage_groups_each_regimes_seeds_by_the_largest_level_they_reach() -> None:
    from prunelib.figures.noise import coverage
    rows = [("global", s, "dense" if lvl == 0 else "pruned", lvl, "top1", 0.8)
            for s, top in ((0, 98.0), (1, 50.0), (2, 50.0)) for lvl in (0.0, 10.0, top)]
    rows += [("lottery", 1, "dense", 0.0, "top1", 0.8), ("lottery", 1, "control", 0.0, "top1", 0.8),
             ("lottery", 1, "pruned", 48.8, "top1", 0.8)]
    assert coverage(summary(*rows)) == (f"{GLOBAL}: seed 0 to 98 %, seeds 1 and 2 to 50 %; "
                                        "lottery ticket (rewind + retrain): seed 1 to 49 %, with the unpruned "
                                        "control of seed 1")


def test_one_name_per_metric() -> None:
    from prunelib.figures.noise import metric_name
    assert [metric_name(m) for m in ("gini_vg", "aopc_morf_ig", "aopc_gap_vg", "top1", "aopc_random")] == [
        "Gini, VG", "AOPC MoRF, IG", "AOPC MoRF - LeRF, VG", "top-1", "AOPC, random order"]


REFERENCE = {"sparsity": [0.0, 0.1], "top1": [0.84, 0.83], "gini": {"VG": [0.42, 0.47]}, "aopc": {"VG": [0.26, 0.3]}}
GLOBAL = "global magnitude + fine-tuning"


def _lines(fig, title: str) -> dict[str, tuple[list[float], list[float]]]:
    """The labelled lines of the panel titled ``title``: label -> (x data, y data)."""
    ax = next(ax for ax in fig.axes if ax.get_title() == title)
    return {line.get_label(): ([float(x) for x in line.get_xdata()], [float(y) for y in line.get_ydata()])
            for line in ax.get_lines() if not line.get_label().startswith("_")}


def _band(fig, title: str) -> tuple[float, float]:
    """The (low, high) of the grey dense band of the panel titled ``title``, in data units."""
    ax = next(ax for ax in fig.axes if ax.get_title() == title)
    (patch,) = [p for p in ax.patches if "range" in p.get_label()]
    ys = ax.transData.inverted().transform(patch.get_extents().get_points())[:, 1]
    return float(min(ys)), float(max(ys))


#: seeds 0-2 have every level; seed 3 only its dense network, far off, which a mean at 0 % alone would let in
COMPLETE = summary(*[("global", s, "dense" if lvl == 0 else "pruned", lvl, m, v + 0.01 * s + 0.001 * lvl)
                     for s in (0, 1, 2) for lvl in (0.0, 50.0, 90.0) for m, v in (("top1", 0.8), ("gini_vg", 0.4))],
                   ("global", 3, "dense", 0.0, "top1", 0.85), ("global", 3, "dense", 0.0, "gini_vg", 0.9))


def test_a_seed_missing_pruned_levels_does_not_enter_the_mean_line_and_the_legend_counts_the_seeds() -> None:
    matplotlib.use("Agg")
    fig = plot_noise(COMPLETE, reference=REFERENCE)
    lines = _lines(fig, "Gini, VG")
    # seeds 0, 1, 2 at 0.4 + 0.01 s + 0.001 level: their mean is 0.41 + 0.001 level; seed 3's 0.9 is not in it
    assert lines[f"{GLOBAL}: mean of seeds 0, 1 and 2"] == ([0.0, 50.0, 90.0], pytest.approx([0.41, 0.46, 0.50]))
    assert not any("mean over seeds" in label for label in lines)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"{GLOBAL}: mean of seeds 0, 1 and 2" in legend
    assert _band(fig, "Gini, VG") == pytest.approx((0.4, 0.9))  # the band: every dense seed, seed 3's too


def test_with_one_seed_at_every_level_the_line_is_that_seeds_and_says_so() -> None:
    """The reader's case (fixed image set): seed 0 has every level, seed 1 only its dense network. The old mean
    averaged two dense seeds at 0 % and seed 0 alone after it: a drop 0.4665 -> 0.462 that was the averaging."""
    matplotlib.use("Agg")
    df = summary(("global", 0, "dense", 0.0, "gini_vg", 0.462), ("global", 0, "pruned", 10.0, "gini_vg", 0.462),
                 ("global", 0, "pruned", 20.0, "gini_vg", 0.4618), ("global", 1, "dense", 0.0, "gini_vg", 0.471),
                 *[("global", s, "dense", 0.0, "top1", 0.85) for s in (0, 1)],
                 *[("global", 0, "pruned", lvl, "top1", 0.85) for lvl in (10.0, 20.0)])
    fig = plot_noise(df, reference=REFERENCE)
    lines = _lines(fig, "Gini, VG")
    assert list(lines) == [f"{GLOBAL}: seed 0", "paper (224 px, lottery)"]
    assert lines[f"{GLOBAL}: seed 0"] == ([0.0, 10.0, 20.0], pytest.approx([0.462, 0.462, 0.4618]))


def test_the_line_has_no_point_where_one_of_its_seeds_is_near_chance() -> None:
    from prunelib.figures.noise import mean_line
    every = pd.DataFrame({"seed": [0, 0, 0, 1, 1, 1], "level": [0.0, 50.0, 98.0] * 2,
                          "value": [1.0, 2.0, 3.0, 3.0, 4.0, 9.0]})
    judged = every.drop(index=5)  # seed 1 near chance at 98 %: seed 0 alone would be no mean of the two
    seeds, line = mean_line(every, judged)
    assert seeds == [0, 1] and line.to_dict() == {0.0: 2.0, 50.0: 3.0}
    seeds, line = mean_line(every.drop(index=[4, 5]), judged.drop(index=4))  # seed 1 lacks 50 and 98 %
    assert seeds == [0] and line.to_dict() == {0.0: 1.0, 50.0: 2.0, 98.0: 3.0}


def test_with_no_seed_at_every_level_there_is_no_mean_only_each_seeds_line() -> None:
    matplotlib.use("Agg")
    df = summary(*[("global", s, "dense" if lvl == 0 else "pruned", lvl, m, 0.5 + 0.1 * s)
                   for s, levels in ((0, (0.0, 50.0)), (1, (0.0, 90.0))) for lvl in levels
                   for m in ("top1", "gini_vg")])
    fig = plot_noise(df, reference=REFERENCE)
    ax = next(ax for ax in fig.axes if ax.get_title() == "Gini, VG")
    own = [line for line in ax.get_lines() if line.get_label() == f"{GLOBAL}: each seed, no mean"]
    assert sorted(list(line.get_xdata()) for line in own) == [[0.0, 50.0], [0.0, 90.0]]
    assert not any("mean of" in line.get_label() for line in ax.get_lines())


def test_a_metric_of_fewer_seeds_names_them_in_its_title_and_its_band_is_theirs() -> None:
    matplotlib.use("Agg")
    df = pd.concat([COMPLETE, summary(("global", 0, "dense", 0.0, "aopc_random", 0.10),
                                      ("global", 0, "pruned", 50.0, "aopc_random", 0.12),
                                      ("global", 2, "dense", 0.0, "aopc_random", 0.14),
                                      ("global", 2, "pruned", 50.0, "aopc_random", 0.13))], ignore_index=True)
    fig = plot_noise(df, reference=REFERENCE)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["top-1 (%)", "Gini, VG", "AOPC, random order (seeds 0, 2)"]
    assert _band(fig, "AOPC, random order (seeds 0, 2)") == pytest.approx((0.10, 0.14))  # seeds 0 and 2 only
    assert _lines(fig, "AOPC, random order (seeds 0, 2)")[f"{GLOBAL}: mean of seeds 0 and 2"] == (
        [0.0, 50.0], pytest.approx([0.12, 0.125]))
    one = plot_noise(df[(df.metric != "aopc_random") | (df.seed == 0)], reference=REFERENCE)
    assert [ax.get_title() for ax in one.axes if ax.get_title().startswith("AOPC")] == ["AOPC, random order (seed 0)"]
    assert _band(one, "AOPC, random order (seed 0)") == pytest.approx((0.10, 0.10))  # one seed: a line


def test_the_networks_of_both_measurements_are_the_same_where_their_top1_agrees_at_every_level() -> None:
    def top1(seed: int, level: float, value: float) -> dict:
        return {"regime": "global", "seed": seed, "network": "dense" if level == 0 else "pruned", "level": level,
                "metric": "top1", "value": value}
    archived = pd.DataFrame([top1(0, 0.0, 0.80), top1(0, 50.0, 0.79), top1(1, 0.0, 0.81), top1(1, 50.0, 0.805),
                             top1(1, 90.0, 0.7)])
    study = pd.DataFrame([top1(0, 0.0, 0.8001), top1(0, 50.0, 0.79), top1(1, 0.0, 0.81), top1(1, 50.000001, 0.8050001)])
    assert noise.same_networks(study, archived) == [("global", 1)]  # seed 0's dense differs in the 4th digit
    assert noise.same_networks_said(study, archived) == (
        f"{GLOBAL[0].upper()}{GLOBAL[1:]}: seed 1 is the same network in both (the same top-1 to six digits at every "
        "level both measured); seed 0 was trained again for the fixed set.")


def test_a_network_near_chance_is_flagged_beside_its_level_in_the_table() -> None:
    rows = [{"regime": "global", "seed": 0, "network": "pruned", "level": lvl, "metric": "top1", "value": v,
             "ci_low": v, "ci_high": v, "n_images": 10} for lvl, v in ((50.0, 0.8), (98.0, 0.11))]
    shown = network_rows(pd.DataFrame(rows))
    assert [r[NETWORK[-1]] for r in shown] == [50, "98 (at chance)"]
