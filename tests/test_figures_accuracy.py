"""Chapter 1's training figure draws the dense network's history as recorded, epoch numbers from 1."""
from __future__ import annotations

import matplotlib
import numpy as np

from prunelib.figures.accuracy import plot_training

matplotlib.use("Agg")


def test_the_training_figure_draws_each_epoch_of_the_history() -> None:
    history = [{"epoch": 5, "val_top1": 0.71, "train_loss": 1.07}, {"epoch": 6, "val_top1": 0.73, "train_loss": 1.0}]
    fig = plot_training({"dense_history": history})
    top1, loss = (ax.get_lines()[0] for ax in fig.axes[:2])
    np.testing.assert_allclose(top1.get_xdata(), [6, 7])
    np.testing.assert_allclose(top1.get_ydata(), [71.0, 73.0])
    np.testing.assert_allclose(loss.get_ydata(), [1.07, 1.0])


def test_a_level_whose_network_is_near_chance_is_flagged_in_the_table() -> None:
    from prunelib.figures.accuracy import accuracy_rows
    from prunelib.figures.tables import LEVEL
    acc = {"classes": list(range(10)), "levels": [
        {"sparsity_target": s, "sparsity": s, "val_top1_before_finetune": None, "val_top1": top1}
        for s, top1 in ((0.0, 0.85), (0.5, 0.84), (0.98, 0.108))]}
    assert [r[LEVEL] for r in accuracy_rows(acc)] == [0, 50, "98 (at chance)"]


def test_the_per_class_figure_says_which_level_is_at_chance() -> None:
    from prunelib.figures.accuracy import plot_per_class
    acc = {"classes": [str(c) for c in range(10)], "levels": [
        {"sparsity_target": s, "val_top1": top1, "val_per_class": [top1] * 10} for s, top1 in ((0.0, 0.85), (0.98, 0.1))]}
    fig = plot_per_class(acc)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "98\nat chance"]
