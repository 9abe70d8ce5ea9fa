"""The pictures of a job's networks, for the seeds the profile names: what the book's chapters on saliency maps,
the concepts and the explorer show, made from the study's own networks while their checkpoints exist.

For a job whose seed is in the profile's ``picture_seeds`` (the noise study: seed 0) and whose regime prunes by levels
(global, lottery) and is in ``picture_regimes`` (the noise study: global), after its measurements::

    results/<profile>/runs/pictures/<regime>-seed<k>/
        saliency/       one image per class of ``saliency_classes``, each method's map at every level
                        (:func:`prunelib.measure.saliency_maps.saliency_grid`)
        explorer/       the explorer's frames of the first three of them
                        (:func:`prunelib.measure.explorer_frames.explorer_frames`)
        concepts/       the CRAFT galleries, written by the job's concept metrics from the same fits (:mod:`.concepts`)
        pictures.json   what they were made from

The levels are the dense network and the regime's pruned networks (the lottery regime's unpruned control has no
level of its own), keyed by their target sparsity; networks near chance are drawn but do not choose the images.
The pictures are small and kept in git, so a chapter can show them after the checkpoints are gone. They are current
while ``pictures.json`` names the same networks (identities and checkpoint digests) and settings; each folder is
written beside its old version and swapped in only when complete.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from ..measure import IMAGE_SEED
from .. import checkpoint, paths
from ..networks import load_network
from ..currency import networks as network_inputs, why_stale
from ..profiles import Settings, as_settings
from ..provenance import caption

#: images of the explorer (the first of the saliency grid's)
EXPLORER_IMAGES = 3
#: the file that records what the pictures were made from
RECORD = "pictures.json"


def pictures_dir(job) -> Path:
    """Where ``job``'s pictures are written."""
    return paths.results_dir(job.profile) / "runs" / "pictures" / job.name


def staging_dir(job) -> Path:
    """Where ``job``'s pictures are drawn before they replace the old ones (outside git)."""
    from ..provenance import STAGING
    return paths.results_dir(job.profile) / STAGING / f"pictures-{job.name}"


def wanted(job, params: Settings | Mapping[str, Any]) -> bool:
    """Whether the profile asks for pictures of ``job``'s seed (``picture_seeds``) and regime (``picture_regimes``,
    default every regime that can draw them). Only a regime whose networks are levels draws them
    (:attr:`prunelib.regimes.Regime.shows_levels`): the authors' rounds and the fine-tuned control draw none."""
    from ..regimes import get
    s = as_settings(params)
    return (job.seed in s.picture_seeds and get(job.regime).shows_levels
            and (s.picture_regimes is None or job.regime in s.picture_regimes))


def settings(params: Settings | Mapping[str, Any]) -> dict[str, Any]:
    """What the pictures depend on besides the networks."""
    s = as_settings(params)
    return {"classes": list(s.need("saliency_classes")), "methods": list(s.methods),
            "image_size": s.need("image_size"), "val_per_class": s.val_per_class,
            "percentages": list(s.removal_percentages), "explorer_images": EXPLORER_IMAGES, "image_seed": IMAGE_SEED}


