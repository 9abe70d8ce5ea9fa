"""The concept bank: non-negative matrix factorisation ``A ~ U W`` (CRAFT, Fel et al., CVPR 2023, Sec. 3.1).

scikit-learn's ``NMF`` with its defaults as the official code uses them (``init=None`` -> NNDSVDa, the
coordinate-descent solver, Frobenius loss, ``max_iter=200``), plus a fixed ``random_state`` so that a seed
gives the same ``W`` every time. ``W`` (``n_concepts x C``) is the concept bank; projecting new activations
on it solves the same problem with ``W`` held fixed (``NMF.transform``). scikit-learn works on NumPy, so
these two calls are the only CPU round trips of CRAFT.
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import NMF


def fit_nmf(activations: torch.Tensor, n_concepts: int, seed: int = 0,
            max_iter: int = 200) -> tuple[NMF, torch.Tensor, float]:
    """Factorise ``A`` (``(M, C)``, non-negative) into ``U`` (``(M, r)``) and ``W`` (``(r, C)``).

    Returns:
        the fitted reducer, ``U`` as float32 on ``A``'s device, and the relative reconstruction error
        ``||A - U W||_F / ||A||_F``.
    """
    check_n_concepts(n_concepts)
    m, c = activations.shape
    if m < n_concepts or c < n_concepts:
        raise ValueError(f"NMF needs at least n_concepts={n_concepts} crops and channels; A is {m} x {c} "
                         "(pass more images or fewer concepts)")
    a = activations.detach().float().cpu().numpy()
    reducer = NMF(n_components=n_concepts, random_state=seed, max_iter=max_iter)
    u = reducer.fit_transform(a)
    err = float(np.linalg.norm(a - u @ reducer.components_) / max(np.linalg.norm(a), 1e-12))
    return reducer, torch.from_numpy(u.astype(np.float32)).to(activations.device), err


def project(reducer: NMF, activations: torch.Tensor) -> torch.Tensor:
    """Concept coefficients ``U >= 0`` minimising ``||A - U W||_F`` with ``W`` fixed: ``(M, C)`` -> ``(M, r)``."""
    a = activations.detach().float().cpu().numpy().astype(reducer.components_.dtype)
    return torch.from_numpy(reducer.transform(a).astype(np.float32)).to(activations.device)


def check_n_concepts(n_concepts: int) -> None:
    """Raise ValueError unless ``n_concepts`` is an integer >= 1."""
    if isinstance(n_concepts, bool) or not isinstance(n_concepts, (int, np.integer)) or n_concepts < 1:
        raise ValueError(f"n_concepts must be an integer >= 1, got {n_concepts!r}")
