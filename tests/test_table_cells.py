"""The book's table-cell marking (book/_ext/table_cells.py) on known inputs."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from table_cells import is_numeric, mark_text_cells  # noqa: E402

from prunelib.figures.tables import table  # noqa: E402


@pytest.mark.parametrize("text", ["0.457", "-0.013", "−0.013", "+0.046", "84.5", "250", "84.5 %", "—",
                                  "0, 10, 20, 30", "0.220, 0.163, 0.154", " 3 "])
def test_numbers_and_the_missing_value_dash_are_numeric(text: str) -> None:
    assert is_numeric(text)


@pytest.mark.parametrize("text", ["inconclusive", "holds (at 98 % on 1 of 3 seeds)", "aafe2aa57e", "~500",
                                  "2026-11-24T20:22:19+00:00", "30 per round (code)", "", "0.1.2"])
def test_text_is_not_numeric(text: str) -> None:
    assert not is_numeric(text)


def test_marks_the_text_cells_of_a_table_the_book_shows_and_no_other() -> None:
    shown = table([{"level": 10, "verdict": "holds", "Gini": 0.4567, "seeds": None}]).to_html()
    marked = mark_text_cells(shown)
    assert '<td class="text">holds</td>' in marked
    assert "<td>10</td>" in marked and "<td>0.457</td>" in marked and "<td>—</td>" in marked
    assert marked.count('class="text"') == 1


def test_leaves_cells_outside_a_dataframe_table_alone() -> None:
    other = '<table class="docutils"><tr><td>setting</td></tr></table>'
    assert mark_text_cells(other) == other
    both = other + table([{"verdict": "inconclusive"}]).to_html()
    assert mark_text_cells(both) == other + table([{"verdict": "inconclusive"}]).to_html().replace(
        "<td>inconclusive</td>", '<td class="text">inconclusive</td>')


def test_a_long_text_cell_or_row_header_is_marked_long_so_that_its_column_stays_wide_enough() -> None:
    long = "VG: paper's effect excluded · IG: inconclusive"
    shown = table([{"claim": "Pruning sharpens saliency maps (Gini up)", "verdict": long},
                   {"claim": "A1", "verdict": "holds"}], index="claim").to_html()
    marked = mark_text_cells(shown)
    assert f'<td class="text long">{long}</td>' in marked and '<td class="text">holds</td>' in marked
    assert '<th class="long">Pruning sharpens saliency maps (Gini up)</th>' in marked and "<th>A1</th>" in marked
