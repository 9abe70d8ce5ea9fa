"""The explorer's frames: what it shows for each image and pruning level, and their folder (``index.json`` + pictures).

For every image and level: the network's prediction on the intact image, and for every saliency method the
map's Gini index, the map laid over the image, and the image the network sees after the most relevant
``percentages`` of its pixels were removed (MoRF, ROAD's imputation) with the prediction on each.

A folder holds ``index.json`` (the numbers and the picture file names) and one picture per frame,
``image_<k>/level_<pp>_<method>_map.jpg`` and ``image_<k>/level_<pp>_<method>_removed_<qq>.jpg``, where ``pp``
is the percentage of weights removed and ``qq`` the percentage of pixels removed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .encoding import SUFFIX, format_of

INDEX = "index.json"
VERSION = 2


@dataclass(frozen=True)
class Prediction:
    """The class a network predicts (its name) and the softmax probability it gives that class."""

    label: str
    probability: float


@dataclass
class MethodFrames:
    """One method at one level: the map's Gini, the map over the image, and per removal percentage the image
    the network sees (``removed[i]``) and what it predicts on it (``predictions[i]``)."""

    gini: float
    overlay: bytes
    removed: list[bytes]
    predictions: list[Prediction]


@dataclass
class LevelFrames:
    """One pruning level (fraction of weights removed) of one image: the prediction on the intact image and
    each method's frames."""

    level: float
    prediction: Prediction
    methods: dict[str, MethodFrames]


@dataclass
class ImageFrames:
    """One image (``name``: its true class, and where it comes from) at every level."""

    name: str
    levels: list[LevelFrames]


@dataclass
class ExplorerFrames:
    """Everything the explorer shows: ``images``, each at the same levels, with ``methods`` and ``percentages``."""

    methods: list[str]
    percentages: list[float]
    images: list[ImageFrames]
    caption: str = ""
    levels: list[float] = field(init=False)

    def __post_init__(self) -> None:
        if not self.images or not self.methods or not self.percentages:
            raise ValueError("ExplorerFrames: needs at least one image, one method and one removal percentage")
        self.levels = [lv.level for lv in self.images[0].levels]
        for image in self.images:
            if [lv.level for lv in image.levels] != self.levels:
                raise ValueError(f"image {image.name!r}: levels {[lv.level for lv in image.levels]}, "
                                 f"expected those of the first image, {self.levels}")
            for lv in image.levels:
                if list(lv.methods) != list(self.methods):
                    raise ValueError(f"image {image.name!r}, level {lv.level}: methods {list(lv.methods)}, "
                                     f"expected {self.methods}")
                for name, m in lv.methods.items():
                    if not len(m.removed) == len(m.predictions) == len(self.percentages):
                        raise ValueError(f"image {image.name!r}, level {lv.level}, {name}: {len(m.removed)} "
                                         f"pictures and {len(m.predictions)} predictions for "
                                         f"{len(self.percentages)} removal percentages")


def _pct(fraction_or_percent: float) -> str:
    return f"{fraction_or_percent:.4g}".zfill(2)


def save_frames(frames: ExplorerFrames, directory: str | Path) -> Path:
    """Write ``frames`` into ``directory`` (pictures and ``index.json``, see the module docstring); returns the
    index path."""
    directory = Path(directory)
    images = []
    for k, image in enumerate(frames.images):
        (directory / f"image_{k}").mkdir(parents=True, exist_ok=True)
        levels = []
        for lv in image.levels:
            stem = f"image_{k}/level_{_pct(100 * lv.level)}"
            methods = {}
            for name, m in lv.methods.items():
                overlay = f"{stem}_{name}_map{SUFFIX[format_of(m.overlay)]}"
                (directory / overlay).write_bytes(m.overlay)
                removed = []
                for p, picture in zip(frames.percentages, m.removed):
                    removed.append(f"{stem}_{name}_removed_{_pct(p)}{SUFFIX[format_of(picture)]}")
                    (directory / removed[-1]).write_bytes(picture)
                methods[name] = {"gini": m.gini, "overlay": overlay, "removed": removed,
                                 "predictions": [vars(p) for p in m.predictions]}
            levels.append({"level": lv.level, "prediction": vars(lv.prediction), "methods": methods})
        images.append({"name": image.name, "levels": levels})
    index = {"version": VERSION, "methods": frames.methods, "percentages": frames.percentages,
             "caption": frames.caption, "images": images}
    path = directory / INDEX
    path.write_text(json.dumps(index, indent=1))
    return path


class _Reader:
    """Reads one ``index.json``; every mistake is an error naming the file and the entry."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, entry: Any, key: str | int, where: str, kind: type | tuple[type, ...] = object) -> Any:
        try:
            value = entry[key]
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"{self.path}: {where} has no {key!r} (write the folder with save_frames)") from None
        if not isinstance(value, kind):
            raise ValueError(f"{self.path}: {where}[{key!r}] is {value!r}, expected {getattr(kind, '__name__', kind)}")
        return value

    def picture(self, name: str, where: str) -> bytes:
        file = self.path.parent / name
        if not file.is_file():
            raise FileNotFoundError(f"{self.path}: {where} names {name}, which is missing")
        data = file.read_bytes()
        format_of(data, str(file))
        return data

    def prediction(self, entry: Any, where: str) -> Prediction:
        probability = self.get(entry, "probability", where, (int, float))
        return Prediction(self.get(entry, "label", where, str), float(probability))


def load_frames(directory: str | Path) -> ExplorerFrames:
    """Read what :func:`save_frames` wrote into ``directory``."""
    path = Path(directory) / INDEX
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no explorer index (the explorer stage, notebook 05, writes it)")
    try:
        index = json.loads(path.read_text())
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    r = _Reader(path)
    if r.get(index, "version", "the index") != VERSION:
        raise ValueError(f"{path}: version {index['version']!r}, this prunelib reads version {VERSION}: "
                         "run the explorer stage again")
    methods = r.get(index, "methods", "the index", list)
    images = []
    for k, image in enumerate(r.get(index, "images", "the index", list)):
        levels = []
        for j, lv in enumerate(r.get(image, "levels", f"images[{k}]", list)):
            where = f"images[{k}].levels[{j}]"
            per_method = {}
            for name in methods:
                m = r.get(r.get(lv, "methods", where, dict), name, f"{where}.methods")
                at = f"{where}.methods.{name}"
                per_method[name] = MethodFrames(
                    gini=float(r.get(m, "gini", at, (int, float))),
                    overlay=r.picture(r.get(m, "overlay", at, str), at),
                    removed=[r.picture(f, at) for f in r.get(m, "removed", at, list)],
                    predictions=[r.prediction(p, f"{at}.predictions") for p in r.get(m, "predictions", at, list)])
            levels.append(LevelFrames(float(r.get(lv, "level", where, (int, float))),
                                      r.prediction(r.get(lv, "prediction", where), where), per_method))
        images.append(ImageFrames(r.get(image, "name", f"images[{k}]", str), levels))
    percentages = [float(p) for p in r.get(index, "percentages", "the index", list)]
    try:
        return ExplorerFrames(methods=methods, percentages=percentages, images=images,
                              caption=str(index.get("caption", "")))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
