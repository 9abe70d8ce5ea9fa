"""Chapter 7's tables read the sweep's long table (summary.csv) into one row per network, with known answers."""
from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

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


def test_spread_rows_set_the_ranges_on_own_and_same_images_beside_the_papers_jump() -> None:
    floors = {"floors": {"global": {"gini_vg": {"dense_seeds": 0.016, "dense_seed_means": 0.011,
                                                "same_network": 0.007}}}}
    rows = {r["metric"]: r for r in spread_rows(DF, floors, reference={"gini": {"VG": [0.42, 0.47]},
                                                                        "aopc": {"VG": [0.2, 0.25]}})}
    assert rows["Gini, VG"] == {"metric": "Gini, VG", "dense, per seed": "0.450, 0.461",
                               "seed-to-seed range": {"own images": 0.011, "same images": 0.016},
                               "same network, other images": 0.007, "paper: dense -> 10 %": pytest.approx(0.05)}
    assert rows["coherence gain"]["seed-to-seed range"] == {"own images": None, "same images": None}
    assert "top-1" not in rows and "AOPC MoRF - LeRF, VG" not in rows  # no dense value of the gap in this table


def test_one_name_per_metric() -> None:
    from prunelib.figures.noise import metric_name
    assert [metric_name(m) for m in ("gini_vg", "aopc_morf_ig", "aopc_gap_vg", "top1", "aopc_random")] == [
        "Gini, VG", "AOPC MoRF, IG", "AOPC MoRF - LeRF, VG", "top-1", "AOPC, random order"]
