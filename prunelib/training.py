"""Training and evaluation: a resumable loop with a checkpoint after every epoch.

The loop is the paper's recipe by default (Ranger, lr 1e-3, weight decay 1e-4, batch 128, cosine schedule,
best validation epoch kept) with the image size, epochs and label smoothing as parameters. On the CPU it trains in
``channels_last`` under ``torch.autocast(bfloat16)`` (about twice as fast on AVX512-BF16); on CUDA the same
bf16 autocast is used.

Resuming: ``run_dir/last.pt`` holds the model, optimiser, scheduler, RNG state, epoch and history after every
epoch. Run :func:`train` again with the same configuration and it continues from there; the data order of
every epoch is drawn from ``(seed, epoch)``, so an interrupted and resumed run ends with the same weights as an
uninterrupted one.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import checkpoint, data, paths, runs
from .models import device_of, resolve_device
from .optim import make_optimizer
from .progress import progress_bar

from .typed_settings import Settings


#: what each annotated field type of TrainConfig accepts (an int is a valid float)
_FIELD_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "int | None": (int, type(None)),
               "float | None": (int, float, type(None))}
#: the learning-rate schedules and how often they are stepped (:func:`lr_schedule`)
SCHEDULES = ("cosine", "constant")
SCHEDULE_UNITS = ("step", "epoch")
#: the smallest image ResNet-18 can learn from (five stride-2 stages: 32 px is a 1x1 feature map)
MIN_IMAGE_SIZE = 32


class NotReproduced(ValueError):
    """A training that must reproduce a recorded network (``train(..., expect=...)``) reached another validation
    accuracy at an epoch: this machine trains another realization (another CPU kind or device); the message names
    the run folder, the epoch and both values."""


class TrainingDiverged(ValueError):
    """The training loss became NaN or infinite: the run stops before that epoch is saved, so its folder keeps the
    last finite epoch; the message names the epoch, the step and the rate."""


#: the version of the code that trains a network (this module, the data's transforms, the optimiser, the schedule,
#: the model and the pruning): part of every run's identity (:func:`run_identity`), bumped by a change that alters the
#: weights a recipe trains to; the git commit is recorded but not compared, so a changed comment keeps hours of training
CODE_VERSION = 2


def run_identity(*, data: dict, recipe: "TrainConfig | dict", **parts) -> dict:
    """The identity of a run (:func:`prunelib.runs.claim`): ``data`` (split digests and sizes,
    :func:`prunelib.runs.data_identity`), ``recipe`` and any other defining ``parts`` (``parent``,
    ``sparsity_target``, ``method``, ...), with :data:`CODE_VERSION`."""
    recipe = dataclasses.asdict(recipe) if dataclasses.is_dataclass(recipe) else dict(recipe)
    return {"data": data, "recipe": recipe, **parts, "code": CODE_VERSION}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that changes the trained weights (it is stored with the checkpoints and compared on resume).

    The defaults are the paper's recipe, the `paper` profile of profiles.yaml (checked by tests/test_parameters.py);
    the other recipes come from their profile through :meth:`from_params`.
    """

    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "ranger"
    label_smoothing: float = 0.0
    image_size: int = 224
    seed: int = 0
    bf16: bool = True
    #: fraction of the steps at the full learning rate before the cosine decay starts (0: cosine from step 0;
    #: fast.ai's "flat_cos" recipe for Ranger uses 0.72)
    flat_fraction: float = 0.0
    #: seed of the data order and augmentation (None: ``seed``); the initialisation always comes from ``seed``
    data_seed: int | None = None
    #: the optimiser's epsilon (None: the optimiser's default, Ranger's 1e-5; the authors' code passes 1e-6)
    eps: float | None = None
    #: ``"cosine"`` (decay to 0 over the run, after ``flat_fraction`` of it at the full rate) or ``"constant"``
    #: (the full rate throughout: what the authors' code retrains its pruning rounds at)
    schedule: str = "cosine"
    #: the cosine is stepped once per ``"step"`` (batch) or once per ``"epoch"`` (the authors' code)
    schedule_unit: str = "step"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value, kinds = getattr(self, f.name), _FIELD_TYPES[f.type]
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise ValueError(f"TrainConfig.{f.name} must be {f.type}, got {value!r}")
        for name in ("epochs", "batch_size", "image_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"TrainConfig.lr must be a finite number > 0, got {self.lr}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"TrainConfig.weight_decay must be a finite number >= 0, got {self.weight_decay}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"TrainConfig.label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 <= self.flat_fraction < 1.0:
            raise ValueError(f"TrainConfig.flat_fraction must be in [0, 1), got {self.flat_fraction}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"TrainConfig.schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if self.schedule_unit not in SCHEDULE_UNITS:
            raise ValueError(f"TrainConfig.schedule_unit must be one of {', '.join(SCHEDULE_UNITS)}, "
                             f"got {self.schedule_unit!r}")
        if self.eps is not None and not (self.eps > 0 and math.isfinite(self.eps)):
            raise ValueError(f"TrainConfig.eps must be a finite number > 0, got {self.eps}")
        if self.image_size < MIN_IMAGE_SIZE:
            raise ValueError(f"TrainConfig.image_size must be >= {MIN_IMAGE_SIZE} (ResNet-18 downsamples 32x), "
                             f"got {self.image_size}")

    @classmethod
    def from_params(cls, settings: Settings, **overrides: Any) -> "TrainConfig":
        """The recipe of a profile's settings (:class:`prunelib.profiles.Settings`): every setting named like a field
        that the profile gives (the others keep this class's defaults)."""
        given = {f.name: getattr(settings, f.name) for f in dataclasses.fields(cls) if hasattr(settings, f.name)}
        return cls(**{**{k: v for k, v in given.items() if v is not None}, **overrides})

    @property
    def order_seed(self) -> int:
        """The seed of the data order and augmentation."""
        return self.seed if self.data_seed is None else self.data_seed


def lr_schedule(optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int):
    """Cosine decay to 0 over the run, after ``cfg.flat_fraction`` of it at the full rate, or a constant rate.

    The scheduler is stepped once per batch (``schedule_unit="step"``: ``epochs * steps_per_epoch`` steps) or once
    per epoch (``"epoch"``, as the authors' code: ``CosineAnnealingLR(T_max=epochs)``).
    """
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    total = cfg.epochs * (steps_per_epoch if cfg.schedule_unit == "step" else 1)
    flat = round(cfg.flat_fraction * total)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total - flat, 1))
    if flat == 0:
        return cosine
    hold = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=flat)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [hold, cosine], milestones=[flat])


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on the CPU or CUDA when ``enabled``, else a no-op context."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, *, image_size: int, batch_size: int = 256,
            bf16: bool = True, device: torch.device | None = None) -> torch.Tensor:
    """Logits (N, classes) of ``images`` (uint8, (N, 3, H, W)) under the evaluation transform, in eval mode."""
    device = device or device_of(model)
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = data.eval_batch(images[start:start + batch_size], image_size).to(device)
        x = x.contiguous(memory_format=torch.channels_last)
        with autocast(device, bf16):
            out.append(model(x).float())
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: nn.Module, split: "data.Split", *, image_size: int, bf16: bool = True) -> dict:
    """Top-1 accuracy (in [0, 1]) overall and per class on ``split``, plus the number of images."""
    labels = split.labels
    pred = predict(model, split.images, image_size=image_size, bf16=bf16).argmax(1).cpu()
    correct = pred == labels
    per_class = [correct[labels == c].float().mean().item() if (labels == c).any() else float("nan")
                 for c in range(len(data.CLASSES))]
    return {"top1": correct.float().mean().item(), "per_class": per_class, "n": len(labels)}


