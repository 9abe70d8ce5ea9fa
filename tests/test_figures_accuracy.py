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
