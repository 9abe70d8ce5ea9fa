"""Choosing the validation images to explain: correctly classified ones, the same across networks where possible.

One rule serves every stage. A deterministic pool (a shuffle of the split seeded by ``seed``, optionally only one
class) is classified by every network; images right at every network (except those in ``exclude``, e.g. networks
near chance) are taken first, and a network for which they are too few is topped up with its own other correct
images. The faithfulness stage and the sweep explain ``n`` images per network this way, the saliency figures one
image per class (:func:`one_per_class`), the concept stage the dense network's correct images of a class.
"""
from __future__ import annotations

from typing import Hashable, Literal, Mapping, NamedTuple

import torch
from torch import nn

from . import data
from .training import predict


def _name(key: Hashable) -> str:
    return f"sparsity {key:.0%}" if isinstance(key, float) else str(key)


def _pool(val: data.Split, n: int, seed: int, of_class: str | None, pool_size: int | None) -> torch.Tensor:
    order = torch.randperm(len(val), generator=torch.Generator().manual_seed(seed))
    if of_class is not None:
        if of_class not in data.CLASSES:
            raise ValueError(f"unknown class {of_class!r}; ImageNette classes are {', '.join(data.CLASSES)}")
        order = order[val.labels[order] == data.CLASSES.index(of_class)]
        if not len(order):
            raise ValueError(f"the validation split has no image of class {of_class!r}")
    return order[: pool_size or max(4 * n, 1000)]


def _correct(models: Mapping[Hashable, nn.Module], val: data.Split, image_size: int,
             pool: torch.Tensor) -> dict[Hashable, torch.Tensor]:
    """Per network, whether it classifies each pooled image correctly (fp32)."""
    return {k: predict(m, val.images[pool], image_size=image_size, bf16=False).argmax(1).cpu() == val.labels[pool]
            for k, m in models.items()}


def _everywhere(correct: dict[Hashable, torch.Tensor], exclude: tuple[Hashable, ...]) -> torch.Tensor:
    """Pooled images right at every network not in ``exclude``."""
    kept = [ok for k, ok in correct.items() if k not in exclude]
    return torch.stack(kept).all(0) if kept else torch.zeros(len(next(iter(correct.values()))), dtype=torch.bool)


class Chosen(NamedTuple):
    """What :func:`choose_correct` chose."""

    #: per network, the sorted int64 indices into the validation split
    indices: dict[Hashable, torch.Tensor]
    #: how many images every network not excluded classifies correctly (the first of each network's indices)
    n_shared: int
    #: per network, how many of its indices it classifies correctly (fewer than asked: the caller says so)
    n_correct: dict[Hashable, int]


@torch.no_grad()
def choose_correct(models: Mapping[Hashable, nn.Module], val: data.Split, image_size: int, n: int, seed: int = 0,
                   *, of_class: str | None = None, exclude: tuple[Hashable, ...] = (), pool_size: int | None = None,
                   too_few: Literal["raise", "any"] = "raise") -> Chosen:
    """Up to ``n`` correctly classified validation images per network, the same ones across networks where possible.

    models: networks in eval mode keyed by a level or a name; val: the validation split (uint8 images);
    of_class: only images of this ImageNette class; exclude: networks that take their own correct images and do
    not restrict the shared set; pool_size: images classified (default ``max(4 n, 1000)``). A network with fewer
    than ``min(n, 2)`` correct images in the pool is a ValueError, or with ``too_few="any"`` (a barely trained
    smoke model) takes the pool's first ``n`` images regardless of correctness; a network may get fewer than
    ``n``. Nothing is printed: :class:`Chosen` says how many were correct, for the caller to report.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    pool = _pool(val, n, seed, of_class, pool_size)
    correct = _correct(models, val, image_size, pool)
    everywhere = _everywhere(correct, exclude)
    shared = pool[everywhere][:n]
    chosen, n_correct = {}, {}
    for k, ok in correct.items():
        idx = pool[ok][:n] if k in exclude else torch.cat([shared, pool[ok & ~everywhere][: n - len(shared)]])
        if len(idx) < min(n, 2):
            what = f"only {len(idx)} of the {len(pool)} pooled validation images" + \
                   (f" of class {of_class!r}" if of_class else "") + f" are classified correctly by {_name(k)}"
            if too_few == "raise":
                raise ValueError(f"{what}: too few to explain; train longer")
            n_correct[k], idx = len(idx), pool[:n]
        else:
            n_correct[k] = len(idx)
        chosen[k] = torch.sort(idx).values
    return Chosen(chosen, len(shared), n_correct)


@torch.no_grad()
def one_per_class(models: Mapping[float, nn.Module], val: data.Split, classes: list[str], image_size: int,
                  seed: int = 0, *, exclude: tuple[float, ...] = (), pool_per_class: int = 40) -> list[int]:
    """One validation index per class name for the figures: right at every network not in ``exclude`` if one of the
    first ``pool_per_class`` images of the class is, else right at the dense network (the smallest key), else the
    class's first image (an untrained smoke model)."""
    chosen = []
    for name in classes:
        pool = _pool(val, 1, seed, name, pool_per_class)
        correct = _correct(models, val, image_size, pool)
        for hits in (_everywhere(correct, exclude), correct[min(models)], torch.ones(len(pool), dtype=torch.bool)):
            if hits.any():
                chosen.append(int(pool[hits.nonzero()[0, 0]]))
                break
    return chosen
