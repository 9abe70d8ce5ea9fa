"""Chapter 7's tables read the sweep's long table (summary.csv) into one row per network, with known answers."""
from __future__ import annotations

import pandas as pd
import pytest

from prunelib.figures.noise import NETWORK, measure_order, network_rows
from prunelib.figures.tables import DASH, LEVEL, table


def summary(*rows: tuple) -> pd.DataFrame:
    """A summary.csv of ``(regime, seed, network, level, metric, value)`` rows (intervals left out)."""
    return pd.DataFrame([dict(zip(("regime", "seed", "network", "level", "metric", "value"), r),
                              ci_low=None, ci_high=None, n_images=250) for r in rows])


DF = summary(("global", 0, "dense", 0.0, "gini_vg", 0.45), ("global", 0, "dense", 0.0, "top1", 0.845),
             ("global", 0, "dense", 0.0, "coherence_gain", 0.08), ("global", 0, "pruned", 10.2, "top1", 0.84),
             ("global", 0, "pruned", 10.2, "gini_vg", 0.46), ("global", 0, "pruned", 10.2, "aopc_random", 0.1),
             ("lottery", 0, "control", 0.0, "top1", 0.83), ("global", 1, "dense", 0.0, "top1", 0.849),
             ("global", 1, "dense", 0.0, "gini_vg", 0.461))


def test_one_row_per_network_in_the_tables_order_top1_in_percent() -> None:
    rows = network_rows(DF)
    assert [tuple(r[k] for k in NETWORK) for r in rows] == [
        ("global", 0, "dense", 0), ("global", 0, "pruned", 10), ("lottery", 0, "control", 0), ("global", 1, "dense", 0)]
    assert list(rows[0]) == [*NETWORK, "top1 (%)", "gini_vg", "aopc_random"]  # reading order, not the file's
    assert rows[0]["top1 (%)"] == pytest.approx(84.5) and rows[1]["gini_vg"] == 0.46
    assert rows[2]["gini_vg"] is None and rows[0]["aopc_random"] is None  # a metric a network lacks is missing


def test_concept_metrics_are_a_table_of_their_own_for_the_networks_that_have_them() -> None:
    assert network_rows(DF, concepts=True) == [{"regime": "global", "seed": 0, "network": "dense", LEVEL: 0,
                                                "coherence_gain": 0.08}]
    assert all("coherence_gain" not in row for row in network_rows(DF))


def test_a_missing_metric_shows_as_an_em_dash_and_top1_with_one_decimal() -> None:
    shown = table(network_rows(DF), index=NETWORK)  # displayed strings, index included
    assert shown.loc[("lottery", "0", "control", "0"), "gini_vg"] == DASH
    assert shown.loc[("global", "0", "dense", "0"), "top1 (%)"] == "84.5"
    assert shown.loc[("global", "1", "dense", "0"), "gini_vg"] == "0.461"


def test_metrics_in_reading_order_then_unknown_ones_by_name() -> None:
    found = {"zeta", "aopc_gap_ig", "gini_ig", "aopc_morf_vg", "top1", "gini_vg", "reconstruction_error", "alpha"}
    assert measure_order(found) == ["top1", "gini_vg", "aopc_morf_vg", "gini_ig", "aopc_gap_ig",
                                    "reconstruction_error", "alpha", "zeta"]
