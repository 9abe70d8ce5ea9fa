"""The iterative pruning schedule: prune to the next level, fine-tune with the masks in force, save, repeat.

Each level lives in its own folder ``<out>/level_XX/`` (``XX`` = percent of weights removed):
``final.pt`` (state dict with the masks folded in) and ``report.json`` (sparsity per layer, accuracy before and
after fine-tuning). A level whose ``final.pt`` exists is loaded instead of recomputed, and an interrupted
fine-tuning resumes from its ``last.pt``, so the schedule can be killed and restarted at any point.
"""
from __future__ import annotations

import json
from pathlib import Path

from torch import nn
from tqdm.auto import tqdm

from . import checkpoint, data
from .pruning import make_permanent, prune_global, prune_layerwise, rewind, sparsity_report
from .training import TrainConfig, evaluate, train

METHODS = ("global", "lottery")


def level_tag(sparsity: float) -> str:
    """``0.1 -> "10"``, ``0.95 -> "95"``, ``0 -> "00"``: the folder and file name of a level."""
    return f"{round(sparsity * 100):02d}"


def prune_schedule(model: nn.Module, levels: list[float], finetune: TrainConfig, train_split: "data.Split",
                   val_split: "data.Split", out_dir: str | Path, *, method: str = "global",
                   initial_state: dict | None = None, device: str = "auto", progress: bool = True) -> list[dict]:
    """Prune ``model`` (trained, dense) through ``levels`` (increasing, in [0, 1)) and return one report per level.

    Args:
        model: the dense model; it is modified in place and ends at the last level.
        levels: cumulative target sparsities, e.g. :data:`prunelib.pruning.LEVELS`.
        finetune: the fine-tuning recipe applied after each pruning step (its ``epochs`` is k).
        method: ``"global"`` (the paper's text) or ``"lottery"`` (the authors' code: per-layer pruning, rewind to
            ``initial_state``, retrain).
        initial_state: the dense model's weights before training (``init.pt``), needed for ``"lottery"``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "lottery" and initial_state is None:
        raise ValueError("method='lottery' needs initial_state (the dense run's init.pt) to rewind to")
    if list(levels) != sorted(levels) or len(set(levels)) != len(levels):
        raise ValueError(f"levels must be strictly increasing, got {levels}")
    out_dir = Path(out_dir)
    reports = []
    for sparsity in tqdm(levels, desc=f"pruning ({method})", disable=not progress):
        level_dir = out_dir / f"level_{level_tag(sparsity)}"
        final = level_dir / "final.pt"
        if final.exists():
            checkpoint.load_model_state(make_permanent(model), checkpoint.load(final)["model"])
            reports.append(json.loads((level_dir / "report.json").read_text()))
            continue
        if method == "global":
            prune_global(model, sparsity)
        else:
            rewind(prune_layerwise(model, sparsity), initial_state)
        before = evaluate(model, val_split, image_size=finetune.image_size, bf16=finetune.bf16)
        result = train(model, train_split, val_split, finetune, level_dir, device=device, progress=progress)
        make_permanent(model)
        report = {"sparsity_target": sparsity, "method": method, "val_top1_before_finetune": before["top1"],
                  "val_top1": result["val_top1"], "val_per_class": result["val_per_class"],
                  "best_epoch": result["best_epoch"], "finetune_seconds": result["seconds"],
                  "sparsity": sparsity_report(model)}
        checkpoint.save_json(report, level_dir / "report.json")
        checkpoint.save({"model": model.state_dict(), "sparsity_target": sparsity}, final)
        reports.append(report)
    return reports
