"""CRAFT concept galleries and coherence-vs-pruning plots, re-plotted from files without recomputing.

A gallery's files (:mod:`prunelib.craft.gallery`): ``<stem>_crops.jpg`` holds the crops as a JPEG mosaic and
``<stem>.json`` the importances, concept ids, coherence metrics and metadata (class, pruning level, data set,
profile, seed, commit).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure, SubFigure

from ..craft.gallery import load_concepts  # noqa: F401  (the notebooks load a gallery from here, to plot it)
from ..measure.concepts import gallery_path  # noqa: F401  (the notebooks find a gallery from here)
from .style import CHANCE, CHANCE_LABEL, COLUMN_IN, PHOTO_DPI, clamped, limits
from .tables import LEVEL, flagged, level


def _draw_gallery(fig: Figure | SubFigure, gallery: Mapping[str, Any], n_concepts: int, n_crops: int,
                  title: str) -> None:
    crops = np.asarray(gallery["crops"])
    n, k = min(n_concepts, crops.shape[0]), min(n_crops, crops.shape[1])
    if n < 1 or k < 1:
        raise ValueError(f"nothing to plot: gallery crops have shape {crops.shape}")
    axes = fig.subplots(n, k, squeeze=False)
    for i in range(n):
        for j in range(k):
            axes[i, j].imshow(crops[i, j])
            axes[i, j].set_xticks([]), axes[i, j].set_yticks([])
        axes[i, 0].set_ylabel(f"c{int(gallery['concept_ids'][i])}\nS={float(gallery['importances'][i]):.2f}",
                              rotation=0, ha="right", va="center")
    fig.suptitle(title)


def gallery_title(gallery: Mapping[str, Any], at_chance: bool = False) -> str:
    """``"<class> — <pruning>"`` from the gallery's metadata; a network near chance says so."""
    meta = gallery.get("meta", {}) or {}
    title = f"{meta.get('class_name', 'class ?')} — {meta.get('pruning', '?')}"
    return title + " (network at chance: nothing to explain)" if at_chance else title


def plot_concept_gallery(gallery: Mapping[str, Any], n_concepts: int = 5, n_crops: int = 5,
                         title: str | None = None) -> Figure:
    """Rows: the ``n_concepts`` most important concepts (as stored, best first); columns: their best crops.

    Each row is labelled with the concept id and its Sobol importance; the title defaults to
    :func:`gallery_title`.
    """
    fig = plt.figure(figsize=(min(COLUMN_IN, 1.05 * n_crops + 0.9), 1.05 * n_concepts + 0.4), dpi=PHOTO_DPI)
    _draw_gallery(fig, gallery, n_concepts, n_crops, title or gallery_title(gallery))
    return fig


def plot_gallery_pair(dense: Mapping[str, Any], pruned: Mapping[str, Any], n_concepts: int = 5,
                      n_crops: int = 3) -> Figure:
    """Two galleries side by side (the dense network's and a pruned one's): their ``n_concepts`` most important
    concepts, ``n_crops`` best crops each."""
    fig = plt.figure(figsize=(COLUMN_IN, 1.05 * n_concepts + 0.5), dpi=PHOTO_DPI)
    for sub, gallery in zip(fig.subfigures(1, 2, wspace=0.04), (dense, pruned)):
        _draw_gallery(sub, gallery, n_concepts, n_crops, gallery_title(gallery))
    return fig


#: The measured views of concept quality, as (key in the metrics dict, axis label, lower is better).
CONCEPT_VIEWS = (
    (("coherence", "gain"), "coherence gain over random crops", False),
    (("concept_similarity",), "concept similarity (mean cosine of W rows)", True),
    (("importance_entropy",), "importance entropy (normalised)", True),
    (("reconstruction_error",), "NMF relative reconstruction error", True),
)


def load_coherence(stage_dir: str | os.PathLike) -> dict[str, Any]:
    """``coherence.json`` written by :func:`prunelib.chapters.study.coherence` (a sweep job's concept metrics)."""
    return json.loads((Path(stage_dir) / "coherence.json").read_text())


def concept_rows(summary: Mapping[str, Any]) -> list[dict]:
    """One row per (class, level) of ``coherence.json``: the four measured views and the NMF's iterations; a network
    near chance (``summary["at_chance"]``) flagged beside its level."""
    rows, chance = [], {level(s) for s in summary.get("at_chance", [])}
    for name in summary["classes"]:
        for s in summary["levels"]:
            v = summary["metrics"][name][str(s)]
            rows.append({"class": name, LEVEL: flagged(level(s), level(s) in chance), "coherence gain": v["coherence"]["gain"],
                         "concept similarity": v["concept_similarity"], "importance entropy": v["importance_entropy"],
                         "NMF reconstruction error": v["reconstruction_error"],
                         "NMF iterations": v["nmf_iterations"]})
    return rows


def plot_concept_metrics(summary: Mapping[str, Any]) -> Figure:
    """The four measured views of the concepts vs pruning level, one line per class; networks near chance
    (``summary["at_chance"]``) as grey crosses that do not set the axis."""
    levels = summary["levels"]
    chance = {float(s) for s in summary.get("at_chance", [])}
    fig, axes = plt.subplots(2, 2, figsize=(COLUMN_IN, 5.4), sharex=True)
    x = np.array([100 * s for s in levels])
    off = np.array([float(s) in chance for s in levels])
    for ax, (keys, label, lower) in zip(axes.flat, CONCEPT_VIEWS):
        every = []
        for i, name in enumerate(summary["classes"]):
            values = []
            for s in levels:
                v = summary["metrics"][name][str(s)]
                for k in keys:
                    v = v[k]
                values.append(np.nan if v is None else v)  # None: undefined at this level (gap in the line)
            values = np.array(values, dtype=float)
            ax.plot(x[~off], values[~off], "o-", color=f"C{i}", label=name)
            every.append(values)
        ylim = limits(np.concatenate([v[~off] for v in every]))
        if off.any():
            ax.plot(np.tile(x[off], len(every)), clamped(np.concatenate([v[off] for v in every]), ylim),
                    label=CHANCE_LABEL, **CHANCE)
        ax.set_ylim(*ylim)
        ax.set(title=f"{label}\n({'lower' if lower else 'higher'} = better)")
    for ax in axes[-1]:
        ax.set_xlabel("weights removed (%)")
    axes[0][0].legend()
    return fig


def describe_concepts(summary: Mapping[str, Any]) -> str:
    """A sentence on :func:`plot_concept_metrics`' figure: each class's coherence gain and concept similarity for
    the dense network and the most pruned network not near chance."""
    chance = {float(s) for s in summary.get("at_chance", [])}
    deepest = max([0.0] + [float(s) for s in summary["levels"] if float(s) not in chance])
    parts = []
    for name in summary["classes"]:
        dense, pruned = summary["metrics"][name][str(float(summary["levels"][0]))], summary["metrics"][name][str(deepest)]
        parts.append(f"{name} {dense['coherence']['gain']:.3f} → {pruned['coherence']['gain']:.3f} "
                     f"(similarity {dense['concept_similarity']:.2f} → {pruned['concept_similarity']:.2f})")
    return (f"Coherence gain from the dense network to {100 * deepest:.0f} % removed: " + "; ".join(parts) + ".")
