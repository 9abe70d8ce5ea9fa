"""A profile's settings as the code reads them: one typed, frozen field per setting, parsed once.

:class:`Settings` is what every module that computes reads (the recipe, the regimes, the image set, the
measurements); :mod:`prunelib.profiles` reads a profile from ``profiles.yaml``, checks each setting and parses it into
one (:func:`prunelib.profiles.load_settings`). This module imports nothing of prunelib, so that the code below the
profiles can name the type without reaching up to them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


class ProfileError(ValueError):
    """A profile file or setting is not what prunelib can run; the message names the file, profile and key."""


#: the book's chapters that ``reproduce`` draws when a profile names no ``stages`` (1-6, from seed 0's global job)
DEFAULT_STAGES = ("training", "saliency", "faithfulness", "concepts", "explorer", "comparison")

#: the concepts a job fits when its profile names none (:func:`prunelib.sweep.concepts.settings`)
DEFAULT_CONCEPTS = 10
#: the percentages of pixels removed that the explorer shows by default (0: the intact image)
REMOVAL_PERCENTAGES = (0.0, 10.0, 20.0, 30.0, 50.0, 70.0, 90.0)


@dataclass(frozen=True)
class Settings:
    """A profile's settings, checked and parsed once (:func:`load_settings`): one field per setting of
    :data:`SETTINGS`, each with the default a job applies when the profile names none. None marks a setting with no
    default: the training recipe's (``epochs`` ... ``bf16``, ``image_size``: :class:`prunelib.training.TrainConfig`'s,
    the paper's recipe), or one a job needs only when it does that work (:meth:`need` names it then).

    ``raw`` is the mapping as read from the profiles file (read-only): what a result file records as its ``params``.
    """

    name: str
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)
    stages: tuple[str, ...] = DEFAULT_STAGES
    authors_profile: str | None = None
    #: (seed, regime) jobs, in the order written
    study: tuple[tuple[int, str], ...] = ()
    image_size: int | None = None
    #: images per class (0: all)
    subset_per_class: int = 0
    val_per_class: int = 0
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    eps: float | None = None
    weight_decay: float | None = None
    optimizer: str | None = None
    label_smoothing: float | None = None
    flat_fraction: float | None = None
    schedule_unit: str | None = None
    finetune_epochs: int | None = None
    finetune_lr: float | None = None
    #: cumulative target sparsities, fractions
    levels: tuple[float, ...] | None = None
    #: percent of each layer's remaining weights a round removes
    lottery_rate: float | None = None
    lottery_rounds: int | None = None
    authors_rounds: int | None = None
    methods: tuple[str, ...] = ("VG", "IG")
    n_attribution_images: int | None = None
    #: None: n_attribution_images spread over the classes (:func:`prunelib.image_set.set_size`)
    image_set_per_class: int | None = None
    image_set_seed: int = 0
    ig_steps: int | None = None
    road_precision: str = "fp32"
    bf16: bool | None = None
    n_bootstrap: int | None = None
    seed: int = 0
    craft_images: int | None = None
    #: None: no concept metrics
    craft_classes: tuple[str, ...] | None = None
    n_concepts: int = DEFAULT_CONCEPTS
    concept_seeds: tuple[int, ...] = (0,)
    picture_seeds: tuple[int, ...] = ()
    #: the regimes whose jobs draw pictures (None: every regime whose networks are levels)
    picture_regimes: tuple[str, ...] | None = None
    saliency_classes: tuple[str, ...] | None = None
    #: percent of pixels removed, increasing
    removal_percentages: tuple[float, ...] = REMOVAL_PERCENTAGES

    def need(self, key: str) -> Any:
        """The value of setting ``key``; a :class:`ProfileError` naming the profile and the key when it names none."""
        value = getattr(self, key)
        if value is None:
            raise ProfileError(f"profile {self.name!r} has no setting {key!r}, which this work needs")
        return value
