"""Noisy linear imputation (ROAD, Rong et al. 2022), batched in torch.

For an image x of shape (C, H, W) and a set R of removed pixels (a boolean (H, W) mask), every removed pixel
takes the weighted mean of its in-image 8-neighbours,

    s_i * u_i = sum_{j in N(i)} w_ij * u_j,        w_ij = 1/6 (edge neighbour), 1/12 (diagonal neighbour),
    s_i = sum_{j in N(i)} w_ij                      (1 in the interior, 2/3 on a border, 5/12 in a corner),

where u_j = x_j for kept pixels and u_j is unknown for removed ones. Moving the known terms to the right gives
one linear system per image, A u_R = b, shared by all channels:

    A = diag(s_R) - W_RR,       b = W_RK x_K.

This is exactly what Quantus 0.5.3 (``quantus.functions.perturb_func.noisy_linear_imputation``, adapted from
Rong et al.'s road_evaluation) assembles (it stores -A and -b); pixels outside the image are simply missing,
which lowers s_i at the borders. A is symmetric (w_ij = w_ji) and, unless every pixel is removed, an
irreducibly diagonally dominant M-matrix, hence symmetric positive definite. Finally Gaussian noise
N(0, noise^2) is added independently to every imputed value (every channel of every removed pixel).

``method="cg"`` (default) solves all systems of a batch at once with conjugate gradients on the 3x3 stencil
(``torch.nn.functional.conv2d``), preconditioned by one multigrid-like coarse correction, starting from a
coarse-to-fine (pyramid) fill; ``method="direct"`` is the reference: SciPy's sparse LU per image (CPU,
NumPy round trip, float64), as Quantus does.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

__all__ = ["noisy_linear_imputation", "neighbour_kernel"]

_EDGE, _DIAG = 1.0 / 6.0, 1.0 / 12.0


def neighbour_kernel(dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """The 3x3 neighbour weights w (diagonals 1/12, edges 1/6, centre 0) as a (1, 1, 3, 3) conv kernel."""
    k = torch.tensor([[_DIAG, _EDGE, _DIAG], [_EDGE, 0.0, _EDGE], [_DIAG, _EDGE, _DIAG]], dtype=dtype, device=device)
    return k.view(1, 1, 3, 3)


def _check(x: torch.Tensor, removed_mask: torch.Tensor, noise: float) -> tuple[torch.Tensor, torch.Tensor, bool]:
    if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4):
        raise ValueError(f"x must be a (N, C, H, W) or (C, H, W) tensor, got {getattr(x, 'shape', type(x))}")
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating point tensor, got dtype {x.dtype}")
    single = x.ndim == 3
    if single:
        x = x.unsqueeze(0)
    if x.shape[0] == 0:
        raise ValueError("x is an empty batch (N = 0)")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or inf values")
    m = removed_mask
    if not isinstance(m, torch.Tensor):
        raise ValueError(f"removed_mask must be a boolean tensor, got {type(m)}")
    if m.ndim == 2:
        m = m.unsqueeze(0).expand(x.shape[0], -1, -1)
    elif m.ndim == 4 and m.shape[1] == 1:
        m = m[:, 0]
    elif single and m.ndim == 3 and m.shape[0] == 1:
        pass
    if m.ndim != 3 or m.shape[0] != x.shape[0] or m.shape[-2:] != x.shape[-2:]:
        raise ValueError(
            f"removed_mask must have shape (N, H, W) = {(x.shape[0], *x.shape[-2:])} (or (H, W)), got {tuple(removed_mask.shape)}"
        )
    if m.dtype != torch.bool:
        raise ValueError(f"removed_mask must be a boolean tensor, got dtype {m.dtype}")
    if m.flatten(1).all(dim=1).any():
        raise ValueError("removed_mask removes every pixel of an image: the imputation system is singular")
    if not (noise >= 0.0) or noise != noise or noise == float("inf"):
        raise ValueError(f"noise must be a finite number >= 0, got {noise}")
    return x, m.to(x.device), single


def _stencil(u: torch.Tensor) -> torch.Tensor:
    """(W u)_i = sum_j w_ij u_j over in-image 8-neighbours, for (..., H, W) u (zero outside the image).

    Uses W = (t t^T - 4 I) / 12 with t = [1, 2, 1] applied along each axis (separable), which is much
    faster on CPU than a single-channel conv2d.
    """
    a = 2 * u
    a[..., :, 1:] += u[..., :, :-1]
    a[..., :, :-1] += u[..., :, 1:]
    b = 2 * a
    b[..., 1:, :] += a[..., :-1, :]
    b[..., :-1, :] += a[..., 1:, :]
    return b.sub_(u, alpha=4.0).mul_(1.0 / 12.0)


def _pyramid_guess(v: torch.Tensor, known: torch.Tensor, levels: int) -> torch.Tensor:
    """Coarse-to-fine fill of unknown pixels (push-pull): averages of known pixels, propagated down the pyramid."""
    vs, ks = [v], [known]
    for _ in range(levels):
        if min(vs[-1].shape[-2:]) < 4:
            break
        kv = F.avg_pool2d(vs[-1] * ks[-1], 2, ceil_mode=True)
        kk = F.avg_pool2d(ks[-1], 2, ceil_mode=True)
        vs.append(torch.where(kk > 0, kv / kk.clamp_min(1e-12), torch.zeros_like(kv)))
        ks.append((kk > 0).to(v.dtype))
    fill = vs[-1]
    for lv in range(len(vs) - 2, -1, -1):
        up = F.interpolate(fill, size=vs[lv].shape[-2:], mode="bilinear", align_corners=False)
        fill = ks[lv] * vs[lv] + (1 - ks[lv]) * up
    return fill


def _solve_cg(x: torch.Tensor, m: torch.Tensor, tol: float, max_iter: int) -> torch.Tensor:
    """Solve A u_R = b for every image and channel at once (Jacobi-preconditioned CG, one system per (n, c)).

    The start is a coarse-to-fine pyramid fill; systems that have converged are dropped from the active set
    every few iterations so a single hard image does not keep the whole batch iterating.
    Returns the full images (N, C, H, W) with the removed pixels replaced by the solution (no noise).
    """
    n, c, h, w = x.shape
    tiny = torch.finfo(x.dtype).tiny
    mb = m.to(x.dtype).unsqueeze(1).repeat_interleave(c, dim=0)  # (N*C, 1, H, W), 1 on removed pixels
    s = _stencil(torch.ones(1, 1, h, w, dtype=x.dtype, device=x.device))  # (1, 1, H, W) valid-weight sums
    xb = x.reshape(n * c, 1, h, w)
    known = xb * (1 - mb)
    b = mb * _stencil(known)
    minv = mb / s  # Jacobi preconditioner diag(s_R)^-1, zero off R

    def apply_a(v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (s * v).sub_(_stencil(v)).mul_(mask)

    def dot(a_: torch.Tensor, b_: torch.Tensor) -> torch.Tensor:
        return (a_ * b_).sum(dim=(1, 2, 3), keepdim=True)

    u_all = mb * _pyramid_guess(xb, 1 - mb, levels=8)
    bnorm2 = dot(b, b)
    active = torch.arange(n * c, device=x.device)
    u, mk, mi = u_all.clone(), mb, minv
    r = b - apply_a(u, mk)
    z = r * mi
    p = z.clone()
    rz = dot(r, z)
    thr = (tol * tol) * bnorm2
    iters = 0
    for iters in range(1, max_iter + 1):
        ap = apply_a(p, mk)
        alpha = rz / dot(p, ap).clamp_min(tiny)
        u.addcmul_(alpha, p)
        r.addcmul_(alpha, ap, value=-1.0)
        done = dot(r, r) <= thr
        if done.all():
            break
        if iters % 8 == 0 and done.any():  # compact: write back converged systems, keep the rest
            u_all[active] = u
            keep = ~done.view(-1)
            active, u, r, p, mk, mi, rz, thr = (t[keep] for t in (active, u, r, p, mk, mi, rz, thr))
        z = r * mi
        rz_new = dot(r, z)
        beta = rz_new / rz.clamp_min(tiny)
        rz = rz_new
        p = p.mul_(beta).add_(z)
    u_all[active] = u
    _solve_cg.last_iterations = iters  # type: ignore[attr-defined]
    return (known + mb * u_all).reshape(n, c, h, w)


def _solve_direct(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Reference: sparse LU per image with SciPy in float64 (the system Quantus builds)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    n, c, h, w = x.shape
    out = x.detach().to("cpu", torch.float64).clone()
    offsets = [(dy, dx, _DIAG if dy and dx else _EDGE) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    for i in range(n):
        rem = m[i].cpu().numpy()
        idx = np.flatnonzero(rem)
        if idx.size == 0:
            continue
        var = -np.ones(h * w, dtype=np.int64)
        var[idx] = np.arange(idx.size)
        img = out[i].reshape(c, -1).numpy()
        ry, rx = yy.ravel()[idx], xx.ravel()[idx]
        rows, cols, vals = [], [], []
        diag = np.zeros(idx.size)
        b = np.zeros((idx.size, c))
        for dy, dx, wt in offsets:
            ny, nx = ry + dy, rx + dx
            ok = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            nb = ny[ok] * w + nx[ok]
            rid = np.flatnonzero(ok)
            diag[rid] += wt
            unk = var[nb] >= 0
            rows.append(rid[unk]); cols.append(var[nb[unk]]); vals.append(np.full(unk.sum(), -wt))
            b[rid[~unk]] += wt * img[:, nb[~unk]].T
        a = sp.csc_matrix(
            (np.concatenate(vals + [diag]), (np.concatenate(rows + [np.arange(idx.size)]), np.concatenate(cols + [np.arange(idx.size)]))),
            shape=(idx.size, idx.size),
        )
        sol = spsolve(a, b)
        img[:, idx] = np.asarray(sol).reshape(idx.size, c).T
    return out.to(x.device, x.dtype)


def noisy_linear_imputation(
    x: torch.Tensor,
    removed_mask: torch.Tensor,
    noise: float = 0.01,
    generator: torch.Generator | None = None,
    *,
    method: Literal["cg", "direct"] = "cg",
    tol: float = 1e-6,
    max_iter: int = 2000,
) -> torch.Tensor:
    """Replace the removed pixels of each image by the noisy linear imputation of ROAD.

    Args:
        x: images (N, C, H, W) or (C, H, W), float; any normalisation (imputation is linear per channel).
        removed_mask: bool (N, H, W), (N, 1, H, W) or (H, W) (shared by the batch); True = pixel removed.
        noise: standard deviation sigma of the Gaussian noise added to each imputed value (ROAD: 0.01).
        generator: torch.Generator on x's device for the noise (None: the global RNG).
        method: "cg" (batched preconditioned conjugate gradients, torch, CPU/CUDA) or "direct" (SciPy LU
            per image, the reference).
        tol: CG stops when ||b - A u||_2 <= tol * ||b||_2 for every image and channel.
        max_iter: CG iteration cap.

    Returns:
        Tensor shaped like x: kept pixels unchanged, removed pixels u_i + sigma * eps_i, eps_i ~ N(0, 1),
        where u solves diag(s_R) u - W_RR u = W_RK x_K (see the module docstring).
    """
    x4, m, single = _check(x, removed_mask, noise)
    if method == "cg":
        if not (0 < tol < 1):
            raise ValueError(f"tol must lie in (0, 1), got {tol}")
        work = x4 if x4.dtype in (torch.float32, torch.float64) else x4.float()
        out = _solve_cg(work, m, tol, max_iter).to(x4.dtype)
    elif method == "direct":
        out = _solve_direct(x4, m)
    else:
        raise ValueError(f"method must be 'cg' or 'direct', got {method!r}")
    if noise > 0:
        eps = torch.randn(out.shape, generator=generator, dtype=out.dtype, device=out.device)
        out = torch.where(m.unsqueeze(1), out + noise * eps, out)
    return out[0] if single else out
