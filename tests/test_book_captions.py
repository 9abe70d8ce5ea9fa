"""The book's alt text and table captions (book/_ext/figure_alt.py, book/_ext/table_captions.py) on known inputs."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from figure_alt import first_sentence  # noqa: E402
from table_captions import _number_tables, numbered_table, table_spec  # noqa: E402


@pytest.mark.parametrize("caption, said", [
    ("What made the paper's jump. Above the line, the authors' loop. Drawn by prunelib.figures.jump.plot_jump from "
     "results/a.json.", "What made the paper's jump."),
    ("Gini against the weights removed (0.5 %, 95 % CI) and\nthe paper's. Grey: chance.",
     "Gini against the weights removed (0.5 %, 95 % CI) and the paper's."),
    ("One line only Drawn by x from y.", "One line only"),
])
def test_alt_text_is_the_captions_first_sentence_without_its_provenance(caption: str, said: str) -> None:
    assert first_sentence(caption) == said


def test_a_cell_names_and_captions_its_table_or_says_what_is_wrong() -> None:
    assert table_spec({"tags": ["full-width"]}) is None
    assert table_spec({"table": {"name": " tab-x ", "caption": "Every network,\n one row each."}}) == (
        "tab-x", "Every network, one row each.")
    with pytest.raises(ValueError, match="'name': ..., 'caption': ..."):
        table_spec({"table": {"name": "tab-x"}})


def test_a_cell_that_shows_several_tables_gets_them_all_under_its_one_number_and_caption() -> None:
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    doctree = new_document("chapter", get_default_settings(Parser))
    cell = nodes.container(nb_element="cell_code", cell_metadata={"table": {"name": "tab-x", "caption": "Each one."}})
    for i in range(3):
        cell += nodes.container("", nodes.raw("", f'<table class="dataframe">{i}</table>', format="html"))
    doctree += cell
    _number_tables(None, doctree)
    [wrapped] = list(doctree.findall(numbered_table))
    assert wrapped["ids"] == ["tab-x"] and wrapped.children[0].astext() == "Each one."
    assert [t.astext() for t in wrapped.children[1:]] == [f'<table class="dataframe">{i}</table>' for i in range(3)]
    assert len(list(doctree.findall(nodes.raw))) == 3  # each table once, all inside the numbered one


def test_the_results_files_a_caption_names_become_pieces_of_their_own_where_they_exist() -> None:
    from data_links import split_files
    text = "Drawn by f from results/noise/summary.csv, results/x/missing.json · profile noise."
    assert split_files(text, lambda path: "missing" not in path) == [
        ("Drawn by f from ", False), ("results/noise/summary.csv", True),
        (", results/x/missing.json · profile noise.", False)]
    assert split_files("no file here", lambda path: True) == [("no file here", False)]
