"""Figure 1 of the paper and ours: accuracy vs pruning level, per class, and where the zeros are."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..measure.common import near_chance
from .style import CHANCE, CHANCE_LABEL, COLUMN_IN, MIN_FONT_PT
from .tables import LEVEL, flagged, level, percent


def load_accuracy(stage_dir: str | Path) -> dict:
    """``accuracy.json`` written by :func:`prunelib.chapters.study.accuracy` (a sweep job's networks)."""
    return json.loads((Path(stage_dir) / "accuracy.json").read_text())


def accuracy_rows(acc: dict) -> list[dict]:
    """One row per level: % removed (asked and measured; a network near chance flagged) and top-1 (%) right after
    pruning and after fine-tuning."""
    return [{LEVEL: flagged(level(r["sparsity_target"]), near_chance(r["val_top1"], len(acc["classes"]))),
             "measured (%)": percent(r["sparsity"]),
             "top-1 before fine-tuning (%)": percent(r["val_top1_before_finetune"]), "top-1 (%)": percent(r["val_top1"])}
            for r in acc["levels"]]


def plot_accuracy(acc: dict, reference: dict | None = None) -> Figure:
    """Top-1 validation accuracy (%) vs % of weights removed; the paper's curve overlaid when ``reference`` is given.

    Also shows the accuracy right after pruning, before fine-tuning, as a dotted line; networks near chance are
    grey crosses.
    """
    levels = acc["levels"]
    x = np.array([r["sparsity_target"] * 100 for r in levels])
    top1 = np.array([100 * r["val_top1"] for r in levels])
    chance = np.array([near_chance(r["val_top1"], len(acc["classes"])) for r in levels])
    fig, ax = plt.subplots(figsize=(COLUMN_IN, 3.4))
    ax.plot(x[~chance], top1[~chance], "o-", label="ours, after fine-tuning")
    if chance.any():
        ax.plot(x[chance], top1[chance], ms=7, label=CHANCE_LABEL, **CHANCE)
    before = [(px, 100 * r["val_top1_before_finetune"]) for px, r in zip(x, levels)
              if r["val_top1_before_finetune"] is not None]
    if before:
        ax.plot(*zip(*before), "x:", color="C0", alpha=0.6, label="ours, right after pruning")
    if reference:
        ax.plot([100 * s for s in reference["sparsity"]], [100 * a for a in reference["top1"]], "s--",
                color="C3", label="paper (224 px, 30 epochs)")
    ax.set(xlabel="weights removed (%)", ylabel="top-1 accuracy on val (%)", ylim=(0, 100))
    ax.axhline(10, color="grey", lw=0.8, ls=":")
    ax.text(x.max(), 11, "chance", ha="right", va="bottom", color="grey")
    ax.legend(loc="lower left")
    return fig


def plot_training(acc: dict) -> Figure:
    """The dense network's training, epoch by epoch: top-1 on val (%, left) and the mean training loss (right),
    from ``accuracy.json``'s ``dense_history`` (kept in the checkpoint, so it survives a resumed or reused run)."""
    history = acc["dense_history"]
    epochs = [h["epoch"] + 1 for h in history]
    fig, (top1, loss) = plt.subplots(1, 2, figsize=(COLUMN_IN, 2.8))
    top1.plot(epochs, [100 * h["val_top1"] for h in history], "o-", ms=3)
    top1.set(xlabel="epoch", ylabel="top-1 on val (%)", title="validation accuracy")
    loss.plot(epochs, [h["train_loss"] for h in history], "o-", ms=3, color="C1")
    loss.set(xlabel="epoch", ylabel="mean training loss", title="training loss")
    return fig


def _heatmap(ax, matrix: np.ndarray, rows: list[str], cols: list[str], cmap: str, vmin: float, vmax: float,
             fmt: str) -> None:
    im = ax.imshow(matrix, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=MIN_FONT_PT,
                color="white" if (v - vmin) / (vmax - vmin + 1e-12) < 0.5 else "black")
    ax.figure.colorbar(im, ax=ax, fraction=0.04)


def plot_per_class(acc: dict) -> Figure:
    """Per-class validation accuracy (%), classes x pruning levels; a level whose network is near chance says so
    under its column, in grey."""
    levels = acc["levels"]
    matrix = 100 * np.array([r["val_per_class"] for r in levels]).T
    chance = [near_chance(r["val_top1"], len(acc["classes"])) for r in levels]
    fig, ax = plt.subplots(figsize=(COLUMN_IN, 3.8))
    _heatmap(ax, matrix, acc["classes"], [f"{100 * r['sparsity_target']:.0f}" + ("\nat chance" if c else "")
                                          for r, c in zip(levels, chance)], "viridis", 0, 100, ".0f")
    for label, c in zip(ax.get_xticklabels(), chance):
        if c:
            label.set_color(CHANCE["color"])
    ax.set(xlabel="weights removed (%)", title="per-class top-1 accuracy (%)")
    return fig


def plot_layer_sparsity(acc: dict) -> Figure:
    """Fraction of zeros in each Conv2d/Linear layer at each level: where global pruning takes its weights."""
    levels = acc["levels"]
    layers = list(levels[0]["layers"])
    matrix = 100 * np.array([[r["layers"][name] for r in levels] for name in layers])
    fig, ax = plt.subplots(figsize=(COLUMN_IN, 0.2 * len(layers) + 1.3))
    _heatmap(ax, matrix, layers, [f"{100 * r['sparsity_target']:.0f}" for r in levels], "magma", 0, 100, ".0f")
    ax.set(xlabel="weights removed, globally (%)", title="zeros per layer (%)")
    return fig


def describe_accuracy(acc: dict, tolerance: float = 0.02) -> str:
    """A sentence on :func:`plot_accuracy`'s figure from the data: the most pruned network whose top-1 is within
    ``tolerance`` of the dense network's, and which networks are near chance."""
    levels = acc["levels"]
    dense = levels[0]["val_top1"]
    kept = [r for r in levels[1:] if abs(r["val_top1"] - dense) <= tolerance]
    last_kept = max((r["sparsity_target"] for r in kept), default=None)
    chance = [r for r in levels[1:] if near_chance(r["val_top1"], len(acc["classes"]))]
    said = f"The dense network reaches {100 * dense:.1f} %"
    if last_kept is not None:
        said += (f"; the most pruned network within {100 * tolerance:.0f} points of it has "
                 f"{100 * last_kept:.0f} % of its weights removed")
    if chance:
        said += ", and is near chance at " + ", ".join(f"{100 * r['sparsity_target']:.0f} %" for r in chance)
    return said + "."


def describe_layers(acc: dict, level: float = 0.5) -> str:
    """A sentence on :func:`plot_layer_sparsity`'s figure: at ``level`` (or the nearest level measured), the
    layers that keep the most and lose the most of their weights."""
    row = min(acc["levels"], key=lambda r: abs(r["sparsity_target"] - level))
    layers = sorted(row["layers"].items(), key=lambda kv: kv[1])
    (least, low), (most, high) = layers[0], layers[-1]
    return (f"At {100 * row['sparsity_target']:.0f} % removed globally, {least} keeps the most of its weights "
            f"({100 * low:.0f} % zeros) and {most} loses the most ({100 * high:.0f} %).")
