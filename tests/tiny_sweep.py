"""A sweep small enough for a test to run in seconds: the tiny profiles, the sweep's command line on them, and its
summary table read back. Used by the tests of the sweep (test_sweep*.py) and by the ``sweep_env`` fixture."""
from __future__ import annotations

import csv
from pathlib import Path

from prunelib.__main__ import main as cli

# A profile small enough for a job to take seconds: 3 epochs at 32 px on the synthetic data, one pruned level, in
# fp32 (a CPU with AVX2 alone emulates bf16, ~30x slower at this size; the bf16 checks of test_sweep.py turn it back on).
TINY = """tiny:
  image_size: 32
  subset_per_class: 0
  val_per_class: 0
  epochs: 3
  batch_size: 8
  lr: 0.003
  label_smoothing: 0.1
  flat_fraction: 0.0
  finetune_epochs: 1
  finetune_lr: 0.0003
  levels: "50"
  lottery_rate: 50
  lottery_rounds: 1
  authors_rounds: 1
  methods: "VG,IG"
  n_attribution_images: 4
  ig_steps: 2
  road_precision: fp32
  n_bootstrap: 20
  seed: 0
  craft_classes: "church"
  craft_images: 4
  n_concepts: 3
  picture_seeds: "0"
  saliency_classes: "church,tench"
  removal_percentages: "0,50"
  bf16: false
"""
#: the tiny profile under bf16 autocast, the study's default (what the bf16 checks judge)
TINY_BF16 = TINY.replace("bf16: false", "bf16: true")
# The tiny profile without concepts and pictures, one epoch and one saliency method: for the tests of the sweep's
# bookkeeping and executors, where what a job computes is beside the point.
LIGHT = (TINY.split("  craft_classes:")[0]
         .replace("epochs: 3", "epochs: 1").replace('methods: "VG,IG"', 'methods: "VG"') + "  bf16: false\n")


def run_sweep(env: dict, capsys, *args: str) -> tuple[int, str]:
    """``python -m prunelib sweep --profile tiny`` on ``env`` (the ``sweep_env`` fixture) with ``args``: its exit
    code and what it printed."""
    try:
        code = cli(["sweep", "--profile", "tiny", "--data", env["data"], "--cpus-per-job", "1", *args])
    except SystemExit as stop:  # argparse: a bad option or profiles file
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def read_rows(path: Path) -> list[dict]:
    """The rows of a summary.csv."""
    with open(path) as fh:
        return list(csv.DictReader(fh))
