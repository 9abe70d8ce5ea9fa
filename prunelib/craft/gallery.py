"""What a concept gallery and the coherence plots need, computed from a fitted :class:`~prunelib.craft.Craft`, and
the gallery's files: :func:`save_concepts` writes them, :func:`load_concepts` reads them back.

A gallery is two files sharing a stem: ``<stem>_crops.jpg``, its crops as one JPEG mosaic at their own pixel size
(a row per concept, :func:`prunelib.pictures.save_photos`), and ``<stem>.json``, the importances, concept ids,
crops' shape, coherence metrics and metadata (class, level, profile, seed, commit)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from ..pictures import load_photos, save_photos
from .coherence import concept_coherence, concept_similarity, importance_entropy
from .extractor import Craft, top_crops


def concept_metrics(craft: Craft, importances: np.ndarray, k: int = 5,
                    reference: torch.Tensor | None = None) -> dict[str, object]:
    """All four measured views for one fitted CRAFT run (see :mod:`prunelib.craft.coherence`).

    ``importance_entropy`` is ``None`` when every importance is zero, as for a network whose class score ignores
    its input.

    Args:
        importances: ``(r,)`` from :meth:`Craft.importance`.
        reference: ``(M, C)``, the fit crops' features in the fixed space coherence is judged in (the dense model's,
            :meth:`Craft.features`); ``None`` uses the fitted model's own crop activations (right for the dense
            model itself).
    """
    pool = craft.activations if reference is None else reference.to(craft.activations.device)
    if pool.shape[0] != craft.activations.shape[0]:
        raise ValueError(f"reference has features of {pool.shape[0]} crops, but CRAFT was fitted on "
                         f"{craft.activations.shape[0]}: give the reference features of the same images")
    top, _ = top_crops(craft.U, pool, k)
    # all zero: the class score does not depend on the concepts (a network near chance); the entropy of a
    # distribution over concepts is undefined then, recorded as None (the concepts stage says why in words)
    positive = np.clip(np.asarray(importances, dtype=np.float64), 0, None).sum() > 0
    entropy = importance_entropy(importances) if positive else None
    return {"concept_similarity": concept_similarity(craft.W), "coherence": concept_coherence(top, pool),
            "importance_entropy": entropy, "reconstruction_error": craft.reconstruction_error}


def gallery_data(craft: Craft, display_images: torch.Tensor, importances: np.ndarray, n_show: int = 5,
                 k: int = 5) -> dict[str, np.ndarray]:
    """The ``n_show`` most important concepts with their ``k`` best crops, ready for ``save_concepts``.

    Args:
        display_images: the fit images as uint8 ``(N, 3, S, S)`` (e.g. the data set's raw pixels).
    Returns:
        ``{"crops": uint8 (n_show, k, p, p, 3), "concept_ids": (n_show,), "importances": (n_show,)}``,
        most important concept first.
    """
    if display_images.dtype != torch.uint8:
        raise ValueError(f"display_images must be uint8 pixels, got {display_images.dtype}")
    importances = np.asarray(importances, dtype=np.float64)
    if importances.shape != (craft.n_concepts,):
        raise ValueError(f"importances must have shape ({craft.n_concepts},), got {importances.shape}")
    if not 1 <= n_show <= craft.n_concepts:
        raise ValueError(f"n_show must be in [1, {craft.n_concepts}], got {n_show}")
    order = np.argsort(-importances, kind="stable")[:n_show]
    crops, _ = craft.top_crops(display_images, k)
    crops = crops[torch.from_numpy(order)].permute(0, 1, 3, 4, 2).contiguous()
    return {"crops": crops.cpu().numpy(), "concept_ids": order, "importances": importances[order]}


def gallery_files(path: str | os.PathLike) -> tuple[Path, Path]:
    """The gallery's ``(<stem>.json, <stem>_crops.jpg)``, given its stem or its ``.json``."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix == ".json" else p
    return stem.with_suffix(".json"), stem.with_name(f"{stem.name}_crops.jpg")


def save_concepts(path: str | os.PathLike, gallery: Mapping[str, Any], metrics: Mapping[str, Any] | None = None,
                  meta: Mapping[str, Any] | None = None) -> Path:
    """Write ``<stem>_crops.jpg`` (the crops, a JPEG mosaic) and ``<stem>.json`` (everything else); returns the JSON
    path.

    Args:
        gallery: ``prunelib.craft.gallery_data`` output: ``crops`` uint8 ``(n, k, p, p, 3)``, ``concept_ids`` and
            ``importances`` ``(n,)``.
        metrics: e.g. ``prunelib.craft.concept_metrics`` output (JSON-serialisable).
        meta: e.g. ``{"class_name": "church", "pruning": "50%", "profile": ..., "seed": ..., "commit": ...}``.
    """
    crops = np.asarray(gallery["crops"])
    if crops.dtype != np.uint8 or crops.ndim != 5 or crops.shape[-1] != 3:
        raise ValueError(f"gallery['crops'] must be uint8 (n, k, p, p, 3), got {crops.dtype} {crops.shape}")
    ids, imp = np.asarray(gallery["concept_ids"]), np.asarray(gallery["importances"], dtype=np.float64)
    if ids.shape != (crops.shape[0],) or imp.shape != (crops.shape[0],):
        raise ValueError(f"concept_ids and importances must have shape ({crops.shape[0]},), "
                         f"got {ids.shape} and {imp.shape}")
    json_path, crops_path = gallery_files(path)
    save_photos(crops, crops_path)  # makes the folder
    doc = {"concept_ids": ids.tolist(), "importances": imp.tolist(), "crops_shape": list(crops.shape),
           "metrics": dict(metrics or {}), "meta": dict(meta or {})}
    json_path.write_text(json.dumps(doc, indent=1))
    return json_path


def load_concepts(path: str | os.PathLike) -> dict[str, Any]:
    """Read what :func:`save_concepts` wrote (give the stem or the ``.json``); ``crops`` as saved, up to JPEG's
    error (:mod:`prunelib.pictures`)."""
    json_path, crops_path = gallery_files(path)
    for file in (json_path, crops_path):
        if not file.exists():
            raise ValueError(f"concept gallery file {file} does not exist")
    doc = json.loads(json_path.read_text())
    doc["crops"] = load_photos(crops_path, tuple(doc.pop("crops_shape")))
    doc["importances"] = np.asarray(doc["importances"])
    doc["concept_ids"] = np.asarray(doc["concept_ids"])
    return doc
