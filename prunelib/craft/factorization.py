"""The concept bank: non-negative matrix factorisation ``A ~ U W`` (CRAFT, Fel et al., CVPR 2023, Sec. 3.1).

scikit-learn's ``NMF`` with the defaults the official code uses (``init=None`` -> NNDSVDa, the coordinate-descent
solver, Frobenius loss, ``tol=1e-4``) except the iteration cap, plus a fixed ``random_state`` so that a seed
gives the same ``W`` every time. The official cap, scikit-learn's 200 iterations, stops before the tolerance
is met on our crops: on 100 validation images per class at 128 px (1,600 crops x 512 channels of the noise
profile's seed-0 networks at 0, 50, 90 and 98 % removed; church, parachute, English springer) 11 of 12 fits
stopped at 200, and converged fits took 184 to 1,084 iterations (``benchmarks/nmf_convergence.py``); the
relative reconstruction error moved by at most 0.0007 between the two. :data:`MAX_ITER` = 5000 leaves a margin
of four and a half; a fit that still does not converge makes scikit-learn warn, which fails the stage. The
iterations a fit took (the reducer's ``n_iter_``) are stored with the concept metrics.

``W`` (``n_concepts x C``) is the concept bank; projecting new activations on it solves the same problem with
``W`` held fixed (``NMF.transform``, under the same cap). scikit-learn works on NumPy, so these two calls are
the only CPU round trips of CRAFT.
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import NMF

#: the iteration cap of every NMF fit and projection (scikit-learn's tolerance, 1e-4, decides when it stops)
MAX_ITER = 5000


def fit_nmf(activations: torch.Tensor, n_concepts: int, seed: int = 0,
            max_iter: int = MAX_ITER) -> tuple[NMF, torch.Tensor, float]:
    """Factorise ``A`` (``(M, C)``, non-negative) into ``U`` (``(M, r)``) and ``W`` (``(r, C)``).

    Returns:
        the fitted reducer (``reducer.n_iter_``: the iterations it took), ``U`` as float32 on ``A``'s device, and
        the relative reconstruction error ``||A - U W||_F / ||A||_F``.
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
