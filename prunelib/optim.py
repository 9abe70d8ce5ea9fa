"""Ranger: RAdam + gradient centralisation + Lookahead, the optimiser of the paper's training code.

Ranger (Wright, 2019) combines Rectified Adam (Liu et al., 2020), Lookahead (Zhang et al., 2019) and gradient
centralisation (Yong et al., 2020). Here it is built on ``torch.optim.RAdam`` (with decoupled weight decay, as
Ranger applies it), so the variance rectification is PyTorch's well-tested one; this class adds only the two
small pieces around it. Its whole state, slow weights included, is in ``state_dict()`` and loads with
``weights_only=True``.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch


class Ranger(torch.optim.RAdam):
    """RAdam whose gradients are centralised and whose weights follow a Lookahead slow copy.

    Args:
        params: parameters or parameter groups.
        lr, betas, eps, weight_decay: as ``torch.optim.RAdam`` (Ranger's defaults: betas (0.95, 0.999), eps 1e-5).
        k: Lookahead synchronisation period (every ``k`` steps the fast weights move to the slow ones).
        alpha: Lookahead step: ``slow += alpha * (fast - slow)``, then ``fast = slow``.
        centralize: subtract from every gradient of a tensor with ``dim > 1`` its mean over all but the first axis.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.95, 0.999),
                 eps: float = 1e-5, weight_decay: float = 0.0, k: int = 6, alpha: float = 0.5,
                 centralize: bool = True) -> None:
        if k < 1 or not 0.0 < alpha <= 1.0:
            raise ValueError(f"Lookahead needs k >= 1 and 0 < alpha <= 1, got k={k}, alpha={alpha}")
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         decoupled_weight_decay=True)
        for group in self.param_groups:
            group.setdefault("k", k)
            group.setdefault("alpha", alpha)
            group.setdefault("centralize", centralize)

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 - as torch.optim.Optimizer.step
        for group in self.param_groups:
            if group["centralize"]:
                for p in group["params"]:
                    if p.grad is not None and p.grad.dim() > 1:
                        p.grad.sub_(p.grad.mean(dim=tuple(range(1, p.grad.dim())), keepdim=True))
        loss = super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "slow" not in state:
                    state["slow"] = p.detach().clone()
                    state["lookahead_step"] = 0
                state["lookahead_step"] += 1
                if state["lookahead_step"] % group["k"] == 0:
                    state["slow"].add_(p - state["slow"], alpha=group["alpha"])
                    p.copy_(state["slow"])
        return loss


def make_optimizer(name: str, params: Iterable, lr: float, weight_decay: float,
                   eps: float | None = None) -> torch.optim.Optimizer:
    """``"ranger"`` (the paper's), ``"adamw"`` or ``"sgd"`` (momentum 0.9, Nesterov); ``eps`` None keeps the
    optimiser's default (SGD has none)."""
    extra = {} if eps is None else {"eps": eps}
    if name == "ranger":
        return Ranger(params, lr=lr, weight_decay=weight_decay, **extra)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, **extra)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be one of 'ranger', 'adamw', 'sgd'; got {name!r}")
