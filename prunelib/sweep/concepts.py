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

import torch

from .. import checkpoint, paths, regimes, state
from ..measure import IMAGE_SEED
from ..networks import load_network
from ..currency import digest, networks as network_inputs, why_stale
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
    """Whether the profile asks for concept metrics of ``job``'s seed (``craft_classes``, for ``concept_seeds``);
    never of a job that trains another regime's control (the concept claim judges pruned levels; that regime's own
    job has the seed's dense network's concepts)."""
    s = as_settings(params)
    return s.craft_classes is not None and job.seed in s.concept_seeds and regimes.control_of(job.regime) is None


def is_current(job, params: Settings | Mapping[str, Any], networks: list[dict[str, Any]]) -> bool:
    """Whether ``job``'s concept file was made from its declared inputs as they are now
    (:func:`prunelib.currency.why_stale`): the profile's settings and these networks (the job's measured records,
    their identity and checkpoint digest, in order)."""
    done, current = _current(job, params, networks)
    return done is not None and len(current) == len(networks) == len(done["networks"])


def measured(job, params: Settings | Mapping[str, Any], networks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries of ``job``'s concept file that are current: made from today's settings, each of a network of
    ``networks`` (the same identity and checkpoint digest), in their order. A job measured in units
    (:mod:`.units`) has one for each network measured so far."""
    return _current(job, params, networks)[1]


def _current(job, params: Settings | Mapping[str, Any], networks: list[dict[str, Any]]
             ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    done = pictures.read_record(concepts_file(job), "networks")
    if done is None or why_stale(done.get("settings"), _settings(job, params)):
        return done, []
    by_network = {digest(n): e for n, e in zip(network_inputs(done["networks"], like=done["networks"]),
                                                 done["networks"])}
    return done, [by_network[k] for k in map(digest, network_inputs(networks, like=done["networks"]))
                  if k in by_network]


def _settings(job, params: Settings | Mapping[str, Any]) -> dict[str, Any]:
    """:func:`settings`, and whether the job also keeps the galleries (a seed of the profile's pictures)."""
    return {**settings(params), "galleries": pictures.wanted(job, params)}


def reference(dense: torch.nn.Module, val, params: Settings | Mapping[str, Any], device: torch.device
              ) -> dict[str, dict[str, Any]]:
    """What every network of a seed is judged against, from its dense network: per class of ``craft_classes``,
    the ``craft_images`` validation images (``indices`` into ``val``) it classifies correctly (a seeded draw; any
    where too few are), how many of them it did (``n_correct``), and its features of their crops (``features``,
    ``(M, C)``: the space coherence is judged in)."""
    from ..selection import choose_correct
    from ..measure.common import inputs
    from ..measure.concepts import reference_features
    s = settings(params)
    out = {}
    for c in s["classes"]:
        chosen = choose_correct({"dense": dense}, val, s["image_size"], s["n_images"], IMAGE_SEED, of_class=c,
                                pool_size=len(val), too_few="any")
        indices = chosen.indices["dense"]
        x, _ = inputs(val, indices, s["image_size"], device)
        out[c] = {"indices": indices, "n_correct": chosen.n_correct["dense"],
                  "features": reference_features(dense, x, s["patch_size"])}
    return out


def reference_inputs(params: Settings | Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`reference` depends on besides the dense network."""
    return {**settings(params), "val_per_class": as_settings(params).val_per_class}


def _entry(job, model: torch.nn.Module, record: dict[str, Any], ref: dict[str, dict[str, Any]], val,
           params: Settings | Mapping[str, Any], galleries: Path | None) -> dict[str, Any]:
    """The concept metrics of one network (its ``record``) in the concept file; ``galleries``: where its gallery
    of each class is also saved (None: none)."""
    from ..measure.common import inputs
    from ..measure.concepts import class_concepts, save_gallery
    s, device, t0 = settings(params), next(model.parameters()).device, time.perf_counter()
    per_class = {}
    for c, r in ref.items():
        x, _ = inputs(val, r["indices"], s["image_size"], device)
        craft, importances, metrics = class_concepts(model, x, c, n_concepts=s["n_concepts"],
                                                     patch_size=s["patch_size"], seed=IMAGE_SEED,
                                                     reference=r["features"])
        if galleries is not None:
            save_gallery(galleries, craft, importances, metrics, val.images[r["indices"]], s["image_size"],
                         {"class_name": c, "sparsity": float(record["target"]), "profile": job.profile,
                          "seed": job.seed, "regime": job.regime})
        per_class[c] = {**metrics, "n_images": len(r["indices"]), "n_correct_dense": r["n_correct"]}
    return {"network": record["network"], "level": record["level"], "identity": record["identity"],
            "checkpoint_sha256": record["checkpoint_sha256"], "classes": per_class,
            "seconds": time.perf_counter() - t0}


def _write(job, params: Settings | Mapping[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    out = {"profile": job.profile, "seed": job.seed, "regime": job.regime, "settings": _settings(job, params),
           "networks": entries}
    checkpoint.save_json(out, concepts_file(job))
    return out


def measure_concepts(job, networks: list[dict[str, Any]], params: Settings | Mapping[str, Any], *,
                     progress: bool = True) -> dict[str, Any]:
    """Concept metrics of every network of ``networks`` (the job's measured records, dense first); writes
    :func:`concepts_file` and returns its content."""
    from ..measure.common import validation_split
    s = _settings(job, params)
    staging = pictures.staging_dir(job) / "concepts"
    shutil.rmtree(staging, ignore_errors=True)  # left by a stopped job
    drawn = {id(n) for n in pictures.drawn(networks)}
    val = validation_split(job.data, as_settings(params).val_per_class, job.seed)
    device = resolve_device(job.device)
    models = [load_network(paths.resolve(n["checkpoint"]), n["checkpoint_sha256"]).to(device) for n in networks]
    ref = reference(models[0], val, params, device)
    entries = [_entry(job, model, record, ref, val, params, staging if s["galleries"] and id(record) in drawn
                      else None)
               for model, record in zip(models, progress_bar(networks, desc=f"concepts {job.name}",
                                                             disable=not progress))]
    if s["galleries"]:
        pictures.pictures_dir(job).mkdir(parents=True, exist_ok=True)
        checkpoint.swap_in(staging, pictures.pictures_dir(job) / "concepts")
    return _write(job, params, entries)


def add_network(job, record: dict[str, Any], networks: list[dict[str, Any]],
                params: Settings | Mapping[str, Any]) -> dict[str, Any]:
    """A unit's share of the job's concept metrics (:mod:`.units`): those of ``record``, one of ``networks`` (the
    job's measured records, dense first), written into :func:`concepts_file` beside the entries of its other
    networks that were made from today's settings. The dense network computes the :func:`reference` and keeps it in
    git (:func:`prunelib.state.write_concepts`); the others are judged in it as read from there. Its galleries, where
    the job keeps them, go straight into the job's pictures."""
    from ..measure.common import validation_split
    s, dense = _settings(job, params), networks[0]
    if dense["network"] != "dense":
        raise ValueError(f"{job.name}: the concepts are judged against the dense network, which its records must "
                         f"name first (got {dense['network']!r})")
    val = validation_split(job.data, as_settings(params).val_per_class, job.seed)
    device = resolve_device(job.device)
    model = load_network(paths.resolve(record["checkpoint"]), record["checkpoint_sha256"]).to(device)
    if record["network"] == "dense":
        ref = reference(model, val, params, device)
        state.write_concepts(job.profile, job.seed, dense, reference_inputs(params), ref)
    else:
        ref = state.read_concepts(job.profile, job.seed, dense, reference_inputs(params))
    galleries = pictures.pictures_dir(job) / "concepts" if s["galleries"] and pictures.drawn([record]) else None
    entry = _entry(job, model, record, ref, val, params, galleries)
    by_network = {digest(n): e for e in measured(job, params, networks) + [entry] for n in network_inputs([e])}
    return _write(job, params, [by_network[k] for k in map(digest, network_inputs(networks)) if k in by_network])


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
