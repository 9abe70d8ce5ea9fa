"""The book's tables: one format for every table a notebook shows.

- a number has 3 decimals, a percentage (a column whose name ends in ``(%)``) 1, an integer none;
- a missing value (``None``, NaN: e.g. a level the paper did not report) is an em dash;
- a value and its 95 % interval are three columns of one group (:func:`interval`), so the numbers line up;
- a pruning level is an integer percentage of weights removed, in the column :data:`LEVEL` (:func:`level`);
  a network near chance says so beside its level (:func:`flagged`).

Rows are plain dicts, one key per column; a dict as a value makes a group of columns under one heading (two
header rows). :func:`table` returns a DataFrame of the displayed strings (numbers right-aligned in the book by
``book/_static/prunelib.css``); the numbers themselves stay in the results files the rows were built from.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Iterable, Mapping

import pandas as pd

DASH = "—"
LEVEL = "% removed"
VALUE, LOW, HIGH = "value", "95 % CI low", "95 % CI high"
#: decimals of a number, of a percentage (a column named "... (%)")
DECIMALS, PERCENT_DECIMALS = 3, 1


def level(sparsity: float | str) -> int:
    """A pruning level as the integer percentage of weights removed: ``0.1`` or ``"0.1"`` -> ``10``."""
    return round(100 * float(sparsity))


def flagged(level_pct: int, at_chance: bool) -> int | str:
    """A level as a table shows it: the integer % removed, followed by " (at chance)" where its network is near
    chance (measured, judged by no verdict)."""
    return f"{level_pct} (at chance)" if at_chance else level_pct


def percent(fraction: float | None) -> float | None:
    """A fraction as a percentage (``None`` stays ``None``)."""
    return None if fraction is None else 100 * fraction


def interval(ci: Mapping[str, float] | None, value: str = VALUE) -> dict[str, float | None]:
    """A bootstrap interval ``{"estimate", "low", "high"}`` as three columns: ``value`` (or the name given),
    :data:`LOW`, :data:`HIGH`; ``None`` (no interval) gives three missing values."""
    ci = ci or {}
    return {value: ci.get("estimate"), LOW: ci.get("low"), HIGH: ci.get("high")}


def cell(value: Any, decimals: int = DECIMALS) -> str:
    """One displayed value: an em dash if missing, an integer as is, a number with ``decimals``, text as is."""
    if value is None or (isinstance(value, Real) and math.isnan(value)):
        return DASH
    if isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    if isinstance(value, Integral):
        return str(int(value))
    return f"{round(float(value), decimals) + 0.0:.{decimals}f}"  # + 0.0: a value that rounds to zero shows no sign


def _decimals(column: tuple[str, ...], decimals: Mapping[str, int]) -> int:
    for name in column:
        if name in decimals:
            return decimals[name]
    return PERCENT_DECIMALS if any(name.endswith("(%)") for name in column) else DECIMALS


def table(rows: Iterable[Mapping[str, Any]], *, index: str | list[str] | None = None,
          decimals: Mapping[str, int] | None = None) -> pd.DataFrame:
    """The rows as a DataFrame of displayed strings (see the module docstring), shown whole: pandas' display is set
    to cut no cell's text (``display.max_colwidth``), where "..." would hide words of a verdict or a label.

    Args:
        rows: one dict per row; a dict value is a group of columns (``{"Gini": interval(ci)}``).
        index: the column(s) that label the rows (shown at the left, as row headers).
        decimals: decimals for the columns or groups named, instead of the rule of the module docstring.
    """
    pd.set_option("display.max_colwidth", None)
    flat = [{(k, s): v2 for k, v in row.items() for s, v2 in (v.items() if isinstance(v, Mapping) else [("", v)])}
            for row in rows]
    columns = list(dict.fromkeys(key for row in flat for key in row))
    grouped = any(sub for _, sub in columns)
    shown = pd.DataFrame([{key: cell(row.get(key), _decimals(key, decimals or {})) for key in columns}
                          for row in flat], columns=columns)
    shown.columns = pd.MultiIndex.from_tuples(columns) if grouped else [name for name, _ in columns]
    if index is not None:
        names = [index] if isinstance(index, str) else list(index)
        shown = shown.set_index([(name, "") if grouped else name for name in names])
        shown.index.names = names
    return shown
