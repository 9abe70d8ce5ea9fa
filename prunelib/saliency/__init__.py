"""Saliency maps on captum, one module per method around a shared base, and one registry: :data:`METHODS`.

``METHODS[name](model, x, target)`` gives maps (N, H, W) in the setting the metrics use, ``.figure(...)`` in the
setting of the qualitative figures; each entry carries its ``label`` and presets. Every stage, figure, table
and verdict iterates over the registry, or over the profile's ``methods`` (a comma-separated list of its keys).
To add a method: a module with a :class:`~prunelib.saliency.base.SaliencyMethod` subclass, one line below, tests.

- ``VG``: Vanilla Gradients (:mod:`.vanilla`), the paper's;
- ``IG``: Integrated Gradients (:mod:`.integrated`), the paper's;
- ``SG``: SmoothGrad (:mod:`.smoothgrad`), beyond the paper.
"""
from __future__ import annotations

from .base import SaliencyMethod
from .integrated import IG_FIGURE, IG_METRIC, IntegratedGradientsMethod, ig_figure, ig_metric, integrated_gradients
from .smoothgrad import SmoothGrad, smoothgrad
from .vanilla import VanillaGradients, vanilla_gradient

#: the methods of the paper (the default of every profile and stage)
PAPER_METHODS = "VG,IG"
#: every saliency method of the package, keyed by its short name
METHODS: dict[str, SaliencyMethod] = {m.name: m for m in (VanillaGradients(), IntegratedGradientsMethod(), SmoothGrad())}


def methods(names: str | list[str] | tuple[str, ...]) -> dict[str, SaliencyMethod]:
    """The registry entries named in ``names`` (``"VG,IG"`` or a list), in that order; unknown names are an error."""
    keys = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    unknown = [k for k in keys if k not in METHODS]
    if unknown or not keys:
        raise ValueError(f"unknown saliency method(s) {unknown or names!r}; expected names among {', '.join(METHODS)}")
    return {k: METHODS[k] for k in keys}


def in_order(names) -> list[str]:
    """``names`` (e.g. the keys of a results file, which JSON stores sorted) in the registry's order; names the
    registry does not know (results of an older or a user's method) come last, as given."""
    names = list(names)
    return [k for k in METHODS if k in names] + [k for k in names if k not in METHODS]


__all__ = ["METHODS", "PAPER_METHODS", "methods", "in_order", "SaliencyMethod", "vanilla_gradient", "integrated_gradients", "smoothgrad",
           "ig_metric", "ig_figure", "IG_METRIC", "IG_FIGURE"]
