"""Training and pruning as functions (loading the splits, the dense run, the pruning schedule):
the CLI and the sweep's jobs call these same ones."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from . import checkpoint, runs
from . import data as imagenette
from .models import resnet18
from .schedule import level_tag, prune_schedule
from .training import TrainConfig, train


def load_splits(data_root: str | Path | None, subset_per_class: int | None = None, seed: int = 0,
                val_per_class: int | None = None) -> tuple["imagenette.Split", "imagenette.Split"]:
    """Train and val splits of ImageNette (optionally N images per class of each, deterministic by seed)."""
    root = imagenette.locate(data_root)
    train_split, val_split = imagenette.load_split(root, "train"), imagenette.load_split(root, "val")
    if subset_per_class:
        train_split = imagenette.per_class_subset(train_split, subset_per_class, seed=seed)
    if val_per_class:
        val_split = imagenette.per_class_subset(val_split, val_per_class, seed=seed)
    return train_split, val_split


def check_precision(cfg: TrainConfig, data_root: str | Path, subset_per_class: int | None, device: str, what: str,
                    fp32_option: str | None = None) -> None:
    """Refuse, before anything is decoded, a training of ``cfg`` under bf16 autocast on a device that would emulate
    bf16 (:func:`prunelib.hardware.check_bf16`): each network sees ``cfg.epochs`` times the training split (or its
    ``subset_per_class``), counted from the file listing."""
    from .hardware import check_bf16
    from .models import resolve_device
    if cfg.bf16:
        images = cfg.epochs * imagenette.split_size(data_root, "train", subset_per_class or 0)
        check_bf16(what, images=images, image_size=cfg.image_size, device=resolve_device(device),
                   fp32_option=fp32_option)


def train_dense(splits: tuple["imagenette.Split", "imagenette.Split"], cfg: TrainConfig, run_dir: str | Path, *,
                device: str = "auto", progress: bool = True, expect: list[dict] | None = None) -> dict:
    """Train the dense ResNet-18 from scratch into ``run_dir`` (resuming) and write ``run_dir/report.json``;
    ``expect``: the recorded history of the dense network it must make again (:func:`prunelib.training.train`)."""
    train_split, val_split = splits
    model = resnet18(num_classes=len(imagenette.CLASSES), seed=cfg.seed)
    result = train(model, train_split, val_split, cfg, run_dir, device=device, progress=progress, save_init=True,
                   identity={"stage": "dense"}, expect=expect)
    report = {"sparsity_target": 0.0, "method": "dense", "val_top1": result["val_top1"],
              "val_per_class": result["val_per_class"], "best_epoch": result["best_epoch"],
              "history": result["history"], "config": dataclasses.asdict(cfg),
              "n_train": len(train_split), "n_val": len(val_split)}
    checkpoint.save_json(report, Path(run_dir) / "report.json")
    return report


def prune_dense(splits: tuple["imagenette.Split", "imagenette.Split"], dense_dir: str | Path, levels: list[float],
                finetune: TrainConfig, out_dir: str | Path, *, method: str = "global", device: str = "auto",
                progress: bool = True, on_level: Callable[[dict], None] | None = None) -> list[dict]:
    """Load ``dense_dir/best.pt`` and run the pruning schedule into ``out_dir`` (resuming level by level; each
    level's report goes to ``on_level`` as soon as it is saved)."""
    dense_dir = Path(dense_dir)
    model = resnet18(num_classes=len(imagenette.CLASSES))
    checkpoint.load_model_state(model, checkpoint.load(dense_dir / "best.pt")["model"])
    initial = checkpoint.load(dense_dir / "init.pt")["model"] if method == "lottery" else None
    digest = runs.file_digest(dense_dir / "init.pt") if method == "lottery" else None
    return prune_schedule(model, levels, finetune, *splits, out_dir, parent=dense_dir / "best.pt", method=method,
                          initial_state=initial, initial_digest=digest, device=device, progress=progress,
                          on_level=on_level)


def parse_levels(levels: str) -> list[float]:
    """``"10,20,30"`` (percent, as in profiles and notebook parameters) -> ``[0.1, 0.2, 0.3]``."""
    try:
        values = [float(v) / 100 for v in str(levels).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"levels must be comma-separated percentages like '10,20,30', got {levels!r}") from None
    if not values or any(not 0 < v < 1 for v in values):
        raise ValueError(f"levels must be percentages in (0, 100), got {levels!r}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"levels must be strictly increasing (each is cumulative), got {levels!r}")
    tags = [level_tag(v) for v in values]  # a level's folder is named to 0.01 %
    if len(set(tags)) < len(tags) or float(tags[-1]) >= 100:
        raise ValueError(f"levels must differ by at least 0.01 % and stay below 100 % at that precision (each names "
                         f"a folder level_<percent>, here {', '.join(tags)}), got {levels!r}")
    return values
