"""What a concept gallery and the coherence plots need, computed from a fitted :class:`~prunelib.craft.Craft`."""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import torch

from .coherence import concept_coherence, concept_similarity, importance_entropy
from .crops import batched_features
from .extractor import Craft, top_crops


def concept_metrics(craft: Craft, images: torch.Tensor, importances: np.ndarray, k: int = 5,
                    reference_g: Callable | None = None) -> dict[str, object]:
    """All four measured views for one fitted CRAFT run (see :mod:`prunelib.craft.coherence`).

    ``importance_entropy`` is ``None`` (with a warning) when every importance is zero, as for a dead network.

    Args:
        images: the fit images ``(N, 3, S, S)``, normalised.
        importances: ``(r,)`` from :meth:`Craft.importance`.
        reference_g: the fixed feature space for coherence (the dense model's ``g``); ``None`` reuses the
            fitted model's own crop activations (right for the dense model itself).
    """
    if reference_g is None or reference_g is craft.g:
        pool = craft.activations
    else:
        pool = batched_features(reference_g, craft.crops(images), images.shape[-1], craft.batch_size,
                                craft.dtype, progress=craft.progress)
    top, _ = top_crops(craft.U, pool, k)
    entropy = None
    if np.clip(np.asarray(importances, dtype=np.float64), 0, None).sum() > 0:
        entropy = importance_entropy(importances)
    else:  # a network near chance: its class score does not move when concepts are removed
        warnings.warn("the Sobol importances are all zero (the class score does not depend on the concepts); "
                      "the importance entropy is undefined and recorded as None")
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
