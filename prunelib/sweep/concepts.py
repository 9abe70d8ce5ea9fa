"""Concept metrics of a job's networks (CRAFT, as in the book's concepts stage), for the seeds the profile names.

For every network of the job and every class of the profile's ``craft_classes``: CRAFT is fitted on the same
``craft_images`` validation images of the class (those the job's dense network classifies correctly, a seeded
draw), and the four measured views of :func:`prunelib.craft.concept_metrics` are kept (coherence in the dense
network's feature space). A job keeps the numbers, and for the seeds of the profile's pictures (:mod:`.pictures`) the
galleries of the dense and pruned networks, from the same fits::

    results/<profile>/runs/concepts/<regime>-seed<k>.json
    results/<profile>/runs/pictures/<regime>-seed<k>/concepts/<class>_<level>.{json,_crops.jpg}

Which seeds: the profile's ``concept_seeds`` (default ``"0"``, as the noise study asks: concept metrics for seed 0
of each regime). A file is current when it names the networks (identities and checkpoint
digests) and settings of the job.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from .. import checkpoint, paths
from ..measure import IMAGE_SEED
from ..networks import load_network
from ..currency import networks as network_inputs, why_stale
from ..craft import split_resnet
from ..craft.crops import patch_size
from ..models import resolve_device
from ..profiles import Settings, as_settings
from ..progress import progress_bar
from . import pictures



def concepts_file(job) -> Path:
    """Where ``job``'s concept metrics are written."""
    return paths.results_dir(job.profile) / "runs" / "concepts" / f"{job.name}.json"


def settings(params: Settings | Mapping[str, Any]) -> dict[str, Any]:
    """What the concept metrics depend on besides the networks."""
    s = as_settings(params)
    image_size = s.need("image_size")
    return {"classes": list(s.need("craft_classes")), "n_images": s.need("craft_images"), "n_concepts": s.n_concepts,
            "patch_size": patch_size(image_size), "image_size": image_size, "image_seed": IMAGE_SEED}


def wanted(job, params: Settings | Mapping[str, Any]) -> bool:
    """Whether the profile asks for concept metrics of ``job``'s seed (``craft_classes``, for ``concept_seeds``)."""
    s = as_settings(params)
    return s.craft_classes is not None and job.seed in s.concept_seeds


def is_current(job, params: Settings | Mapping[str, Any], networks: list[dict[str, Any]]) -> bool:
    """Whether ``job``'s concept file was made from its declared inputs as they are now
    (:func:`prunelib.currency.why_stale`): the profile's settings and these networks (the job's measured records,
    their identity and checkpoint digest, in order)."""
    done = pictures.read_record(concepts_file(job), "networks")
    return done is not None and not why_stale(
        {"settings": done.get("settings"), "networks": network_inputs(done["networks"], like=done["networks"])},
        {"settings": _settings(job, params), "networks": network_inputs(networks, like=done["networks"])})


def _settings(job, params: Settings | Mapping[str, Any]) -> dict[str, Any]:
    """:func:`settings`, and whether the job also keeps the galleries (a seed of the profile's pictures)."""
    return {**settings(params), "galleries": pictures.wanted(job, params)}


def measure_concepts(job, networks: list[dict[str, Any]], params: Settings | Mapping[str, Any], *,
                     progress: bool = True) -> dict[str, Any]:
    """Concept metrics of every network of ``networks`` (the job's measured records, dense first); writes
    :func:`concepts_file` and returns its content."""
    from ..selection import choose_correct
    from ..measure.common import inputs, validation_split
    from ..measure.concepts import class_concepts, save_gallery

    s = _settings(job, params)
    galleries = pictures.staging_dir(job) / "concepts"
    shutil.rmtree(galleries, ignore_errors=True)  # left by a stopped job
    drawn = {id(n) for n in pictures.drawn(networks)}
    val = validation_split(job.data, as_settings(params).val_per_class, job.seed)
    device = resolve_device(job.device)
    models = [load_network(paths.resolve(n["checkpoint"]), n["checkpoint_sha256"]).to(device) for n in networks]
    dense = models[0]
    dense_g, _ = split_resnet(dense)
    out = {"profile": job.profile, "seed": job.seed, "regime": job.regime, "settings": s, "networks": []}
    images = {c: choose_correct({"dense": dense}, val, s["image_size"], s["n_images"], IMAGE_SEED, of_class=c,
                                pool_size=len(val), too_few="any") for c in s["classes"]}
    for model, record in zip(models, progress_bar(networks, desc=f"concepts {job.name}", disable=not progress)):
        t0 = time.perf_counter()
        per_class = {}
        for c, chosen in images.items():
            x, _ = inputs(val, chosen.indices["dense"], s["image_size"], device)
            craft, importances, metrics = class_concepts(model, x, c, n_concepts=s["n_concepts"],
                                                         patch_size=s["patch_size"], seed=IMAGE_SEED,
                                                         reference_g=dense_g)
            if s["galleries"] and id(record) in drawn:
                save_gallery(galleries, craft, importances, metrics, val.images[chosen.indices["dense"]],
                             s["image_size"], {"class_name": c, "sparsity": float(record["target"]),
                                               "profile": job.profile, "seed": job.seed, "regime": job.regime})
            per_class[c] = {**metrics, "n_images": len(chosen.indices["dense"]),
                            "n_correct_dense": chosen.n_correct["dense"]}
        out["networks"].append({"network": record["network"], "level": record["level"], "identity": record["identity"],
                                "checkpoint_sha256": record["checkpoint_sha256"],
                                "classes": per_class, "seconds": time.perf_counter() - t0})
    if s["galleries"]:
        pictures.pictures_dir(job).mkdir(parents=True, exist_ok=True)
        checkpoint.swap_in(galleries, pictures.pictures_dir(job) / "concepts")
    checkpoint.save_json(out, concepts_file(job))
    return out


def load_concepts(profile: str) -> list[dict[str, Any]]:
    """Every job's concept file of ``profile`` (empty if none)."""
    folder = paths.results_dir(profile) / "runs" / "concepts"
    return [_read(f) for f in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def _read(path: Path) -> dict[str, Any]:
    """A job's concept file, checked to be one; ValueError naming it (a record is refused, not guessed at)."""
    try:
        done = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{paths.portable(path)} is not a readable concept file ({err}); remove it and run the "
                         "sweep again, which measures that job's concepts anew") from None
    if not isinstance(done, dict) or not isinstance(done.get("networks"), list):
        raise ValueError(f"{paths.portable(path)} is not a job's concept file (a mapping with its networks); remove "
                         "it and run the sweep again")
    return done
