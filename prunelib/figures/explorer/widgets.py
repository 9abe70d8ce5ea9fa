"""The explorer's widgets: one layout, kernel-free over saved frames (:func:`static_explorer`) or computed live.

Top to bottom: the image chooser; the *weights removed* slider; the prediction on the intact image and, side by
side, each method's map over the image with its Gini index; the *pixels removed* slider; side by side, the
image each method's ranking leaves to the network, with the prediction on it (panels: :mod:`.panels`).

:func:`static_explorer` puts every panel into :class:`ipywidgets.Stack` containers whose ``selected_index`` is
:func:`ipywidgets.jslink`-ed to the controls: the links run in the browser, so once the notebook is executed
(its widget state saved) the explorer works in the static HTML book, without a kernel.
:func:`live_explorer` computes the frames of one image at one level when the controls ask for them.
"""
from __future__ import annotations

import html
from typing import Callable, Sequence

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from ...measure.frames import ExplorerFrames, LevelFrames
from .panels import DISPLAY_PX, LEGEND, level_label, map_panel, removal_panel


class _Html:
    """HTML widgets sharing one layout and one style: each widget's own would be two more models in the
    notebook's widget state for every panel."""

    def __init__(self) -> None:
        self.layout, self.style = widgets.Layout(), HTMLStyle()

    def __call__(self, value: str) -> widgets.HTML:
        return widgets.HTML(value, layout=self.layout, style=self.style)


#: what the explorer says over the maps of a network near chance
AT_CHANCE = ("<p style='color:#b00'><b>At chance:</b> this network's top-1 is below twice chance; its maps explain "
             "nothing and no verdict judges it.</p>")


def _sliders(levels: Sequence[float], percentages: Sequence[float], at_chance: Sequence[float] = ()
             ) -> tuple[widgets.SelectionSlider, ...]:
    style, layout = {"description_width": "9em"}, widgets.Layout(width="520px")
    chance = {round(float(c), 6) for c in at_chance}
    labels = [level_label(s) + (" (at chance)" if round(float(s), 6) in chance else "") for s in levels]
    level = widgets.SelectionSlider(options=[(label, j) for j, label in enumerate(labels)], value=0,
                                    description="Weights removed", style=style, layout=layout)
    fraction = widgets.SelectionSlider(options=[(f"{p:.4g} %", i) for i, p in enumerate(percentages)], value=0,
                                       description="Pixels removed", style=style, layout=layout)
    return level, fraction


def static_explorer(frames: ExplorerFrames, px: int = DISPLAY_PX, at_chance: Sequence[float] = ()) -> widgets.VBox:
    """The kernel-free explorer over ``frames`` (see the module docstring); its class is
    ``prunelib-static-explorer``. The networks of the levels ``at_chance`` are labelled so on the slider and over
    their maps."""
    panel = _Html()
    level, fraction = _sliders(frames.levels, frames.percentages, at_chance)
    chance = {round(float(c), 6) for c in at_chance}
    maps, removals = [], []
    for image in frames.images:
        per_level = widgets.Stack([panel((AT_CHANCE if round(float(lv.level), 6) in chance else "") + map_panel(lv, px))
                                   for lv in image.levels], selected_index=0)
        stacks = [widgets.Stack([panel(removal_panel(lv, i, px)) for i in range(len(frames.percentages))],
                                selected_index=0) for lv in image.levels]
        removed = widgets.Stack(stacks, selected_index=0)
        widgets.jslink((level, "index"), (per_level, "selected_index"))
        widgets.jslink((level, "index"), (removed, "selected_index"))
        for stack in stacks:
            widgets.jslink((fraction, "index"), (stack, "selected_index"))
        maps.append(per_level)
        removals.append(removed)
    map_images, removal_images = widgets.Stack(maps, selected_index=0), widgets.Stack(removals, selected_index=0)
    chooser = widgets.ToggleButtons(options=[(im.name, k) for k, im in enumerate(frames.images)], value=0,
                                    description="Image")
    widgets.jslink((chooser, "index"), (map_images, "selected_index"))
    widgets.jslink((chooser, "index"), (removal_images, "selected_index"))
    notes = LEGEND + (f"<br><small>{html.escape(frames.caption)}</small>" if frames.caption else "")
    box = widgets.VBox([chooser, level, map_images, fraction, removal_images, panel(notes)])
    box.add_class("prunelib-static-explorer")
    return box


def live_explorer(compute: Callable[[int, int], LevelFrames], image_names: Sequence[str], levels: Sequence[float],
                  percentages: Sequence[float], px: int = DISPLAY_PX) -> widgets.VBox:
    """The explorer for a running kernel: ``compute(image_index, level_index)`` makes the frames of one image
    at one level whenever the image or the level changes; the pixels-removed slider shows one of them."""
    if not image_names or not levels or not percentages:
        raise ValueError("live_explorer: needs at least one image name, one level and one removal percentage")
    chooser = widgets.Dropdown(options=[(name, k) for k, name in enumerate(image_names)], value=0,
                               description="Image")
    level, fraction = _sliders(levels, percentages)
    maps, removal = widgets.HTML(), widgets.HTML()
    shown: list[LevelFrames] = []

    def show(_change: object = None) -> None:
        shown[:] = [compute(chooser.value, level.index)]
        maps.value = map_panel(shown[0], px)
        swap()

    def swap(_change: object = None) -> None:
        removal.value = removal_panel(shown[0], fraction.index, px)

    chooser.observe(show, names="value")
    level.observe(show, names="index")
    fraction.observe(swap, names="index")
    show()
    box = widgets.VBox([chooser, level, maps, fraction, removal, widgets.HTML(LEGEND)])
    box.add_class("prunelib-live-explorer")
    return box
