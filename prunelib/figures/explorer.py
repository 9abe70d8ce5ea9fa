"""Saliency explorer: a pruning-level slider that works in the static book and a live one for a kernel.

Two widgets:

- :func:`static_slider` / :func:`static_explorer` show *pre-rendered* PNG frames (one per pruning level, and
  per method) in :class:`ipywidgets.Stack` containers whose ``selected_index`` is tied to a slider with
  :func:`ipywidgets.jslink`. The link runs in the browser, so once the notebook has been executed (the widget
  state is then saved in the notebook metadata) the slider works in the rendered HTML with no kernel.
- :func:`live_explorer` is for a running kernel: image, method (VG/IG) and level controls call a user-supplied
  ``render(image_index, method, level) -> (picture, info)`` and update the map, the prediction and the metrics.

Pre-rendered frames live in ``results/<profile>/explorer/``: ``index.json`` plus one PNG per (level, method),
named ``level_<pp>_<method>.png`` where ``pp`` is the pruned percentage (see :func:`save_explorer_frames`,
:func:`load_explorer_frames`).
"""
from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, Union

import ipywidgets as widgets
import numpy as np

from ..saliency import PAPER_METHODS

#: Anything :func:`to_png` turns into PNG bytes.
Picture = Union[bytes, np.ndarray, "PIL.Image.Image", "matplotlib.figure.Figure"]  # noqa: F821

INDEX_VERSION = 1


