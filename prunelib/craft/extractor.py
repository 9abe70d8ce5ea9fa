"""The CRAFT concept extractor (Fel et al., CVPR 2023), in torch + scikit-learn only.

Follows the official ``craft/craft_torch.py``: crops -> ``g`` -> spatial mean -> NMF gives the concept bank
``W``; importance projects every spatial position of each whole image's ``g`` map on ``W``, multiplies the
concept coefficients by the replicated-design masks (one mask value per concept, shared by all positions),
maps back through ``W`` and ``h`` and takes the Jansen total-order index of the class logit, averaged over
images. Differences: scrambled Halton masks (see :mod:`prunelib.craft.sobol`), a fixed NMF seed, batched
evaluation of ``h`` over several images at once, optional bfloat16 for ``g``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..hardware import native_bf16
from ..metrics.validation import check_images
from ..progress import progress_bar
from .crops import batched_features, crop_starts, extract_crops, model_device
from .factorization import MAX_ITER, check_n_concepts, fit_nmf, project
from .sobol import jansen_total, replicated_design


class Craft:
    """CRAFT with ``g`` (input -> non-negative ``(B, C, h, w)``) and ``h`` (``(B, C, h, w)`` -> logits).

    Args:
        n_concepts: rank of the NMF (10 in the study).
        patch_size: crop side in pixels (64 at 224 px).
        batch_size: crops/images per ``g`` forward.
        nb_design: Sobol design size (32, as CRAFT); ``nb_design * (n_concepts + 2)`` masks per image.
        seed: NMF ``random_state`` and mask scrambling seed.
        dtype: ``torch.float32``, ``torch.bfloat16`` (autocast) or ``"auto"`` for ``g``; NMF and ``h`` always run
            in float32. ``"auto"`` = bfloat16 when ``g`` is on a CPU with bf16 instructions
            (:func:`prunelib.hardware.native_bf16`), float32 elsewhere: measured on 100 church images
            (benchmarks/craft_speed.py, 2-core AVX512-BF16 CPU) bf16 ran 1.7x faster and changed ``A`` by
            0.3 % (relative norm), the concept vectors by cosine >= 0.998 (matched), the NMF error 0.0465 ->
            0.0464 and the importances by <= 0.02 (same top-5 set; two near-tied concepts may swap rank); a CPU
            that emulates bf16 (AVX2 alone) runs bf16 several times slower than float32.
        nmf_max_iter: the NMF's iteration cap (:data:`prunelib.craft.factorization.MAX_ITER`, 5000: the official
            code's 200 stop before scikit-learn's tolerance on our crops).
        progress: tqdm bars for the long loops.
    Attributes after :meth:`fit`: ``W`` ``(r, C)`` float32 on ``g``'s device, ``U`` ``(M, r)`` for the fit
    crops, ``activations`` (``A``, ``(M, C)``), ``reconstruction_error`` (relative Frobenius), ``nmf_iterations`` (the
    iterations the NMF took), ``n_fit_images``.
    """

    def __init__(self, g: Callable, h: Callable, n_concepts: int = 10, patch_size: int = 64, batch_size: int = 64,
                 nb_design: int = 32, seed: int = 0, dtype: torch.dtype | str = "auto", nmf_max_iter: int = MAX_ITER,
                 progress: bool = False):
        check_n_concepts(n_concepts)
        if not isinstance(patch_size, int) or patch_size < 2:
            raise ValueError(f"patch_size must be an integer >= 2, got {patch_size!r}")
        if dtype == "auto":
            device = model_device(g)
            dtype = torch.bfloat16 if device.type == "cpu" and native_bf16(device) else torch.float32
        if dtype not in (torch.float32, torch.bfloat16):
            raise ValueError(f"dtype must be torch.float32, torch.bfloat16 or 'auto', got {dtype!r}")
        self.g, self.h = g, h
        self.n_concepts, self.patch_size, self.batch_size = n_concepts, patch_size, batch_size
        self.nb_design, self.seed, self.dtype = nb_design, seed, dtype
        self.nmf_max_iter, self.progress = nmf_max_iter, progress
        self.reducer = None

    # -- concept bank -------------------------------------------------------------------------------------
    def crops(self, images: torch.Tensor) -> torch.Tensor:
        """The crops CRAFT factorises: ``(N, 3, S, S)`` -> ``(N * k * k, 3, p, p)`` (see :mod:`.crops`)."""
        return extract_crops(images, self.patch_size)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """``g`` on the crops of ``images`` (``(N, 3, S, S)``, normalised), spatially averaged: ``(N * k * k, C)``
        float32, as :meth:`fit` factorises them; a fixed model's are the space coherence is judged in
        (:func:`prunelib.craft.concept_metrics`)."""
        return batched_features(self.g, self.crops(images), images.shape[-1], self.batch_size, self.dtype,
                                progress=self.progress)

    def fit(self, images: torch.Tensor) -> "Craft":
        """Learn ``W`` from the crops of ``images`` (``(N, 3, S, S)``, normalised, one class)."""
        n_crops = images.shape[0] * len(crop_starts(images.shape[-1], self.patch_size)) ** 2
        if n_crops < self.n_concepts:
            raise ValueError(f"{images.shape[0]} image(s) give {n_crops} crops, fewer than "
                             f"n_concepts={self.n_concepts}; pass more images")
        a = self.features(images)
        self.reducer, self.U, self.reconstruction_error = fit_nmf(a, self.n_concepts, self.seed, self.nmf_max_iter)
        self.activations, self.nmf_iterations = a, int(self.reducer.n_iter_)
        self.W = torch.from_numpy(self.reducer.components_.astype(np.float32)).to(a.device)
        self.n_fit_images, self.image_size = images.shape[0], images.shape[-1]
        return self

    def _check_fitted(self) -> None:
        if self.reducer is None:
            raise ValueError("this Craft is not fitted yet: call fit(images) first")

    def transform(self, images: torch.Tensor) -> torch.Tensor:
        """Concept coefficients at every position of ``g(images)``: ``(N, 3, S, S)`` -> ``(N, h, w, r)``."""
        self._check_fitted()
        check_images(images, "images", square_rgb=True)
        a = batched_features(self.g, images, None, self.batch_size, self.dtype, pool=False, progress=self.progress)
        n, c, hh, ww = a.shape
        u = project(self.reducer, a.permute(0, 2, 3, 1).reshape(-1, c))
        return u.reshape(n, hh, ww, self.n_concepts)

    # -- importance ---------------------------------------------------------------------------------------
    def importance(self, images: torch.Tensor, class_id: int, images_per_batch: int = 4) -> np.ndarray:
        """Total-order Sobol importance of each concept for logit ``class_id``, averaged over images: ``(r,)``."""
        u = self.transform(images)
        n_classes = self._n_classes(u.shape[1:3])
        if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)) or not 0 <= class_id < n_classes:
            raise ValueError(f"class_id must be an integer in [0, {n_classes}), got {class_id!r}")
        masks = torch.from_numpy(replicated_design(self.n_concepts, self.nb_design, self.seed)).to(u.device)
        out = []
        with torch.inference_mode():
            for start in progress_bar(range(0, u.shape[0], images_per_batch), desc="Sobol", disable=not self.progress,
                                     leave=False):
                ub = u[start:start + images_per_batch]                          # (b, h, w, r)
                pert = ub[:, None] * masks[None, :, None, None, :]              # (b, m, h, w, r)
                act = (pert @ self.W).flatten(0, 1).permute(0, 3, 1, 2)        # (b*m, C, h, w)
                logits = self.h(act)[:, class_id].float().reshape(ub.shape[0], -1)
                out.append(jansen_total(logits, self.nb_design, self.n_concepts))
        return torch.cat(out).mean(0).cpu().numpy()

    def _n_classes(self, spatial: tuple[int, int]) -> int:
        with torch.inference_mode():
            zero = torch.zeros(1, self.W.shape[1], *spatial, device=model_device(self.h))
            return int(self.h(zero).shape[-1])

    # -- galleries ----------------------------------------------------------------------------------------
    def top_crops(self, images: torch.Tensor, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` crops of the fit images with the largest coefficient on each concept.

        ``images`` must be the images given to :meth:`fit` (in the same order); they may be in another
        representation of the same pixels (e.g. uint8 for display). Returns crops ``(r, k, 3, p, p)`` and their
        indices ``(r, k)`` into the fit crops (best first).
        """
        self._check_fitted()
        if images.ndim != 4 or images.shape[0] != self.n_fit_images or images.shape[-1] != self.image_size:
            raise ValueError(f"top_crops needs the {self.n_fit_images} fit images of {self.image_size} px, "
                             f"got shape {tuple(images.shape)}")
        return top_crops(self.U, extract_crops(images.float(), self.patch_size).to(images.dtype), k)


def top_crops(u: torch.Tensor, crops: torch.Tensor, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per concept (column of ``u``, ``(M, r)``), the ``k`` crops (``(M, ...)``) with the largest coefficient.

    Returns ``(r, k, ...)`` crops and ``(r, k)`` indices, best first.
    """
    if u.shape[0] != crops.shape[0]:
        raise ValueError(f"u has {u.shape[0]} rows but there are {crops.shape[0]} crops")
    if not 1 <= k <= u.shape[0]:
        raise ValueError(f"k must be in [1, {u.shape[0]}], got {k}")
    idx = u.topk(k, dim=0).indices.T.cpu()  # (r, k)
    return crops[idx], idx
