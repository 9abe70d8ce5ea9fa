"""Section 5, live: the explorer's frames of any of a few validation images per class, computed on request.

Needs a running kernel, the data and the profile's checkpoints; without them :func:`open_live_explorer` says
which command makes them instead of failing.
"""
from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import Callable

import ipywidgets as widgets
import torch
from torch import nn

from .. import data as imagenette
from ..figures.explorer import live_explorer
from ..measure.common import inputs, validation_split
from ..measure.explorer_frames import PERCENTAGES, level_frames, parse_percentages
from ..measure.frames import LevelFrames
from ..models import device_of
from ..saliency import methods as chosen_methods


def live_source(models: dict[float, nn.Module], *, data: str | None, image_size: int, methods: str,
                percentages: str = PERCENTAGES, val_per_class: int = 0, seed: int = 0,
                per_class: int = 2) -> tuple[Callable[[int, int], LevelFrames], list[str], list[float]]:
    """``(compute, image names, levels)``: ``compute(image_index, level_index)`` makes the frames of one of
    ``per_class`` validation images of each class (a seeded choice) at one level of ``models`` (networks in eval
    mode keyed by sparsity), with the ``methods`` maps in their figure setting, as the saliency pictures are made.
    Results are kept, so going back is instant."""
    explainers = chosen_methods(methods)
    ps = parse_percentages(percentages)
    levels = list(models)
    val = imagenette.per_class_subset(validation_split(data, val_per_class, seed), per_class, seed=seed)
    names = [f"{imagenette.CLASSES[int(y)]} · {Path(f).stem}" for y, f in zip(val.labels, val.files)]

    @functools.lru_cache(maxsize=None)
    def compute(image_index: int, level_index: int) -> LevelFrames:
        model = models[levels[level_index]]
        x, y = inputs(val, torch.tensor([image_index]), image_size, device_of(model))
        maps = {name: e.figure(model, x, y)[0] for name, e in explainers.items()}
        return level_frames(model, x[0], maps, levels[level_index], ps, seed=seed, index=image_index)

    return compute, names, levels


def open_live_explorer(result: dict, *, data: str | None, methods: str, percentages: str = PERCENTAGES,
                       device: str = "auto") -> widgets.Widget:
    """The live explorer of a sweep job's networks (``result``: the job's result, :func:`prunelib.chapters.study.
    job_result`), or, when their checkpoints or the data are missing here, a note saying what makes them."""
    from . import study
    settings = result["settings"]
    try:
        models = study.networks(result, device)
        compute, names, levels = live_source(models, data=data, image_size=settings["image_size"], methods=methods,
                                             percentages=percentages, val_per_class=settings["val_per_class"],
                                             seed=result["seed"])
    except FileNotFoundError as err:
        return widgets.HTML(f"<p>The live explorer needs the job's networks: {html.escape(str(err))}</p>")
    except imagenette.DataError as err:
        return widgets.HTML(f"<p>The live explorer needs ImageNette: {html.escape(str(err))}</p>")
    return live_explorer(compute, names, levels, parse_percentages(percentages))