def to_png(picture: Picture, dpi: int = 100) -> bytes:
    """PNG bytes of ``picture``.

    ``picture`` is PNG ``bytes`` (returned unchanged), a matplotlib Figure (saved at ``dpi``, then closed), a PIL
    image, or an array: (H, W) grey or (H, W, 3|4) colour, uint8 or float in [0, 1].
    """
    if isinstance(picture, (bytes, bytearray)):
        if not bytes(picture[:8]) == b"\x89PNG\r\n\x1a\n":
            raise ValueError("picture: bytes given but they are not a PNG file")
        return bytes(picture)
    from PIL import Image

    buf = io.BytesIO()
    if hasattr(picture, "savefig"):
        import matplotlib.pyplot as plt

        picture.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(picture)
        return buf.getvalue()
    if isinstance(picture, Image.Image):
        picture.save(buf, format="PNG")
        return buf.getvalue()
    arr = np.asarray(picture)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"picture: expected an (H, W) or (H, W, 3|4) array, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(f"picture: expected uint8 or float values in [0, 1], got dtype {arr.dtype}")
        arr = (np.clip(arr, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _image_widget(png: bytes, width: str | None) -> widgets.Image:
    layout = widgets.Layout(width=width, height="auto") if width else widgets.Layout()
    return widgets.Image(value=png, format="png", layout=layout)


def static_slider(
    images: Sequence[Picture], labels: Sequence[str], description: str = "Pruned", width: str | None = None
) -> widgets.VBox:
    """A slider over pre-rendered ``images`` that works without a kernel.

    The images go into a :class:`ipywidgets.Stack` and the ``labels`` (HTML allowed) into a second Stack; both
    ``selected_index`` traits are ``jslink``-ed to an :class:`~ipywidgets.IntSlider`, so moving the slider swaps
    the picture and the label in the browser. Returns ``VBox([HBox([slider, label]), image_stack])``.
    """
    if len(images) == 0:
        raise ValueError("images: need at least one picture")
    if len(images) != len(labels):
        raise ValueError(f"labels: expected {len(images)} labels (one per image), got {len(labels)}")
    slider = widgets.IntSlider(value=0, min=0, max=len(images) - 1, step=1, description=description,
                               readout=False, continuous_update=True,
                               style={"description_width": "initial"})
    pictures = widgets.Stack([_image_widget(to_png(im), width) for im in images], selected_index=0)
    captions = widgets.Stack([widgets.HTML(value=str(lab)) for lab in labels], selected_index=0)
    widgets.jslink((slider, "value"), (pictures, "selected_index"))
    widgets.jslink((slider, "value"), (captions, "selected_index"))
    box = widgets.VBox([widgets.HBox([slider, captions]), pictures])
    box.add_class("prunelib-static-slider")
    return box


@dataclass
class ExplorerFrames:
    """Pre-rendered explorer frames: ``png[method][i]`` shows pruning level ``levels[i]`` (fraction removed)."""

    levels: list[float]
    methods: list[str]
    png: dict[str, list[bytes]]
    labels: list[str] = field(default_factory=list)
    caption: str = ""

    def __post_init__(self) -> None:
        if not self.labels:
            self.labels = [level_label(p) for p in self.levels]
        for m in self.methods:
            if len(self.png.get(m, [])) != len(self.levels):
                raise ValueError(f"png[{m!r}]: expected {len(self.levels)} frames, got {len(self.png.get(m, []))}")


def level_label(level: float) -> str:
    """``0.3 -> '30 % of weights removed'``."""
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"level: expected a fraction of weights removed in [0, 1], got {level}")
    return f"{100 * level:.4g} % of weights removed"


def frame_name(level: float, method: str) -> str:
    """File name of one frame, e.g. ``level_30_VG.png``; levels with decimals keep them (``level_97.5_IG.png``)."""
    if not method.isidentifier():
        raise ValueError(f"method: expected a short name such as 'VG' or 'IG', got {method!r}")
    pct = f"{100 * level:.4g}"
    return f"level_{pct.zfill(2)}_{method}.png"


def save_explorer_frames(
    directory: str | Path,
    levels: Sequence[float],
    methods: Sequence[str],
    frames: Mapping[tuple[float, str], Picture],
    labels: Sequence[str] | None = None,
    caption: str = "",
    dpi: int = 100,
) -> Path:
    """Write ``frames[(level, method)]`` as PNGs plus ``index.json`` into ``directory``; returns the index path.

    ``index.json``: ``{"version": 1, "levels": [...], "labels": [...], "methods": [...],
    "files": {method: [file per level]}, "caption": str}``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    levels = [float(p) for p in levels]
    labels = list(labels) if labels is not None else [level_label(p) for p in levels]
    if len(labels) != len(levels):
        raise ValueError(f"labels: expected {len(levels)} labels, got {len(labels)}")
    files: dict[str, list[str]] = {}
    for m in methods:
        files[m] = []
        for p in levels:
            if (p, m) not in frames:
                raise ValueError(f"frames: missing the frame for level {p} and method {m!r}")
            name = frame_name(p, m)
            (directory / name).write_bytes(to_png(frames[(p, m)], dpi=dpi))
            files[m].append(name)
    index = {"version": INDEX_VERSION, "levels": levels, "labels": labels, "methods": list(methods),
             "files": files, "caption": caption}
    path = directory / "index.json"
    path.write_text(json.dumps(index, indent=1))
    return path


def load_explorer_frames(directory: str | Path) -> ExplorerFrames:
    """Read what :func:`save_explorer_frames` wrote into ``directory``."""
    path = Path(directory) / "index.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no explorer index (write one with save_explorer_frames)")
    index = json.loads(path.read_text())
    if index.get("version") != INDEX_VERSION:
        raise ValueError(f"{path}: expected index version {INDEX_VERSION}, got {index.get('version')!r}")
    png = {m: [(path.parent / f).read_bytes() for f in index["files"][m]] for m in index["methods"]}
    return ExplorerFrames(levels=index["levels"], methods=index["methods"], png=png,
                          labels=index["labels"], caption=index.get("caption", ""))


def static_explorer(frames: ExplorerFrames, description: str = "Pruned", width: str | None = None) -> widgets.VBox:
    """Kernel-free explorer: method toggle buttons and one level slider over pre-rendered frames.

    One :func:`static_slider`-style image Stack per method sits in an outer Stack switched by a
    :class:`~ipywidgets.ToggleButtons` (``index`` jslinked to ``selected_index``); one slider drives every
    method's Stack and the label Stack.
    """
    n = len(frames.levels)
    slider = widgets.IntSlider(value=0, min=0, max=n - 1, step=1, description=description, readout=False,
                               style={"description_width": "initial"})
    captions = widgets.Stack([widgets.HTML(value=lab) for lab in frames.labels], selected_index=0)
    widgets.jslink((slider, "value"), (captions, "selected_index"))
    per_method = []
    for m in frames.methods:
        stack = widgets.Stack([_image_widget(b, width) for b in frames.png[m]], selected_index=0)
        widgets.jslink((slider, "value"), (stack, "selected_index"))
        per_method.append(stack)
    methods = widgets.Stack(per_method, selected_index=0)
    toggle = widgets.ToggleButtons(options=list(frames.methods), index=0, description="Method")
    widgets.jslink((toggle, "index"), (methods, "selected_index"))
    rows: list[widgets.Widget] = [toggle, widgets.HBox([slider, captions]), methods]
    if frames.caption:
        rows.append(widgets.HTML(value=f"<p>{html.escape(frames.caption)}</p>"))
    box = widgets.VBox(rows)
    box.add_class("prunelib-static-explorer")
    return box


def info_html(info: Mapping[str, Any]) -> str:
    """A small two-column HTML table of ``info`` (floats with 4 significant digits)."""
    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(str(k))}</th>"
        f"<td>{html.escape(f'{v:.4g}' if isinstance(v, float) else str(v))}</td></tr>"
        for k, v in info.items())
    return f"<table>{rows}</table>"


def live_explorer(
    render: Callable[[int, str, Any], tuple[Picture, Mapping[str, Any]]],
    image_names: Sequence[str],
    levels: Sequence[Any],
    methods: Sequence[str] = tuple(PAPER_METHODS.split(",")),
    level_labels: Sequence[str] | None = None,
    width: str | None = None,
) -> widgets.VBox:
    """Explorer for a running kernel: every control change calls ``render(image_index, method, level)``.

    ``render`` returns ``(picture, info)``: the picture (Figure, array, PIL image or PNG bytes, see
    :func:`to_png`) is shown and ``info`` (e.g. prediction, confidence, Gini) is shown as a table. Returns
    ``VBox([controls, image, info])``; the controls are a Dropdown (image), ToggleButtons (method) and a
    SelectionSlider (level, labelled by ``level_labels``).
    """
    if not image_names:
        raise ValueError("image_names: need at least one image")
    if not levels:
        raise ValueError("levels: need at least one pruning level")
    if not methods:
        raise ValueError("methods: need at least one saliency method")
    level_labels = list(level_labels) if level_labels is not None else [str(x) for x in levels]
    if len(level_labels) != len(levels):
        raise ValueError(f"level_labels: expected {len(levels)} labels, got {len(level_labels)}")
    image = widgets.Dropdown(options=[(name, i) for i, name in enumerate(image_names)], value=0,
                             description="Image")
    method = widgets.ToggleButtons(options=list(methods), value=methods[0], description="Method")
    level = widgets.SelectionSlider(options=list(zip(level_labels, range(len(levels)))), value=0,
                                    description="Pruned", continuous_update=False,
                                    style={"description_width": "initial"})
    picture = _image_widget(b"", width)
    info = widgets.HTML()

    def update(_change: Any = None) -> None:
        pic, meta = render(image.value, method.value, levels[level.value])
        picture.value = to_png(pic)
        info.value = info_html(meta)

    for control in (image, method, level):
        control.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([image, method]), level, picture, info])
    box.add_class("prunelib-live-explorer")
    return box


def plot_saliency_frame(image: np.ndarray, maps: Mapping[str, np.ndarray], title: str = "",
                        info: Mapping[str, str] | None = None) -> "matplotlib.figure.Figure":  # noqa: F821
    """One explorer frame: the image (H, W, 3) in [0, 1], then each saliency map (H, W) scaled by its maximum absolute value.

    ``info[name]`` (optional) is printed under the panel of map ``name`` (e.g. ``"Gini 0.47"``).
    """
    import matplotlib.pyplot as plt

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image: expected an (H, W, 3) array, got shape {image.shape}")
    fig, axes = plt.subplots(1, 1 + len(maps), figsize=(2.2 * (1 + len(maps)), 2.5), squeeze=False)
    axes = axes[0]
    axes[0].imshow(np.clip(image, 0, 1))
    axes[0].set_title("image", fontsize=9)
    for ax, (name, m) in zip(axes[1:], maps.items()):
        m = np.abs(np.asarray(m, dtype=float))
        if m.shape != image.shape[:2]:
            raise ValueError(f"maps[{name!r}]: expected shape {image.shape[:2]}, got {m.shape}")
        ax.imshow(m / (m.max() or 1.0), cmap="inferno", vmin=0, vmax=1)
        ax.set_title(name, fontsize=9)
        if info and name in info:
            ax.set_xlabel(info[name], fontsize=8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
