"""The ROAD curves' figure when a method or every network has no curve to draw (a smoke run's networks at chance)."""
from __future__ import annotations

import warnings
from typing import Iterator

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from prunelib.figures import faithfulness  # noqa: E402


@pytest.fixture(autouse=True)
def no_open_figures() -> Iterator[None]:
    """Each test starts with no pyplot figure open, so that a warning it turns into an error is its own figure's,
    not matplotlib's count of the figures that earlier tests on the same worker left open."""
    plt.close("all")
    yield
    plt.close("all")

LEVELS = ("0.0", "0.5")


def _metrics(ig_estimate, shared_levels) -> dict:
    def entry(estimate):
        curve = {"estimate": estimate, "low": [0.8, 0.4], "high": [1.0, 0.6]}
        return {"road": {o: {"curve": curve} for o in ("morf", "lerf")}}
    return {"levels": [float(s) for s in LEVELS], "shared_levels": shared_levels, "percentages": [1, 11],
            "methods": {"VG": {s: entry([0.9, 0.5]) for s in LEVELS}, "IG": {s: entry(ig_estimate) for s in LEVELS}}}


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_the_last_panel_without_curves_still_carries_the_legend_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "No artists with labels found to put in legend"
        fig = faithfulness.plot_road_curves(_metrics(None, [0.0, 0.5]))
    legend = fig.axes[-1].get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["0 %", "50 %"]


def test_every_network_at_chance_is_said_in_each_panel_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = faithfulness.plot_road_curves(_metrics([0.9, 0.5], []))
    assert fig.axes[-1].get_legend() is None
    assert _texts(fig) == ["no curve: every network at chance (0 %, 50 %)"] * 2


def test_a_method_the_paper_did_not_measure_leaves_its_panel_of_the_paper_row_empty_without_a_warning() -> None:
    from prunelib.reference import load_reference
    m = _metrics([0.9, 0.5], [0.0, 0.5])
    m["methods"]["SG"] = m["methods"]["VG"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = faithfulness.plot_road_curves(m, reference=load_reference())
    paper_row = fig.axes[3:]
    assert paper_row[1].get_legend() is not None and not paper_row[2].axison