def train(model: nn.Module, train_split: "data.Split", val_split: "data.Split", cfg: TrainConfig,
          run_dir: str | Path, *, device: str = "auto", progress: bool = True, save_init: bool = False,
          identity: dict | None = None, expect: list[dict] | None = None) -> dict:
    """Train ``model`` (resuming from ``run_dir/last.pt`` when present) and return the best epoch's summary.

    The run's identity (the data's digests, ``cfg`` and the caller's ``identity`` fields, e.g. the checkpoint
    it starts from) is claimed in ``run_dir/run.json`` first (:func:`prunelib.runs.claim`): a folder holding a
    run of other inputs is refused with the differing fields named, never resumed.

    Writes into ``run_dir``: ``run.json``, ``init.pt`` if ``save_init`` (the weights before training, for lottery-ticket
    rewinding), ``last.pt`` (full state, every epoch), ``best.pt`` (model state of the best validation epoch) and
    ``history.json``. On return ``model`` holds the best epoch's weights.

    ``expect``: the recorded history (``[{"epoch", "val_top1", ...}]``) of the network this training must make
    again. Each epoch's validation top-1, those found in ``last.pt`` on resume (before training further) and each one
    trained (once saved), is compared with the recorded one of that epoch (epochs beyond the recorded ones are not);
    a difference of half a validation image or more raises :class:`NotReproduced`.

    Two processes that train into one folder (two jobs of a seed share its dense run) take turns
    (:func:`prunelib.runs.locked`): the second waits, then finds the run done and reuses it.

    Returns:
        ``{"best_epoch", "val_top1", "val_per_class", "history", "seconds"}``.
    """
    with runs.locked(run_dir):
        return _train(model, train_split, val_split, cfg, Path(run_dir), device=device, progress=progress,
                      save_init=save_init, identity=identity, expect=expect)


