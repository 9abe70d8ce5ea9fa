"""The study's networks as the book's chapters draw them: one job of a sweep (:mod:`prunelib.sweep.job`), its
results in the forms the figure modules read.

The chapters on training, saliency maps, faithfulness, concepts and the explorer show one job's networks (the
study's seed 0 under global pruning): the sweep trains, prunes and measures them, and these functions only
rearrange what it wrote. Nothing here trains or measures; :func:`job_result` runs the job through the sweep's
engine when its result is not current (in a notebook run by itself; ``reproduce`` runs the sweep first).

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

from typing import Any

from .. import data as imagenette
from ..sweep.pictures import drawn
from .faithfulness import PERCENTAGES, level_key


def job_result(profile: str, seed: int, regime: str, data: str | None = None, *, run: bool = True
               ) -> dict[str, Any]:
    """The result of the sweep's job (``profile``, ``seed``, ``regime``); with ``run``, the job is run first through
    the sweep's engine when its result is not current (networks and measurements that are current are reused)."""
    from ..sweep.job import Job, read_result, run_job
    from ..sweep.runner import is_done

    job = Job(profile, seed, regime, data=data)
    if not is_done(job):
        if not run:
            raise FileNotFoundError(f"{job.result_file} is not a current result of job {job.name} (profile "
                                    f"{profile!r}): run `python -m prunelib sweep --profile {profile} --seeds {seed} "
                                    f"--regimes {regime}` first")
        run_job(job)
    return read_result(job.result_file)


def accuracy(result: dict[str, Any]) -> dict[str, Any]:
    """A job's result in ``accuracy.json``'s form: ``{"levels": [{"sparsity_target", "sparsity", "val_top1",
    "val_top1_before_finetune", "val_per_class", "layers", "identity"}], "dense_history", "classes", "method",
    "n_val"}``, fractions throughout."""
    networks = drawn(result["networks"])
    dense = networks[0]
    rows = [{"sparsity_target": float(n["target"]), "sparsity": n["level"] / 100, "val_top1": n["top1"],
             "val_top1_before_finetune": n.get("top1_before_finetune"), "val_per_class": n.get("top1_per_class"),
             "layers": {name: s / 100 for name, s in (n.get("layers") or {}).items()}, "identity": n["identity"],
             "finetune_seconds": n["seconds"] if n["network"] == "pruned" else None}
            for n in networks]
    return {"levels": rows, "dense_history": dense["history"], "classes": list(imagenette.CLASSES),
            "method": result["regime"], "n_val": dense.get("n_val")}


def metrics(result: dict[str, Any]) -> dict[str, Any]:
    """A job's result in ``metrics.json``'s form (:func:`prunelib.stages.faithfulness.run_faithfulness_stage`):
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
    (:func:`prunelib.stages.concepts.run_concepts_stage`), for the levels of ``result`` (the job's result, which
    names each network's target sparsity): ``{"levels", "classes", "patch_size", "n_concepts", "image_size",
    "metrics": {class: {"n_images", "n_correct", level: {...}}}}``."""
    by_identity = {n["identity"]: n for n in concepts["networks"]}
    networks = drawn(result["networks"])
    missing = [n["network"] for n in networks if n["identity"] not in by_identity]
    if missing:
        raise ValueError(f"the concept metrics of job {result['regime']}-seed{result['seed']} do not cover its "
                         f"networks {missing}: run its sweep again")
    s = concepts["settings"]
    out: dict[str, Any] = {"levels": [float(n["target"]) for n in networks], "classes": list(s["classes"]),
                           "patch_size": s["patch_size"], "n_concepts": s["n_concepts"],
                           "image_size": s["image_size"], "metrics": {}}
    for c in s["classes"]:
        dense = by_identity[networks[0]["identity"]]["classes"][c]
        entry: dict[str, Any] = {"n_images": dense["n_images"], "n_correct": dense["n_correct_dense"]}
        for n in networks:
            values = dict(by_identity[n["identity"]]["classes"][c])
            values.pop("n_images"), values.pop("n_correct_dense")
            entry[str(float(n["target"]))] = values
        out["metrics"][c] = entry
    return out
