"""The explorer's panels as HTML: the pictures of one image at one level, each with its numbers.

Pictures are embedded as ``data:`` URLs, so one panel is one HTML widget and the page loads nothing from
elsewhere. (An :class:`ipywidgets.Image` per picture adds a widget model, a layout and a style per picture to
the notebook: 2.3 MB of widget state for the smoke run, of which 0.5 MB are pictures; a widget per panel: 0.6 MB.)
"""
from __future__ import annotations

import base64
import html

from ...saliency import METHODS
from ...measure.encoding import format_of
from ...measure.frames import LevelFrames, Prediction

#: the width (CSS pixels) each picture is shown at; pictures are stored at the network's input size
DISPLAY_PX = 256
SURVIVES, CHANGES = "#1a7f37", "#c62828"
LEGEND = ("<small>Maps: |saliency| in inferno colours (black: 0, yellow: the largest values, where the top 2 % of "
          "the map's total saturates) over a grey copy of the image. Pixels removed: that share of the pixels, the "
          "most relevant first by each method's map, filled in by ROAD's noisy linear imputation; the result is "
          "what the network is shown. ✓ it still predicts the class it predicts on the intact image, ✗ it changed; "
          "the percentage is its softmax probability.</small>")


def level_label(level: float) -> str:
    """``0.3 -> '30 %'``, ``0.0 -> '0 % (dense)'``: a level (fraction of weights removed) as the slider shows it."""
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"level: expected a fraction of weights removed in [0, 1], got {level}")
    return f"{100 * level:.4g} %" + (" (dense)" if level == 0 else "")


def prediction_html(prediction: Prediction, intact: Prediction | None = None) -> str:
    """``church 93 %``; given the ``intact`` image's prediction, marked ✓ (same class) or ✗ (changed), coloured."""
    text = f"{html.escape(prediction.label)} {100 * prediction.probability:.0f} %"
    if intact is None:
        return text
    same = prediction.label == intact.label
    return f"<span style='color:{SURVIVES if same else CHANGES}'>{'✓' if same else '✗'} {text}</span>"


def picture_html(data: bytes, px: int, alt: str) -> str:
    """An ``<img>`` of encoded picture bytes, ``px`` CSS pixels wide."""
    src = f"data:image/{format_of(data)};base64,{base64.b64encode(data).decode('ascii')}"
    return f"<img src='{src}' alt='{html.escape(alt)}' style='width:{px}px;height:auto;display:block'>"


def _columns(cells: list[str]) -> str:
    """Side by side, wrapping to the next line where the page is too narrow."""
    return ("<div style='display:flex;flex-wrap:wrap;gap:8px 14px;line-height:1.4'>"
            + "".join(f"<div>{c}</div>" for c in cells) + "</div>")


def method_title(name: str) -> str:
    """``<b>VG</b> · Vanilla Gradients``: the registry's short name and label (a method it does not know: its name)."""
    label = METHODS[name].label if name in METHODS else name
    return f"<b>{html.escape(name)}</b> · {html.escape(label)}"


def map_panel(frames: LevelFrames, px: int = DISPLAY_PX) -> str:
    """The prediction on the intact image, then each method's map over the image with its Gini index."""
    cells = [f"{method_title(name)} · Gini {m.gini:.2f}{picture_html(m.overlay, px, f'{name} map over the image')}"
             for name, m in frames.methods.items()]
    return f"<div>Prediction on the intact image: <b>{prediction_html(frames.prediction)}</b></div>{_columns(cells)}"


def removal_panel(frames: LevelFrames, i: int, px: int = DISPLAY_PX) -> str:
    """Each method's ``i``-th removal: the image the network sees, and its prediction on it under it."""
    cells = [picture_html(m.removed[i], px, f"image with the pixels {name} ranks first removed")
             + f"{html.escape(name)}: {prediction_html(m.predictions[i], frames.prediction)}"
             for name, m in frames.methods.items()]
    return _columns(cells)
