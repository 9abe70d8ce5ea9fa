"""The study's networks as the book's chapters draw them: one job of a sweep (:mod:`prunelib.sweep.job`), its
results in the forms the figure modules read.

The chapters on training, saliency maps, faithfulness, concepts and the explorer show one job's networks (the
study's seed 0 under global pruning): the sweep trains, prunes and measures them, and these functions only
rearrange what it wrote. Nothing here trains or measures: :func:`job_result` only reads, and says which command
makes a result that is not current (``reproduce`` runs the chapters' job through the sweep before the notebooks).

- :func:`accuracy`: ``accuracy.json``'s form (:mod:`prunelib.figures.accuracy`): per level its top-1 on the whole
  validation split, overall and per class, and each layer's sparsity; the dense network's epochs.
- :func:`metrics`: ``metrics.json``'s form (:mod:`prunelib.figures.faithfulness`): per method and level, Gini and
  ROAD over the images of the fixed set that the network classifies correctly.
- :func:`coherence`: ``coherence.json``'s form (:mod:`prunelib.figures.concepts`), from the job's concept metrics.
- The pictures are in the job's pictures folder (:mod:`prunelib.sweep.pictures`) in the saliency and explorer
  stages' own forms.

The levels are the dense network (0) and the regime's pruned networks, keyed by their target sparsity (a fraction);
the lottery regime's unpruned control is left out, as the pictures leave it out.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from torch import nn

from .. import data as imagenette
from .. import paths, regimes
from ..checkpoint import save_json
from ..figures.tables import level
from ..measure.faithfulness import PERCENTAGES, level_key
from ..profiles import as_settings
from ..provenance import caption as provenance_caption
from ..training import TrainConfig
from ..sweep.concepts import concepts_file
from ..sweep.records import Job, read_result
from ..sweep.pictures import drawn, load_drawn, pictures_dir
from ..sweep.records import is_done


def job_result(profile: str, seed: int, regime: str, data: str | None = None) -> dict[str, Any]:
    """The result of the sweep's job (``profile``, ``seed``, ``regime``, on the images at ``data``), read and never
    computed: FileNotFoundError naming the result file and the ``sweep`` command that makes it where the result
    (concept metrics and pictures included) is not current."""
    regimes.get(regime)  # an unknown regime is one line before any work
    job = Job(profile, seed, regime, data=data)
    if not is_done(job):
        raise FileNotFoundError(f"{paths.portable(job.result_file)} is not a current result of job {job.name} "
                                f"(profile {profile!r}): run {_sweep_command(profile, seed, regime)} first")
    return read_result(job.result_file)


def _sweep_command(profile: str, seed: int, regime: str) -> str:
    return f"`python -m prunelib sweep --profile {profile} --seeds {seed} --regimes {regime}`"


def caption(result: dict[str, Any]) -> str:
    """The source line of a chapter drawn from a job: data, profile, seed, commit, and the regime."""
    return f"{provenance_caption(result['provenance'])} · {result['regime']} pruning"


def pictures(result: dict[str, Any], part: str) -> Path:
    """The folder of a job's pictures (:mod:`prunelib.sweep.pictures`): ``saliency``, ``explorer`` or ``concepts``;
    FileNotFoundError naming the job where they are not drawn (its seed is not in the profile's picture_seeds)."""
    folder = pictures_dir(Job(result["profile"], result["seed"], result["regime"])) / part
    if not folder.is_dir():
        raise FileNotFoundError(f"{paths.portable(folder)} is missing: the profile {result['profile']!r} draws no "
                                f"pictures of seed {result['seed']} (its picture_seeds) or its sweep has not drawn "
                                "them")
    return folder


def at_chance(result: dict[str, Any]) -> list[float]:
    """The target sparsities of the job's pruned networks whose top-1 is near chance (measured, never judged; the
    dense network is the reference and always shown)."""
    return [float(n["target"]) for n in drawn(result["networks"]) if n["near_chance"] and n["network"] != "dense"]


def most_pruned(result: dict[str, Any]) -> float:
    """The target sparsity of the job's most pruned network that is not near chance (the dense network's 0.0 when
    every pruned one is)."""
    return max([0.0] + [float(n["target"]) for n in drawn(result["networks"]) if not n["near_chance"]])


def networks(result: dict[str, Any], device: str = "auto") -> dict[float, nn.Module]:
    """The job's dense and pruned networks in eval mode on ``device``, keyed by target sparsity; FileNotFoundError
    naming the first checkpoint that is not on this machine and the command that makes it."""
    try:
        return load_drawn(result["networks"], device)
    except FileNotFoundError as err:
        command = _sweep_command(result["profile"], result["seed"], result["regime"])
        raise FileNotFoundError(f"{err}: run the job's sweep ({command}) to make it") from None


def write(result: dict[str, Any], out: Path, kind: str) -> Path:
    """Write ``out/<kind>.json``, a job's result as a chapter draws it: ``accuracy`` (:func:`accuracy`),
    ``metrics`` (:func:`metrics`) or ``coherence`` (:func:`coherence`, from the job's concept metrics)."""
    if kind == "coherence":
        file = concepts_file(Job(result["profile"], result["seed"], result["regime"]))
        if not file.is_file():
            raise FileNotFoundError(f"{paths.portable(file)} is missing: the profile {result['profile']!r} measures "
                                    f"no concepts of seed {result['seed']} (its concept_seeds)")
        content = coherence(json.loads(file.read_text()), result)
    elif kind in ("accuracy", "metrics"):
        content = accuracy(result) if kind == "accuracy" else metrics(result)
    else:
        raise ValueError(f"kind must be accuracy, metrics or coherence, got {kind!r}")
    path = Path(out) / f"{kind}.json"
    save_json(content, path)
    return path


def image_notes(m: dict[str, Any]) -> list[str]:
    """What a reader should know of the images behind :func:`metrics`' values: how many each level explains, how
    many all levels not at chance share, and which levels are at chance."""
    shared = m["shared_levels"]
    at_chance = [f"{100 * s:.0f} %" for s in m["levels"] if s not in shared]
    by_level = sorted(m["images"].items(), key=lambda kv: float(kv[0]))
    per_level = ", ".join(f"{level(k)} %: {len(i)}" for k, i in by_level)
    return [f"the fixed set of {m['n_images']} validation images; each level is measured on those its network "
            f"classifies correctly ({per_level})",
            f"{m['n_shared']} images are classified correctly at every level not at chance"
            + (f"; at chance (measured, left out of every verdict): {', '.join(at_chance)}" if at_chance else "")]


def accuracy(result: dict[str, Any]) -> dict[str, Any]:
    """A job's result in ``accuracy.json``'s form: ``{"levels": [{"sparsity_target", "sparsity", "val_top1",
    "val_top1_before_finetune", "val_per_class", "layers", "identity"}], "dense_history", "classes", "method",
    "n_val", "config": {"dense", "finetune"}}`` (the recipes the job trained with), fractions throughout."""
    networks = drawn(result["networks"])
    dense = networks[0]
    rows = [{"sparsity_target": float(n["target"]), "sparsity": n["level"] / 100, "val_top1": n["top1"],
             "val_top1_before_finetune": n.get("top1_before_finetune"), "val_per_class": n.get("top1_per_class"),
             "layers": {name: s / 100 for name, s in (n.get("layers") or {}).items()}, "identity": n["identity"],
             "finetune_seconds": n["seconds"] if n["network"] == "pruned" else None}
            for n in networks]
    settings = as_settings(result["inputs"]["params"])
    dense_cfg = TrainConfig.from_params(settings, seed=result["seed"])
    config = {"dense": dataclasses.asdict(dense_cfg),
              "finetune": dataclasses.asdict(regimes.get(result["regime"]).recipe(dense_cfg, settings))}
    return {"levels": rows, "dense_history": dense["history"], "classes": list(imagenette.CLASSES),
            "method": result["regime"], "n_val": dense.get("n_val"), "config": config}


def metrics(result: dict[str, Any]) -> dict[str, Any]:
    """A job's result in ``metrics.json``'s form (:func:`prunelib.figures.faithfulness.load_metrics`):
    each level's values over the images of the fixed set its network classifies correctly (``images``: their
    validation indices); ``shared_levels`` are the levels not near chance, ``n_shared`` the images all of them
    classify correctly."""
    networks = drawn(result["networks"])
    settings = result["settings"]
    methods = [m for m in settings["methods"] if m != "random"]
    out: dict[str, Any] = {"levels": [float(n["target"]) for n in networks], "percentages": list(PERCENTAGES),
                           "n_images": result["n_images"], "images": {}, "methods": {m: {} for m in methods},
                           "ig_steps": settings["ig_steps"], "image_size": settings["image_size"],
                           "shared_levels": [float(n["target"]) for n in networks if not n["near_chance"]]}
    shared = [True] * result["n_images"]
    for n in networks:
        key, correct = level_key(float(n["target"])), n["correct"]
        out["images"][key] = [i for i, ok in zip(n["images"], correct) if ok]
        if not n["near_chance"]:
            shared = [a and b for a, b in zip(shared, correct)]
        for m in methods:
            entry = n["methods"][m]
            out["methods"][m][key] = {
                "gini": [g for g, ok in zip(entry["gini"], correct) if ok], "gini_mean": entry["gini_mean"],
                "road": {order: {**road, "correct": [c for c, ok in zip(road["correct"], correct) if ok]}
                         for order, road in entry["road"].items()}}
    out["n_shared"] = sum(shared)
    return out


def coherence(concepts: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """A job's concept metrics (:mod:`prunelib.sweep.concepts`) in ``coherence.json``'s form
    (:func:`prunelib.figures.concepts.load_coherence`), for the levels of ``result`` (the job's result, which
    names each network's target sparsity): ``{"levels", "classes", "patch_size", "n_concepts", "image_size",
    "metrics": {class: {"n_images", "n_correct", level: {...}}}, "at_chance": [levels near chance]}``."""
    by_identity = {n["identity"]: n for n in concepts["networks"]}
    networks = drawn(result["networks"])
    missing = [n["network"] for n in networks if n["identity"] not in by_identity]
    if missing:
        raise ValueError(f"the concept metrics of job {result['regime']}-seed{result['seed']} do not cover its "
                         f"networks {missing}: run its sweep again")
    s = concepts["settings"]
    out: dict[str, Any] = {"levels": [float(n["target"]) for n in networks], "classes": list(s["classes"]),
                           "patch_size": s["patch_size"], "n_concepts": s["n_concepts"],
                           "image_size": s["image_size"], "metrics": {},
                           "at_chance": at_chance(result)}
    for c in s["classes"]:
        dense = by_identity[networks[0]["identity"]]["classes"][c]
        entry: dict[str, Any] = {"n_images": dense["n_images"], "n_correct": dense["n_correct_dense"]}
        for n in networks:
            values = dict(by_identity[n["identity"]]["classes"][c])
            values.pop("n_images"), values.pop("n_correct_dense")
            entry[str(float(n["target"]))] = values
        out["metrics"][c] = entry
    return out
