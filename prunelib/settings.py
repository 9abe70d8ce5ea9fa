"""The one check before any work, shared by ``train``, ``prune``, ``sweep`` and ``reproduce``.

A command reads its profile first (:func:`prunelib.profiles.load_settings` parses every setting as its job will parse
it), then calls :func:`before_work`, which

1. locates the data (:func:`find_data`): ``--data``, else ``$PRUNELIB_DATA``, else the project's ``data/``. With
   ``--download`` (or ``PRUNELIB_DOWNLOAD=1``) ImageNette is fetched there through torchvision when it is absent (the
   archive's MD5 checked, its progress shown); offline that is one line. A profile of :data:`SYNTHETIC_PROFILES` (the
   smoke run) given no data and finding none runs on a synthetic ImageNette it generates, and says so in one line;
2. checks the settings that depend on the data (:func:`check_against_data`): the per-class subsets, the fixed image
   set and CRAFT's crops against the images each class has, and the decoded splits against the machine's memory;
3. checks that every folder the command writes can be written (a sweep checks its own in
   :func:`prunelib.sweep.runner.run_sweep`, once its options are checked).

Nothing is decoded, trained or written before all three pass; a failure names the setting, the file or the folder.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

from . import paths
from .profiles import Settings, as_settings

#: set to 1 to fetch ImageNette where it is missing, as ``--download`` does
DOWNLOAD_VARIABLE = "PRUNELIB_DOWNLOAD"
#: the profiles that, given no data and finding none, run on the synthetic ImageNette of :func:`synthetic_folder`
SYNTHETIC_PROFILES = ("smoke",)


class SettingsError(ValueError):
    """A setting the data or the machine cannot satisfy; the message names the setting and what limits it."""


def download_wanted(flag: bool) -> bool:
    """``--download`` given, or ``$PRUNELIB_DOWNLOAD`` set to anything but empty or 0."""
    return flag or os.environ.get(DOWNLOAD_VARIABLE, "") not in ("", "0")


def synthetic_folder() -> Path:
    """Where the synthetic ImageNette of a machine without the data is generated (``make test`` uses it too)."""
    return paths.cache_dir() / "synthetic-imagenette"


def find_data(profile: str, data: str | None, *, download: bool = False,
              echo: Callable[[str], None] = print) -> Path:
    """The ImageNette root a command of ``profile`` reads (:func:`prunelib.data.locate`); see the module's step 1."""
    from .data import DataError, locate
    from .synthetic import ensure_imagenette
    try:
        return locate(data, download=download)
    except DataError:
        nothing_given = data is None and not os.environ.get("PRUNELIB_DATA")
        if not (nothing_given and not download and profile in SYNTHETIC_PROFILES
                and not paths.resolve("data").exists()):
            raise
    folder = ensure_imagenette(synthetic_folder())
    echo(f"no ImageNette given or found: the {profile} profile runs on the synthetic ImageNette of "
         f"{paths.portable(folder)}, generated when missing (for the real one: --data PATH, PRUNELIB_DATA=PATH or "
         "--download)")
    return locate(folder)


def _class_limit(counts: list[int], per_class: int) -> tuple[int, int]:
    """(the fewest images a class offers, which class) when each class is cut to ``per_class`` (0: all)."""
    offered = [min(c, per_class) if per_class else c for c in counts]
    fewest = min(range(len(offered)), key=offered.__getitem__)
    return offered[fewest], fewest


def check_against_data(params: Settings | Mapping[str, Any], root: Path, *, image_size: int | None,
                       measures: bool, memory_bytes: int | None = None) -> None:
    """Raise :class:`SettingsError` when the settings ``params`` ask more of the data at ``root`` than it holds, or
    when decoding its splits at ``image_size`` (None: not checked) would not fit in ``memory_bytes`` (default: the
    machine's). ``measures``: the command also measures (the image set and CRAFT's images are checked too). Reads the
    file listing only."""
    from .data import CLASSES, class_counts
    from .image_set import set_size
    from .profiles import check_concepts
    settings = as_settings(params)
    train, val = class_counts(root, "train"), class_counts(root, "val")
    for key, counts, split in (("subset_per_class", train, "train"), ("val_per_class", val, "val")):
        wanted = getattr(settings, key)
        fewest, c = _class_limit(counts, 0)
        if wanted > fewest:
            raise SettingsError(f"setting {key!r} asks {wanted} images of each class, but class {CLASSES[c]!r} has "
                                f"{fewest} in {root / split}")
    val_cut = settings.val_per_class
    cut = f" (val_per_class {val_cut})" if val_cut else ""
    if measures and (settings.image_set_per_class is not None or settings.n_attribution_images is not None):
        per_class = set_size(settings)[0]
        fewest, c = _class_limit(val, val_cut)
        if per_class > fewest:
            raise SettingsError(f"the image set asks {per_class} validation images of each class "
                                f"(image_set_per_class, or n_attribution_images spread over the classes), but the "
                                f"validation split{cut} gives {fewest} of class {CLASSES[c]!r} in {root / 'val'}")
    if measures and settings.craft_classes is not None:
        for name in settings.craft_classes:
            offered = _class_limit([val[CLASSES.index(name)]], val_cut)[0]
            try:
                check_concepts(settings, n_images=min(settings.need("craft_images"), offered), image_size=image_size)
            except ValueError as err:
                raise SettingsError(f"{err} (class {name!r}: {offered} validation images{cut})") from None
    if image_size is None:
        return
    needed = (sum(train) + sum(val)) * 3 * image_size ** 2  # load_split decodes each whole split, uint8
    memory = memory_bytes if memory_bytes is not None else _memory_bytes()
    if memory and needed > memory:
        raise SettingsError(f"decoding ImageNette's {sum(train) + sum(val)} images at {image_size} px takes "
                            f"{needed / 2 ** 30:.1f} GiB, more than this machine's {memory / 2 ** 30:.1f} GiB of "
                            "memory; choose a smaller image_size (--image-size)")


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def check_writable(folders: list[tuple[Path, str, str]]) -> None:
    """Each ``(folder, what, variable)`` can be created and written (:func:`prunelib.paths.check_writable`)."""
    for folder, what, variable in folders:
        paths.check_writable(folder, what, variable)


def before_work(profile: str, params: Settings | Mapping[str, Any], *, data: str | None, download: bool,
                image_size: int | None, measures: bool, folders: list[tuple[Path, str, str]],
                echo: Callable[[str], None] = print) -> Path:
    """The module's three checks for a command of ``profile`` (settings ``params``, already checked by
    :func:`prunelib.profiles.check`); returns the ImageNette root the command is to read."""
    root = find_data(profile, data, download=download_wanted(download), echo=echo)
    check_against_data(params, root, image_size=image_size, measures=measures)
    check_writable(folders)
    return root

