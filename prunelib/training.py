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
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from . import checkpoint, data
from .models import resolve_device
from .optim import make_optimizer


@dataclass(frozen=True)
class TrainConfig:
    """Everything that changes the trained weights (it is stored with the checkpoints and compared on resume)."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "ranger"
    label_smoothing: float = 0.0
    image_size: int = 224
    seed: int = 0
    bf16: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "image_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"TrainConfig.lr must be > 0, got {self.lr}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"TrainConfig.label_smoothing must be in [0, 1), got {self.label_smoothing}")


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on the CPU or CUDA when ``enabled``, else a no-op context."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, *, image_size: int, batch_size: int = 256,
            bf16: bool = True, device: torch.device | None = None) -> torch.Tensor:
    """Logits (N, classes) of ``images`` (uint8, (N, 3, H, W)) under the evaluation transform, in eval mode."""
    device = device or next(model.parameters()).device
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


def _config_mismatch(saved: dict, cfg: TrainConfig) -> list[str]:
    now = dataclasses.asdict(cfg)
    return [f"{k}: checkpoint has {saved.get(k)!r}, now {now[k]!r}" for k in now if saved.get(k) != now[k]]


def train(model: nn.Module, train_split: "data.Split", val_split: "data.Split", cfg: TrainConfig,
          run_dir: str | Path, *, device: str = "auto", progress: bool = True, save_init: bool = False) -> dict:
    """Train ``model`` (resuming from ``run_dir/last.pt`` when present) and return the best epoch's summary.

    Writes into ``run_dir``: ``init.pt`` if ``save_init`` (the weights before training, for lottery-ticket
    rewinding), ``last.pt`` (full state, every epoch), ``best.pt`` (model state of the best validation epoch) and
    ``history.json``. On return ``model`` holds the best epoch's weights.

    Returns:
        ``{"best_epoch", "val_top1", "val_per_class", "history", "seconds"}``.
    """
    run_dir = Path(run_dir)
    dev = resolve_device(device)
    model.to(dev).to(memory_format=torch.channels_last)
    optimizer = make_optimizer(cfg.optimizer, model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(train_split) // cfg.batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"the training split has {len(train_split)} images, fewer than one batch of {cfg.batch_size}")
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    history: list[dict] = []
    start_epoch = 0

    last_path = run_dir / "last.pt"
    if last_path.exists():
        state = checkpoint.load(last_path, map_location=dev)
        problems = _config_mismatch(state["config"], cfg)
        if problems:
            raise ValueError(f"{last_path} was written with another configuration ({'; '.join(problems)}); "
                             "use another run directory, or delete it to start over")
        checkpoint.load_model_state(model, state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"].cpu())
        history, start_epoch = state["history"], state["epoch"] + 1
        if progress and start_epoch < cfg.epochs:
            print(f"resuming {run_dir} at epoch {start_epoch + 1}/{cfg.epochs}", flush=True)
    elif save_init:
        checkpoint.save({"model": model.state_dict()}, run_dir / "init.pt")

    t0 = time.perf_counter()
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        batches = data.batches(train_split, cfg.batch_size, train=True, size=cfg.image_size,
                               seed=cfg.seed, epoch=epoch)
        bar = tqdm(batches, total=steps_per_epoch, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress,
                   mininterval=5.0)
        loss_sum, seen, t_epoch = 0.0, 0, time.perf_counter()
        for x, y in bar:
            x, y = x.to(dev).contiguous(memory_format=torch.channels_last), y.to(dev)
            with autocast(dev, cfg.bf16):
                loss = loss_fn(model(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum, seen = loss_sum + loss.item() * len(y), seen + len(y)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}")
        val = evaluate(model, val_split, image_size=cfg.image_size, bf16=cfg.bf16)
        history.append({"epoch": epoch, "train_loss": loss_sum / max(seen, 1), "val_top1": val["top1"],
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

    best = max(history, key=lambda h: h["val_top1"])
    checkpoint.load_model_state(model, checkpoint.load(run_dir / "best.pt", map_location=dev)["model"])
    return {"best_epoch": best["epoch"], "val_top1": best["val_top1"], "val_per_class": best["val_per_class"],
            "history": history, "seconds": time.perf_counter() - t0}

