"""Run profiles (``prunelib/profiles.yaml``, or ``$PRUNELIB_PROFILES``): read safely and checked before any work.

A profile is a mapping of settings, under a name that is a plain word (it names folders: ``results/<profile>/``).
Every key must be one of :data:`SETTINGS`, with a value of its type and range, parsed by the same function its job
parses it with (:func:`prunelib.pipeline.parse_levels` for ``levels``, :func:`parse_methods`, :func:`parse_classes`,
:func:`parse_percentages`); numbers must be finite, and settings that bound each other
(``n_concepts`` and the crops of ``craft_images``) are checked together. A mistake (a YAML syntax error, a file that
is not a mapping, a Python tag, an unknown key, a wrong value) is a :class:`ProfileError` naming the file, the
profile and the key, raised when a command starts, not hours later inside a job. What depends on the data (the
image set against the validation split) is checked by :mod:`prunelib.settings` once the data are located.

A checked profile is parsed once into :class:`Settings` (:func:`load_settings`), a frozen dataclass with one typed
field per setting and its default; code that reads settings reads its fields (:func:`as_settings` parses a mapping of
settings, e.g. the ``params`` a result file records, the same way).
"""
from __future__ import annotations

import dataclasses

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable

import yaml

from .typed_settings import REMOVAL_PERCENTAGES, ProfileError, Settings

#: the shipped profiles; ``$PRUNELIB_PROFILES`` names another file of the same form (e.g. your own sweep's)
PROFILES_FILE = Path(__file__).with_name("profiles.yaml")


