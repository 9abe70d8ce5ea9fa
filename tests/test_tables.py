"""prunelib.figures.tables: one format for every table of the book, on rows with known answers."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from prunelib.figures.tables import DASH, HIGH, LEVEL, LOW, VALUE, cell, interval, level, percent, table


@pytest.mark.parametrize("value, decimals, shown", [
    (0.51234, 3, "0.512"), (77.3249, 1, "77.3"), (np.float64(0.1), 3, "0.100"), (-0.0126, 3, "-0.013"),
    (12, 3, "12"), (np.int64(250), 3, "250"), (None, 3, DASH), (math.nan, 3, DASH), (np.nan, 1, DASH),
    ("holds", 3, "holds"), (True, 3, "True"), (-1e-17, 3, "0.000"), (-0.0, 1, "0.0"), (-0.0004, 3, "0.000"),
])
def test_a_cell_shows_numbers_with_fixed_decimals_and_missing_values_as_a_dash(value, decimals, shown) -> None:
    assert cell(value, decimals) == shown


def test_levels_percentages_and_intervals() -> None:
    assert level(0.1) == 10 and level("0.98") == 98 and level(0.0) == 0
    assert percent(0.7732) == pytest.approx(77.32) and percent(None) is None
    assert interval({"estimate": 0.5, "low": 0.4, "high": 0.6}) == {VALUE: 0.5, LOW: 0.4, HIGH: 0.6}
    assert interval(None, value="ours") == {"ours": None, LOW: None, HIGH: None}


def test_a_table_formats_each_column_by_its_name_and_groups_intervals() -> None:
    rows = [{LEVEL: 0, "top-1 (%)": {"paper": 84.0, "ours": 77.3249},
             "Gini, VG": {"paper": 0.4223, **interval({"estimate": 0.45678, "low": 0.45, "high": 0.4612}, "ours")},
             "images": 250},
            {LEVEL: 98, "top-1 (%)": {"paper": None, "ours": 10.7},
             "Gini, VG": {"paper": None, **interval(None, "ours")}, "images": 106}]
    shown = table(rows, index=LEVEL)
    assert shown.index.name == LEVEL and list(shown.index) == ["0", "98"]
    assert list(shown.columns) == [("top-1 (%)", "paper"), ("top-1 (%)", "ours"), ("Gini, VG", "paper"),
                                   ("Gini, VG", "ours"), ("Gini, VG", LOW), ("Gini, VG", HIGH), ("images", "")]
    assert shown.loc["0"].tolist() == ["84.0", "77.3", "0.422", "0.457", "0.450", "0.461", "250"]
    assert shown.loc["98"].tolist() == [DASH, "10.7", DASH, DASH, DASH, DASH, "106"]
    assert "NaN" not in shown.to_html() and "None" not in shown.to_string()


def test_a_flat_table_with_decimals_named_and_a_two_column_index() -> None:
    rows = [{"method": "VG", LEVEL: 10, "measured (%)": 9.98765, "wall time (s)": 123.456, "Gini": 0.5},
            {"method": "IG", LEVEL: 10, "measured (%)": 10.0, "wall time (s)": None}]  # a row may lack a column
    shown = table(rows, index=["method", LEVEL], decimals={"measured (%)": 2, "wall time (s)": 0})
    assert list(shown.columns) == ["measured (%)", "wall time (s)", "Gini"]
    assert shown.index.names == ["method", LEVEL]
    assert shown.loc[("VG", "10")].tolist() == ["9.99", "123", "0.500"]
    assert shown.loc[("IG", "10")].tolist() == ["10.00", DASH, DASH]
    assert isinstance(table([], index=None), pd.DataFrame)


def test_a_long_cell_is_shown_whole() -> None:
    long = "their code path, round 1 (does it reproduce the paper's jump?)"
    with pd.option_context("display.max_colwidth", 50):
        html = table([{"isolates": long}]).to_html()
    assert long in html and "..." not in html
