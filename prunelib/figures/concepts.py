"""CRAFT concept galleries and coherence-vs-pruning plots, re-plotted from files without recomputing.

A gallery's files (:mod:`prunelib.craft.gallery`): ``<stem>_crops.jpg`` holds the crops as a JPEG mosaic and
``<stem>.json`` the importances, concept ids, coherence metrics and metadata (class, pruning level, data set,
profile, seed, commit).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..craft.gallery import load_concepts  # noqa: F401  (the notebooks load a gallery from here, to plot it)
from ..provenance import Source
from ..schedule import level_tag
from .captions import captioned
from .tables import LEVEL, level


def plot_concept_gallery(gallery: Mapping[str, Any], n_concepts: int = 5, n_crops: int = 5,
                         title: str | None = None, source: Source | None = None) -> Figure:
    """Rows: the ``n_concepts`` most important concepts (as stored, best first); columns: their best crops.

    Each row is labelled with the concept id and its Sobol importance; the title defaults to
    ``"<class_name> — pruning <pruning>"`` from ``gallery["meta"]``.
    """
    crops = np.asarray(gallery["crops"])
    n, k = min(n_concepts, crops.shape[0]), min(n_crops, crops.shape[1])
    if n < 1 or k < 1:
        raise ValueError(f"nothing to plot: gallery crops have shape {crops.shape}")
    fig, axes = plt.subplots(n, k, figsize=(1.4 * k + 1.2, 1.4 * n + 0.5), squeeze=False)
    for i in range(n):
        for j in range(k):
            ax = axes[i, j]
            ax.imshow(crops[i, j])
            ax.set_xticks([]), ax.set_yticks([])
        axes[i, 0].set_ylabel(f"c{int(gallery['concept_ids'][i])}\nS={float(gallery['importances'][i]):.2f}",
                              rotation=0, ha="right", va="center", fontsize=9)
    meta = gallery.get("meta", {}) or {}
    if title is None:
        title = f"{meta.get('class_name', 'class ?')} — pruning {meta.get('pruning', '?')}"
    fig.suptitle(title, fontsize=10)
    return captioned(fig, plot_concept_gallery, source)


def plot_coherence(levels: Sequence[float | str], values: Mapping[str, Sequence[float]],
                   metric: str = "coherence gain", lower_is_better: bool = False,
                   source: Source | None = None) -> Figure:
    """One line per series (e.g. per class) of a concept metric against pruning level.

    Args:
        levels: pruning levels (x axis), e.g. ``[0, 10, 20, 30, 50, 70]`` (% of weights removed).
        values: ``{series name: one value per level}``.
    """
    if not values:
        raise ValueError("values is empty: nothing to plot")
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    x = np.arange(len(levels))
    for name, ys in values.items():
        if len(ys) != len(levels):
            raise ValueError(f"series {name!r} has {len(ys)} values for {len(levels)} levels")
        ax.plot(x, ys, marker="o", label=name)
    ax.set_xticks(x, [str(v) for v in levels])
    ax.set_xlabel("pruning level (% weights removed)")
    ax.set_ylabel(f"{metric} ({'lower' if lower_is_better else 'higher'} is better)")
    ax.legend(fontsize=8)
    return captioned(fig, plot_coherence, source)


#: The measured views of concept quality, as (key in the metrics dict, axis label, lower is better).
CONCEPT_VIEWS = (
    (("coherence", "gain"), "coherence gain over random crops", False),
    (("concept_similarity",), "concept similarity (mean cosine of W rows)", True),
    (("importance_entropy",), "importance entropy (normalised)", True),
    (("reconstruction_error",), "NMF relative reconstruction error", True),
)


def load_coherence(stage_dir: str | os.PathLike) -> dict[str, Any]:
    """``coherence.json`` written by :func:`prunelib.stages.study.coherence` (a sweep job's concept metrics)."""
    return json.loads((Path(stage_dir) / "coherence.json").read_text())


def gallery_path(stage_dir: str | os.PathLike, class_name: str, sparsity: float) -> Path:
    """Where the gallery of ``class_name`` at ``sparsity`` is stored in ``stage_dir`` (without suffix)."""
    return Path(stage_dir) / f"{class_name.replace(' ', '_')}_{level_tag(sparsity)}"


def concept_rows(summary: Mapping[str, Any]) -> list[dict]:
    """One row per (class, level) of ``coherence.json``: the four measured views and the NMF's iterations."""
    rows = []
    for name in summary["classes"]:
        for s in summary["levels"]:
            v = summary["metrics"][name][str(s)]
            rows.append({"class": name, LEVEL: level(s), "coherence gain": v["coherence"]["gain"],
                         "concept similarity": v["concept_similarity"], "importance entropy": v["importance_entropy"],
                         "NMF reconstruction error": v["reconstruction_error"],
                         "NMF iterations": v["nmf_iterations"]})
    return rows


def plot_concept_metrics(summary: Mapping[str, Any], source: Source | None = None) -> Figure:
    """The four measured views of the concepts vs pruning level, one line per class."""
    levels = summary["levels"]
    fig, axes = plt.subplots(1, len(CONCEPT_VIEWS), figsize=(4.0 * len(CONCEPT_VIEWS), 3.4))
    x = [100 * s for s in levels]
    for ax, (keys, label, lower) in zip(axes, CONCEPT_VIEWS):
        for name in summary["classes"]:
            values = []
            for s in levels:
                v = summary["metrics"][name][str(s)]
                for k in keys:
                    v = v[k]
                values.append(np.nan if v is None else v)  # None: undefined at this level (gap in the line)
            ax.plot(x, values, "o-", label=name)
        ax.set(xlabel="weights removed (%)", title=f"{label}\n({'lower' if lower else 'higher'} = better)")
        ax.title.set_fontsize(8)
    axes[0].legend(fontsize=8)
    return captioned(fig, plot_concept_metrics, source)