def drawn(networks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The measured networks a job's pictures show: the dense network and the pruned ones, in the job's order."""
    return [n for n in networks if n["network"] in ("dense", "pruned")]


def load_drawn(networks: list[dict[str, Any]], device: str = "auto") -> dict[float, Any]:
    """The networks :func:`drawn` picks from a job's records, in eval mode on ``device``, keyed by target sparsity;
    FileNotFoundError naming a checkpoint that is not on this machine."""
    from ..models import resolve_device
    shown, models = drawn(networks), {}
    for n in shown:
        path = paths.resolve(n["checkpoint"])
        if not path.is_file():
            raise FileNotFoundError(f"{n['checkpoint']} is not on this machine")
        models[float(n["target"])] = load_network(path, n.get("checkpoint_sha256")).to(resolve_device(device))
    if len(models) != len(shown):
        raise ValueError(f"two networks share a target sparsity ({[n['target'] for n in shown]}); the pictures "
                         "key the levels by it")
    return models


def is_current(job, params: Settings | Mapping[str, Any], networks: list[dict[str, Any]]) -> bool:
    """Whether ``job``'s pictures were made from their declared inputs as they are now
    (:func:`prunelib.currency.why_stale`): the profile's settings and the networks they show (:func:`drawn`)."""
    done = read_record(pictures_dir(job) / RECORD, "identities")
    if done is None:
        return False
    identities, digests = done["identities"], done.get("checkpoints")  # a record without digests: identities only
    recorded = ([{"identity": i, "checkpoint_sha256": c} for i, c in zip(identities, digests)] if digests is not None
                else [{"identity": i} for i in identities])
    return not why_stale({"settings": done.get("settings"), "networks": network_inputs(recorded, like=recorded)},
                         {"settings": settings(params), "networks": network_inputs(drawn(networks), like=recorded)})


def read_record(path: Path, names: str) -> dict[str, Any] | None:
    """The record of a job's derived files (``pictures.json``, a concept file): a mapping with a list under
    ``names``; None where there is none, or where it is broken (truncated, not such a mapping), which is said,
    naming it: what it records is then made again."""
    if not path.is_file():
        return None
    try:
        done = json.loads(path.read_text())
        if isinstance(done, dict) and isinstance(done.get(names), list):
            return done
        why = f"not a record of what they were made from (no list of {names})"
    except (OSError, ValueError) as err:
        why = f"not readable ({err})"
    print(f"{paths.portable(path)} is {why}: made again", flush=True)
    return None


def make_pictures(job, networks: list[dict[str, Any]], params: Settings | Mapping[str, Any],
                  provenance: dict[str, Any]
                  ) -> Path:
    """Draw the saliency grid and the explorer's frames of ``networks`` (the job's measured records, dense first)
    into :func:`pictures_dir`; ``provenance``: the job's result's, named in the explorer's caption and the record."""
    from ..measure.common import validation_split
    from ..measure.explorer_frames import explorer_frames
    from ..measure.saliency_maps import saliency_grid
    s, shown = settings(params), drawn(networks)
    if not s["classes"]:
        raise ValueError(f"profile {job.profile!r}: picture_seeds needs saliency_classes (the images to explain)")
    models = load_drawn(networks)
    near_chance = tuple(float(n["target"]) for n in shown if n.get("near_chance"))
    val = validation_split(job.data, s["val_per_class"], job.seed)
    folder = pictures_dir(job)
    staging = staging_dir(job)
    shutil.rmtree(staging, ignore_errors=True)  # left by a stopped job
    saliency_grid(models, val, ",".join(s["classes"]), staging / "saliency", image_size=s["image_size"],
                  seed=IMAGE_SEED, methods=",".join(s["methods"]), exclude=near_chance)
    explorer_frames(models, staging / "saliency", val, staging / "explorer", image_size=s["image_size"],
                    seed=IMAGE_SEED, percentages=",".join(f"{p:g}" for p in s["percentages"]),
                    n_images=s["explorer_images"], caption=f"{caption(provenance)} · {job.regime}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD).unlink(missing_ok=True)  # the old pictures are not current from the first swap on
    for part in ("saliency", "explorer"):
        checkpoint.swap_in(staging / part, folder / part)
    staging.rmdir()
    checkpoint.save_json({"profile": job.profile, "seed": job.seed, "regime": job.regime, "settings": s,
                          "identities": [n["identity"] for n in shown],
                          "checkpoints": [n["checkpoint_sha256"] for n in shown],
                          "levels": [float(n["target"]) for n in shown], "near_chance": list(near_chance),
                          "provenance": provenance}, folder / RECORD)
    return folder