def check_reproduced(history: list[dict], expect: list[dict] | None, n_val: int, run_dir: Path) -> None:
    """Raise :class:`NotReproduced` at the first epoch of ``history`` whose ``val_top1`` differs from ``expect``'s
    for the same epoch by half an image of the ``n_val`` validation images or more (None: nothing expected)."""
    recorded = {h["epoch"]: h["val_top1"] for h in expect or []}
    for h in history:
        if h["epoch"] in recorded and abs(h["val_top1"] - recorded[h["epoch"]]) >= 0.5 / n_val:
            raise NotReproduced(
                f"{paths.portable(run_dir)}: epoch {h['epoch'] + 1} reaches val top-1 {h['val_top1']:.4f} here, but "
                f"the network the results measured reached {recorded[h['epoch']]:.4f} at that epoch: this machine "
                "does not train the network the results measured (another CPU kind or device), so nothing of it is "
                "measured or written to git")


def _train(model: nn.Module, train_split: "data.Split", val_split: "data.Split", cfg: TrainConfig, run_dir: Path, *,
           device: str, progress: bool, save_init: bool, identity: dict | None, expect: list[dict] | None) -> dict:
    dev = resolve_device(device)
    model.to(dev).to(memory_format=torch.channels_last)
    optimizer = make_optimizer(cfg.optimizer, model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                               eps=cfg.eps)
    steps_per_epoch = len(train_split) // cfg.batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"the training split has {len(train_split)} images, fewer than one batch of {cfg.batch_size}")
    scheduler = lr_schedule(optimizer, cfg, steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    history: list[dict] = []
    start_epoch = 0

    runs.claim(run_dir, run_identity(data=runs.data_identity(train_split, val_split), recipe=cfg,
                                 **(identity or {})))
    last_path = run_dir / "last.pt"
    if last_path.exists():
        state = checkpoint.load(last_path, map_location=dev)
        checkpoint.load_model_state(model, state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"].cpu())
        history, start_epoch = state["history"], state["epoch"] + 1
        check_reproduced(history, expect, len(val_split), run_dir)
        if progress:
            print(f"resuming {paths.portable(run_dir)} at epoch {start_epoch + 1}/{cfg.epochs}"
                  if start_epoch < cfg.epochs else
                  f"{paths.portable(run_dir)}: all {cfg.epochs} epochs were trained earlier with this recipe and "
                  f"data (prunelib.runs checks both); reused", flush=True)
    elif save_init:
        checkpoint.save({"model": model.state_dict()}, run_dir / "init.pt")

    t0 = time.perf_counter()
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        batches = data.batches(train_split, cfg.batch_size, train=True, size=cfg.image_size,
                               seed=cfg.order_seed, epoch=epoch)
        bar = progress_bar(batches, total=steps_per_epoch, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                           disable=not progress, mininterval=5.0)
        loss_sum, seen, t_epoch = 0.0, 0, time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]  # the rate of the epoch's first step
        for step, (x, y) in enumerate(bar):
            x, y = x.to(dev).contiguous(memory_format=torch.channels_last), y.to(dev)
            with autocast(dev, cfg.bf16):
                loss = loss_fn(model(x).float(), y)
            if not math.isfinite(loss.item()):
                raise TrainingDiverged(
                    f"the training loss is {loss.item()} at epoch {epoch + 1}, step {step + 1} (rate "
                    f"{optimizer.param_groups[0]['lr']:g}) in {paths.portable(run_dir)}: the run stops before "
                    "this epoch is saved; lower the learning rate (--lr, or the profile's lr / finetune_lr)")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if cfg.schedule_unit == "step":
                scheduler.step()
            loss_sum, seen = loss_sum + loss.item() * len(y), seen + len(y)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}")
        if cfg.schedule_unit == "epoch":
            scheduler.step()
        val = evaluate(model, val_split, image_size=cfg.image_size, bf16=cfg.bf16)
        history.append({"epoch": epoch, "lr": lr, "train_loss": loss_sum / max(seen, 1), "val_top1": val["top1"],
                        "val_per_class": val["per_class"], "seconds": time.perf_counter() - t_epoch})
        if progress:
            print(f"epoch {epoch + 1}/{cfg.epochs}: loss {loss_sum / max(seen, 1):.4f}, "
                  f"val top-1 {val['top1']:.4f} ({history[-1]['seconds']:.0f} s)", flush=True)
        if val["top1"] >= max(h["val_top1"] for h in history):
            checkpoint.save({"model": model.state_dict(), "epoch": epoch, "val_top1": val["top1"]},
                            run_dir / "best.pt")
        checkpoint.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                         "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state(), "epoch": epoch,
                         "history": history, "config": dataclasses.asdict(cfg)}, last_path)
        checkpoint.save_json(history, run_dir / "history.json")
        check_reproduced(history[-1:], expect, len(val_split), run_dir)

    best = max(history, key=lambda h: h["val_top1"])
    checkpoint.load_model_state(model, checkpoint.load(run_dir / "best.pt", map_location=dev)["model"])
    return {"best_epoch": best["epoch"], "val_top1": best["val_top1"], "val_per_class": best["val_per_class"],
            "history": history, "seconds": time.perf_counter() - t0}

