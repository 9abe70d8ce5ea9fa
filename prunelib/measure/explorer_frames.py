"""Section 5: the explorer's frames, from the saliency stage's maps and the profile's networks.

For each image the saliency stage explained (``results/<profile>/saliency/maps.npz``: the images and each
method's maps, figure setting, at every level) and each level: the network's prediction on the image, and per
method the map's Gini index, the map over the image, and the images the network sees when the most relevant
pixels are removed (:func:`removal_series`: ROAD's MoRF order, noisy linear imputation and noise, through
:func:`prunelib.metrics.road_images`) with its prediction on each. The pictures are drawn by
:mod:`prunelib.measure.drawing` and saved with :func:`~prunelib.measure.frames.save_frames`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .. import data as imagenette
from ..metrics import gini, road_images
from ..models import device_of
from ..profiles import PERCENTAGES, parse_percentages
from ..saliency import in_order
from .common import inputs
from .drawing import overlay
from .encoding import encode
from .frames import ExplorerFrames, ImageFrames, LevelFrames, MethodFrames, Prediction, save_frames
from .saliency_maps import load_maps

#: sigma of ROAD's imputation noise, in the units of the normalised image (as the faithfulness stage uses it)
NOISE = 0.01


@torch.no_grad()
def removal_series(model: nn.Module, x: torch.Tensor, saliency: torch.Tensor, percentages: Sequence[float], *,
                   noise: float = NOISE, seed: int = 0, index: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """What ``model`` sees and predicts when ``percentages`` of the pixels of ``x`` are removed, most relevant
    first by ``saliency``.

    ``x``: one normalised image (C, H, W); ``saliency``: its map (H, W). Returns the images (P, C, H, W) and the
    softmax probabilities on them (P, classes). 0 % is ``x`` itself; every other percentage is
    :func:`prunelib.metrics.road_images` (MoRF): ROAD's removal order, imputation and noise, with the noise
    seeds ROAD gives image ``index`` of a batch.
    """
    removed = [float(p) for p in percentages if p > 0]
    imputed = iter(road_images(x, saliency.to(x.device), removed, order="morf", noise=noise, seed=seed,
                               index=index) if removed else ())
    images = torch.stack([x if p == 0 else next(imputed) for p in percentages])
    return images, model(images).softmax(1)


def _prediction(probabilities: torch.Tensor) -> Prediction:
    p, c = probabilities.max(0)
    return Prediction(imagenette.CLASSES[int(c)], float(p))


def _shown(x: torch.Tensor) -> np.ndarray:
    """Normalised images (N, 3, H, W) as the (N, H, W, 3) pictures in [0, 1] they are."""
    return imagenette.denormalize(x).permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def level_frames(model: nn.Module, x: torch.Tensor, maps: dict[str, torch.Tensor], level: float,
                 percentages: Sequence[float], *, seed: int = 0, index: int = 0, fmt: str = "webp") -> LevelFrames:
    """The explorer's frames of one image ``x`` (C, H, W, normalised) at one level: ``model`` is that level's
    network and ``maps[method]`` (H, W) its maps of ``x``; pictures encoded as ``fmt`` (``webp``, ``jpeg``)."""
    image = _shown(x[None])[0]
    methods = {}
    for name, m in maps.items():
        images, probabilities = removal_series(model, x, m, percentages, seed=seed, index=index)
        methods[name] = MethodFrames(gini=float(gini(m[None])[0]), overlay=encode(overlay(image, m.cpu().numpy()), fmt),
                                     removed=[encode(p, fmt) for p in _shown(images)],
                                     predictions=[_prediction(p) for p in probabilities])
    return LevelFrames(float(level), _prediction(model(x[None]).softmax(1)[0]), methods)


def explorer_frames(models: dict[float, nn.Module], maps_dir: Path, val: imagenette.Split, out_dir: Path, *,
                    image_size: int, seed: int = 0, percentages: str = PERCENTAGES, n_images: int = 3,
                    caption: str = "", fmt: str = "webp") -> ExplorerFrames:
    """Compute the frames of the first ``n_images`` images of the saliency maps in ``maps_dir``
    (:func:`prunelib.measure.saliency_maps.saliency_grid`, made from the same ``models``, keyed by sparsity) at
    every level; save them into ``out_dir`` (``index.json`` + pictures, :mod:`prunelib.measure.frames`)
    and return them."""
    ps = parse_percentages(percentages)
    stage = Path(maps_dir)
    maps = load_maps(stage)
    methods = maps.get("methods") or in_order(maps["gini"])  # the profile's order (older files: the registry's)
    if list(models) != [float(s) for s in maps["levels"]]:
        raise ValueError(f"{stage}: maps of levels {list(maps['levels'])}, but the checkpoints are of levels "
                         f"{list(models)}: run the saliency stage (notebook 02) again")
    if maps["images"].shape[1] != image_size:
        raise ValueError(f"{stage}: maps of {maps['images'].shape[1]} px images, but image_size is {image_size}: "
                         "run the saliency stage (notebook 02) with this profile again")
    images = []
    for k, i in enumerate(maps["val_index"][:n_images]):
        if str(val.files[i]) != maps["files"][k]:
            raise ValueError(f"{stage}: image {k} is {maps['files'][k]}, but validation image {i} is {val.files[i]}: "
                             "run the saliency stage (notebook 02) with this profile's data and seed again")
        levels = []
        for j, (level, model) in enumerate(models.items()):
            x = inputs(val, torch.tensor([i]), image_size, device_of(model))[0][0]
            levels.append(level_frames(model, x, {m: torch.from_numpy(maps[m][j, k]) for m in methods}, level, ps,
                                       seed=seed, index=k, fmt=fmt))
        images.append(ImageFrames(maps["classes"][k], levels))
    frames = ExplorerFrames(methods=list(methods), percentages=ps, images=images, caption=caption)
    save_frames(frames, out_dir)
    return frames