def _int(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _number(low: float, high: float | None = None, *, open_low: bool = False) -> Callable[[Any], bool]:
    def ok(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return False
        return (v > low if open_low else v >= low) and (high is None or v < high)
    return ok


def _text(v: Any) -> bool:
    return isinstance(v, str)


def _choice(*options: str) -> Callable[[Any], bool]:
    return lambda v: v in options


def _seeds(v: Any) -> bool:
    return isinstance(v, str) and all(s.strip().isdigit() for s in v.split(",") if s.strip())


def parse_study(text: str) -> list[tuple[int, str]]:
    """The (seed, regime) jobs of a ``study`` setting, groups of ``"seeds: regimes"`` separated by ``;`` (``"0,1,2:
    global,lottery; 0: authors_masked"``), in the order written; a ValueError says what is wrong."""
    jobs = []
    for group in (g for g in text.split(";") if g.strip()):
        seeds, sep, regimes = group.partition(":")
        if not sep or not _seeds(seeds) or not seeds.strip() or not regimes.strip():
            raise ValueError(f"{group.strip()!r} is not 'seeds: regimes'")
        for regime in parse_regimes(regimes):
            jobs += [(int(seed), regime) for seed in seeds.split(",") if seed.strip()]
    return jobs


def parse_regimes(text: str) -> list[str]:
    """``"global, lottery"`` -> ``["global", "lottery"]``: regimes of :data:`prunelib.regimes.REGIMES`, spaces
    stripped; a ValueError names an unknown one."""
    from .regimes import REGIMES
    names = [r.strip() for r in str(text).split(",") if r.strip()]
    for regime in names:
        if regime not in REGIMES:
            raise ValueError(f"{regime!r} is not a regime ({', '.join(REGIMES)})")
    return names


def _study(v: Any) -> bool:
    try:
        return isinstance(v, str) and bool(parse_study(v))
    except ValueError:
        return False


def parse_methods(text: str) -> list[str]:
    """``"VG, IG"`` -> ``["VG", "IG"]``: saliency methods of :data:`prunelib.saliency.METHODS`, spaces stripped; a
    ValueError names an unknown one."""
    from .saliency import METHODS
    names = [m.strip() for m in str(text).split(",") if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if not names or unknown:
        raise ValueError(f"{'unknown saliency methods ' + ', '.join(map(repr, unknown)) if unknown else 'none named'}"
                         f"; the methods are {', '.join(METHODS)}")
    return names


def parse_classes(text: str) -> list[str]:
    """``"church, tench"`` -> ``["church", "tench"]``: ImageNette class names (:data:`prunelib.data.CLASSES`), spaces
    stripped; a ValueError names a misspelt one."""
    from .data import CLASSES
    names = [c.strip() for c in str(text).split(",") if c.strip()]
    unknown = [c for c in names if c not in CLASSES]
    if unknown:
        raise ValueError(f"not ImageNette classes: {', '.join(map(repr, unknown))}; the classes are "
                         f"{', '.join(CLASSES)}")
    return names


def _parsed(parse: Callable[[Any], Any]) -> Callable[[Any], bool]:
    """A check that parses the value as its job will: the parser's ValueError is the message."""
    def ok(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        parse(v)
        return True
    return ok


def _levels(text: str) -> list[float]:
    from .pipeline import parse_levels
    return parse_levels(text)


#: :data:`~prunelib.typed_settings.REMOVAL_PERCENTAGES` as a profile writes them
PERCENTAGES = ",".join(f"{p:g}" for p in REMOVAL_PERCENTAGES)


def parse_percentages(text: str) -> list[float]:
    """``"0,10,50"`` -> ``[0.0, 10.0, 50.0]``: increasing percentages of pixels removed, in [0, 100)."""
    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"percentages: expected comma-separated numbers like '0,10,50', got {text!r}") from None
    if not values or any(not 0 <= v < 100 for v in values) or any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"percentages: expected increasing percentages in [0, 100), got {text!r} "
                         "(100 % would leave no pixel to impute from)")
    return values


#: the settings that say how the book draws a profile, not what its jobs compute (left out of a job's inputs)
DRAWING_ONLY = ("stages", "authors_profile", "study")
#: the settings that say which pictures a job draws (:mod:`prunelib.sweep.pictures` records them), not what it measures
PICTURES_ONLY = ("picture_seeds", "picture_regimes", "saliency_classes", "removal_percentages")
#: the settings that say for which seeds and how a job also measures concepts (:mod:`prunelib.sweep.concepts` records
#: what those are made from), not what it measures of every network
CONCEPTS_FOR = ("concept_seeds", "craft_classes", "craft_images", "n_concepts")
#: the settings that are not inputs of a job's measurements (:func:`prunelib.sweep.records.job_inputs`)
NOT_JOB_INPUTS = DRAWING_ONLY + PICTURES_ONLY + CONCEPTS_FOR
#: every setting a profile may hold: (check, what it must be)
SETTINGS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "stages": (_text, "comma-separated stage names"),
    "authors_profile": (_text, "the name of the profile of the authors' sweep that a chapter also reads"),
    "study": (_study, "the jobs the book's verdicts are designed on, 'seeds: regimes' groups separated by ';' "
                      "(e.g. '0,1,2: global,lottery'), with regimes of prunelib.regimes.REGIMES"),
    "image_size": (_int(32), "an integer >= 32 (pixels)"),
    "subset_per_class": (_int(0), "an integer >= 0 (0 = all)"),
    "val_per_class": (_int(0), "an integer >= 0 (0 = all)"),
    "epochs": (_int(1), "an integer >= 1"),
    "batch_size": (_int(1), "an integer >= 1"),
    "lr": (_number(0, open_low=True), "a finite number > 0"),
    "eps": (_number(0, open_low=True), "a number > 0 (the optimiser's epsilon)"),
    "weight_decay": (_number(0), "a number >= 0"),
    "optimizer": (_choice("ranger", "adamw", "sgd"), "ranger, adamw or sgd"),
    "label_smoothing": (_number(0, 1), "a number in [0, 1)"),
    "flat_fraction": (_number(0, 1), "a number in [0, 1)"),
    "schedule_unit": (_choice("step", "epoch"), "step or epoch"),
    "finetune_epochs": (_int(1), "an integer >= 1"),
    "finetune_lr": (_number(0, open_low=True), "a finite number > 0"),
    "levels": (_parsed(_levels), "comma-separated percentages like '10,20,30'"),
    "lottery_rate": (_number(0, 100, open_low=True), "a percentage in (0, 100)"),
    "lottery_rounds": (_int(1), "an integer >= 1"),
    "authors_rounds": (_int(1), "an integer >= 1"),
    "methods": (_parsed(parse_methods), "comma-separated saliency methods of prunelib.saliency.METHODS (VG, IG, SG)"),
    "n_attribution_images": (_int(1), "an integer >= 1"),
    "image_set_per_class": (_int(1), "an integer >= 1 (validation images per class)"),
    "image_set_seed": (_int(0), "an integer >= 0"),
    "ig_steps": (_int(1), "an integer >= 1"),
    "road_precision": (_choice("fp32", "bf16"), "fp32 or bf16"),
    "bf16": (lambda v: isinstance(v, bool), "true or false (train under bf16 autocast; default true)"),
    "n_bootstrap": (_int(2), "an integer >= 2 (resamples of a percentile interval)"),
    "seed": (_int(0), "an integer >= 0"),
    "craft_images": (_int(1), "an integer >= 1"),
    "craft_classes": (_parsed(parse_classes), "comma-separated ImageNette class names"),
    "n_concepts": (_int(1), "an integer >= 1"),
    "concept_seeds": (_seeds,
                      "comma-separated integer seeds, or empty"),
    "picture_seeds": (_seeds,
                      "comma-separated integer seeds, or empty"),
    "picture_regimes": (_parsed(parse_regimes), "comma-separated regimes of prunelib.regimes.REGIMES (default: every "
                                                 "regime whose networks are levels)"),
    "saliency_classes": (_parsed(parse_classes), "comma-separated ImageNette class names"),
    "removal_percentages": (_parsed(parse_percentages), "comma-separated increasing percentages in [0, 100)"),
}


def profiles_file() -> Path:
    """The profiles in force: ``$PRUNELIB_PROFILES`` if set, else :data:`PROFILES_FILE`."""
    return Path(os.environ.get("PRUNELIB_PROFILES") or PROFILES_FILE)


def read_profiles(source: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every profile of ``source`` (default :func:`profiles_file`) as written, each checked; a :class:`ProfileError`
    names what is wrong. Only plain YAML is read (``yaml.safe_load``: a ``!!python/...`` tag is refused, never run)."""
    return {name: dict(settings.raw) for name, settings in _read(source or profiles_file()).items()}


def _read(source: Path) -> dict[str, "Settings"]:
    try:
        profiles = yaml.safe_load(source.read_text())
    except OSError as err:
        raise ProfileError(f"cannot read the profiles file {source} ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ProfileError(f"{source} is not valid YAML{at}: {problem}") from None
    if not isinstance(profiles, dict) or not profiles:
        raise ProfileError(f"{source} must be a mapping of profile names to settings, got {type(profiles).__name__}")
    return {name: check(name, params, source) for name, params in profiles.items()}


#: what a profile's name may be: it names folders (``results/<profile>/``, ``checkpoints/<profile>/``)
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
#: the channels of ResNet-18's last block, the activations CRAFT factorises: at most that many concepts
CONCEPT_CHANNELS = 512


def check(name: str, params: Any, source: Path | str = "the profile") -> "Settings":
    """The :class:`Settings` of profile ``name``; a :class:`ProfileError` unless ``name`` is a plain word and
    ``params`` a mapping of known settings with valid values (each parsed as its job parses it), consistent with each
    other."""
    if not isinstance(name, str) or not PROFILE_NAME.fullmatch(name):
        raise ProfileError(f"{source}: profile name {name!r} must be letters, digits, '_' and '-' (it names the "
                           "folders results/<profile>/ and checkpoints/<profile>/)")
    return _parse(name, params, source)


def _parse(name: str, params: Any, source: Path | str) -> "Settings":
    if not isinstance(params, dict):
        raise ProfileError(f"{source}: profile {name!r} must be a mapping of settings, got {type(params).__name__}")
    for key, value in params.items():
        if key not in SETTINGS:
            raise ProfileError(f"{source}: profile {name!r} has an unknown setting {key!r}; known settings are "
                               f"{', '.join(sorted(SETTINGS))}")
        ok, expected = SETTINGS[key]
        try:
            valid = ok(value)
        except ValueError as err:  # a parser's own message says what is wrong
            raise ProfileError(f"{source}: profile {name!r}, setting {key!r} must be {expected}, got {value!r}: "
                               f"{err}") from None
        if not valid:
            raise ProfileError(f"{source}: profile {name!r}, setting {key!r} must be {expected}, got {value!r}")
    typed = {f.name for f in dataclasses.fields(Settings)}  # a notebook's own parameter stays in ``raw`` only
    settings = Settings(name=name, raw=MappingProxyType(dict(params)),
                        **{key: _PARSERS.get(key, _same)(value) for key, value in params.items() if key in typed})
    try:
        check_concepts(settings)
    except ValueError as err:
        raise ProfileError(f"{source}: profile {name!r}: {err}") from None
    return settings


def concept_crops(settings: "Settings", n_images: int | None = None, image_size: int | None = None) -> int:
    """The crops CRAFT cuts from ``n_images`` images of a class (default: ``craft_images``) at ``image_size``
    (default: the profile's) (:func:`prunelib.craft.crops.patch_size` and :func:`~prunelib.craft.crops.crop_starts`)."""
    from .craft.crops import crop_starts, patch_size
    size = settings.need("image_size") if image_size is None else image_size
    per_image = len(crop_starts(size, patch_size(size))) ** 2
    return per_image * (settings.need("craft_images") if n_images is None else n_images)


def check_concepts(settings: "Settings", n_images: int | None = None, image_size: int | None = None) -> None:
    """Raise ValueError when CRAFT cannot fit ``n_concepts`` concepts: NMF needs at least as many crops (of
    ``n_images``, default ``craft_images``, at ``image_size``, default the profile's) and channels
    (:data:`CONCEPT_CHANNELS`) as concepts."""
    size = settings.image_size if image_size is None else image_size
    if settings.craft_classes is None or size is None or settings.craft_images is None:
        return
    crops = concept_crops(settings, n_images, size)
    if settings.n_concepts > min(crops, CONCEPT_CHANNELS):
        raise ValueError(f"setting 'n_concepts' ({settings.n_concepts}) exceeds what CRAFT can factorise: "
                         f"{crops} crops of {n_images if n_images is not None else settings.craft_images} images "
                         f"a class at {size} px and {CONCEPT_CHANNELS} channels; lower n_concepts "
                         "or raise craft_images")


def load_profile(name: str) -> dict[str, Any]:
    """The (checked) settings of profile ``name`` as written in the profiles file (:attr:`Settings.raw` of
    :func:`load_settings`, as a dict)."""
    return dict(load_settings(name).raw)


def load_settings(name: str) -> "Settings":
    """The :class:`Settings` of profile ``name``, parsed once; a :class:`ProfileError` lists the profiles if it is
    unknown."""
    source = profiles_file()
    profiles = _read(source)
    if name not in profiles:
        raise ProfileError(f"unknown profile {name!r}; {source} defines {', '.join(profiles)}")
    return profiles[name]


def as_settings(params: "Settings | Mapping[str, Any]") -> "Settings":
    """``params`` as :class:`Settings`: a Settings as it is, a mapping of settings (a profile's, or the ``params``
    a result file records) checked and parsed as a profile is."""
    if isinstance(params, Settings):
        return params
    if not isinstance(params, Mapping):
        raise ProfileError(f"expected settings or a mapping of settings, got {type(params).__name__}")
    return _parse(UNNAMED, dict(params), "the settings given")


#: the name of :class:`Settings` parsed from a mapping that names no profile (:func:`as_settings`)
UNNAMED = "(unnamed)"


def _same(value: Any) -> Any:
    return value


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in str(text).split(",") if w.strip())


def _int_seeds(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in str(text).split(",") if s.strip())


#: how a checked value becomes its :class:`Settings` field (a setting not named here is kept as read: a number, a
#: word, a boolean)
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "stages": _words,
    "study": lambda v: tuple(parse_study(v)),
    "levels": lambda v: tuple(_levels(v)),
    "methods": lambda v: tuple(parse_methods(v)),
    "craft_classes": lambda v: tuple(parse_classes(v)),
    "saliency_classes": lambda v: tuple(parse_classes(v)),
    "concept_seeds": _int_seeds,
    "picture_seeds": _int_seeds,
    "picture_regimes": lambda v: tuple(parse_regimes(v)),
    "removal_percentages": lambda v: tuple(parse_percentages(v)),
}


