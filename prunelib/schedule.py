"""The iterative pruning schedule: prune to the next level, fine-tune with the masks in force, save, repeat.

Each level lives in its own folder ``<out>/level_XX/`` (``XX`` = percent of weights removed, exact:
``level_10``, ``level_10.4``): ``run.json`` (its identity: data, recipe, target, method and the sha256 of the
checkpoint it was pruned from, see :mod:`prunelib.runs`), ``final.pt`` (state dict with the masks folded in) and
``report.json`` (sparsity per layer, accuracy before and after fine-tuning). A level whose ``final.pt`` exists
is reused only when its identity matches, and an interrupted fine-tuning resumes from its ``last.pt``, so the
schedule can be killed and restarted at any point and never reuses a level made from other inputs.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable

from torch import nn

from . import checkpoint, data, paths, runs
from .progress import progress_bar
from .models import resnet18
from .pruning import (authors_masks, enforce_masks, make_permanent, mask_sparsity, prune_global, prune_layerwise,
                      rewind, rewind_authors, sparsity_report)
from .training import TrainConfig, evaluate, run_identity, train

METHODS = ("global", "lottery")
#: a lottery round ``r`` (1, 2, ...) retrains with data-order seed ``seed + LOTTERY_ORDER_STRIDE * r``: every
#: retraining sees another data order, as the authors' runs do, and none repeats the dense run's order
LOTTERY_ORDER_STRIDE = 1000


def level_tag(sparsity: float) -> str:
    """The folder and file name of a level: ``0.1 -> "10"``, ``0.05 -> "05"``, ``0 -> "00"``, ``0.104 -> "10.4"``,
    ``0.5904 -> "59.04"`` (exact to 0.01 %, so two levels never share a folder)."""
    percent = round(sparsity * 100, 2)
    return f"{round(percent):02d}" if percent == round(percent) else f"{percent:05.2f}".rstrip("0")


def level_folder(sparsity: float) -> str:
    """The folder of a pruned level under its regime's folder (:func:`prune_schedule`): ``level_<tag>``."""
    return f"level_{level_tag(sparsity)}"


def round_folder(r: int) -> str:
    """The folder of round ``r`` of the authors' loop under its regime's folder (:func:`authors_schedule`)."""
    return f"round_{r}"


def prune_schedule(model: nn.Module, levels: list[float], finetune: TrainConfig, train_split: "data.Split",
                   val_split: "data.Split", out_dir: str | Path, *, parent: str | Path, method: str = "global",
                   initial_state: dict | None = None, initial_digest: str | None = None, device: str = "auto",
                   progress: bool = True, on_level: Callable[[dict], None] | None = None) -> list[dict]:
    """Prune ``model`` (trained, dense) through ``levels`` (increasing, in [0, 1)) and return one report per level.

    Args:
        model: the dense model; it is modified in place and ends at the last level.
        levels: cumulative target sparsities, e.g. :data:`prunelib.pruning.LEVELS`.
        finetune: the recipe applied after each pruning step (its ``epochs`` is k). For ``"lottery"`` round ``r``
            uses it with the data-order seed ``finetune.order_seed + LOTTERY_ORDER_STRIDE * r``.
        parent: the checkpoint file ``model`` was loaded from (the dense ``best.pt``); its sha256 is part of
            the first level's identity, and each level's ``final.pt`` is the next one's parent.
        method: ``"global"`` (the paper's text) or ``"lottery"`` (the authors' code: per-layer pruning, rewind to
            ``initial_state``, retrain).
        initial_state: the dense model's weights before training (``init.pt``), needed for ``"lottery"``;
            ``initial_digest`` is that file's sha256 (part of each lottery level's identity).
        on_level: called with each level's report as soon as the level is saved (or found done), before the next
            level trains: the sweep measures it then, so that a kill loses no finished level's measurement.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "lottery" and initial_state is None:
        raise ValueError("method='lottery' needs initial_state (the dense run's init.pt) to rewind to")
    if list(levels) != sorted(levels) or len(set(levels)) != len(levels):
        raise ValueError(f"levels must be strictly increasing, got {levels}")
    tags = [level_tag(s) for s in levels]
    if len(set(tags)) != len(tags):
        raise ValueError(f"levels {levels} are closer than 0.01 %: they would share a folder")
    out_dir = Path(out_dir)
    data_ident = runs.data_identity(train_split, val_split)
    parent_digest = runs.file_digest(parent)
    reports = []
    rounds = progress_bar(list(zip(levels, tags)), desc=f"pruning ({method})", disable=not progress)
    for round_index, (sparsity, _) in enumerate(rounds, start=1):
        level_dir = out_dir / level_folder(sparsity)
        recipe = finetune if method == "global" else dataclasses.replace(
            finetune, data_seed=finetune.order_seed + LOTTERY_ORDER_STRIDE * round_index)
        ident = {"stage": "prune", "method": method, "sparsity_target": sparsity, "parent": parent_digest,
                 "initial": initial_digest if method == "lottery" else None}
        runs.claim(level_dir, run_identity(data=data_ident, recipe=recipe, **ident))
        final = level_dir / "final.pt"
        if final.exists():
            if progress:
                print(f"{paths.portable(level_dir)}: pruned and fine-tuned earlier from the same parent with this "
                      f"recipe and data; reused", flush=True)
            checkpoint.load_model_state(make_permanent(model), checkpoint.load(final)["model"])
            reports.append(json.loads((level_dir / "report.json").read_text()))
            parent_digest = runs.file_digest(final)
            _announce(on_level, reports[-1])
            continue
        if method == "global":
            prune_global(model, sparsity)
        else:
            rewind(prune_layerwise(model, sparsity), initial_state)
        report = _train_level(model, sparsity, method, recipe, train_split, val_split, level_dir, ident,
                              device=device, progress=progress)
        parent_digest = runs.file_digest(final)
        reports.append(report)
        _announce(on_level, report)
    return reports


def lottery_start(initial_state: dict, masks: dict) -> nn.Module:
    """The network a lottery round trains: every parameter and BatchNorm statistic at its initial value, ``masks``
    (``{"<layer>.weight": bool tensor}``, :func:`~prunelib.pruning.layerwise_masks`) in force. The same network as
    :func:`prune_schedule` makes by pruning the previous round's and rewinding it."""
    model = resnet18()
    model.load_state_dict(initial_state)
    return enforce_masks(model, masks)


def lottery_round(r: int, sparsity: float, masks: dict, initial_state: dict, finetune: TrainConfig,
                  train_split: "data.Split", val_split: "data.Split", out_dir: str | Path, *, parent: str,
                  initial_digest: str, device: str = "auto", progress: bool = True,
                  expect: list[dict] | None = None) -> dict:
    """Round ``r`` of the lottery regime on its own, from where it starts (a unit of :mod:`prunelib.sweep.units`):
    ``masks`` (pruned from the previous round's network, whose checkpoint digest is ``parent``) on the initial
    weights (``init.pt``'s digest ``initial_digest``), trained into ``<out>/level_XX/`` under the identity
    :func:`prune_schedule` gives that round, so that the run is the one the unbroken chain makes. Returns its report.
    ``expect``: the recorded history of the network it must make again (:func:`prunelib.training.train`)."""
    level_dir = Path(out_dir) / level_folder(sparsity)
    recipe = dataclasses.replace(finetune, data_seed=finetune.order_seed + LOTTERY_ORDER_STRIDE * r)
    ident = {"stage": "prune", "method": "lottery", "sparsity_target": sparsity, "parent": parent,
             "initial": initial_digest}
    runs.claim(level_dir, run_identity(data=runs.data_identity(train_split, val_split), recipe=recipe, **ident))
    if (level_dir / "final.pt").exists():
        return json.loads((level_dir / "report.json").read_text())
    return _train_level(lottery_start(initial_state, masks), sparsity, "lottery", recipe, train_split, val_split,
                        level_dir, ident, device=device, progress=progress, expect=expect)


def _train_level(model: nn.Module, sparsity: float, method: str, recipe: TrainConfig, train_split: "data.Split",
                 val_split: "data.Split", level_dir: Path, ident: dict, *, device: str, progress: bool,
                 expect: list[dict] | None = None) -> dict:
    """Fine-tune (global) or retrain (lottery) a pruned ``model`` into ``level_dir``; save its ``final.pt`` and
    ``report.json``; return the report. ``model`` ends with the best epoch's weights, masks folded in."""
    before = evaluate(model, val_split, image_size=recipe.image_size, bf16=recipe.bf16)
    result = train(model, train_split, val_split, recipe, level_dir, device=device, progress=progress,
                   identity=ident, expect=expect)
    make_permanent(model)
    report = {"sparsity_target": sparsity, "method": method, "val_top1_before_finetune": before["top1"],
              "val_top1": result["val_top1"], "val_per_class": result["val_per_class"],
              "best_epoch": result["best_epoch"], "finetune_seconds": result["seconds"],
              "history": result["history"], "sparsity": sparsity_report(model)}
    checkpoint.save_json(report, level_dir / "report.json")
    checkpoint.save({"model": model.state_dict(), "sparsity_target": sparsity}, level_dir / "final.pt")
    return report


def authors_schedule(dense_dir: str | Path, rounds: int, rate: float, recipe: TrainConfig, train_split: "data.Split",
                     val_split: "data.Split", out_dir: str | Path, *, enforce_mask: bool, device: str = "auto",
                     progress: bool = True, on_level: Callable[[dict], None] | None = None) -> list[dict]:
    """The authors' round loop (their ``code/lottery_ticket.ipynb``), one round per folder ``<out>/round_<r>/``.

    Round ``r`` takes the network as the previous round's training left it (its last epoch, ``last.pt``; round 1:
    the dense run's), masks it with :func:`~prunelib.pruning.authors_masks` (accumulating), rewinds it with
    :func:`~prunelib.pruning.rewind_authors` (BatchNorm statistics kept), and retrains it with ``recipe`` and the
    data order ``recipe.order_seed + LOTTERY_ORDER_STRIDE * r``; the best validation epoch is saved as ``final.pt``.
    With ``enforce_mask=False`` (their code) nothing holds the masked weights at zero, so they grow back; with
    ``True`` they stay zero (a lottery ticket as Frankle & Carbin define it). A ``rate`` of 0 masks nothing: the
    rewind and the retraining alone.

    Each round's ``report.json`` records the sparsity its mask enforces (``mask_sparsity``), the measured sparsity of
    the saved network (``sparsity``) and the learning rate of every epoch (``history[i]["lr"]``). ``on_level`` is
    called with each round's report as soon as the round is saved, as in :func:`prune_schedule`.
    """
    dense_dir, out_dir = Path(dense_dir), Path(out_dir)
    initial_file, parent = dense_dir / "init.pt", dense_dir / "last.pt"
    initial = checkpoint.load(initial_file)["model"]
    data_ident = runs.data_identity(train_split, val_split)
    masks: dict | None = None
    reports = []
    for r in progress_bar(range(1, rounds + 1), desc="authors' rounds", disable=not progress):
        level_dir = out_dir / round_folder(r)
        round_recipe = dataclasses.replace(recipe, data_seed=recipe.order_seed + LOTTERY_ORDER_STRIDE * r)
        ident = {"stage": "authors_round", "round": r, "rate": rate, "enforce_mask": enforce_mask,
                 "parent": checkpoint.state_digest(parent), "initial": runs.file_digest(initial_file)}
        runs.claim(level_dir, run_identity(data=data_ident, recipe=round_recipe, **ident))
        model = make_permanent(checkpoint.load_model_state(resnet18(), checkpoint.load(parent)["model"]))
        masks = authors_masks(model, rate, masks)
        final = level_dir / "final.pt"
        if final.exists():
            if progress:
                print(f"{paths.portable(level_dir)}: trained earlier from the same parent with this recipe and "
                      "data; reused", flush=True)
            reports.append(json.loads((level_dir / "report.json").read_text()))
            parent = level_dir / "last.pt"
            _announce(on_level, reports[-1])
            continue
        report = _train_round(model, masks, initial, r, rate, enforce_mask, round_recipe, train_split, val_split,
                              level_dir, ident, device=device, progress=progress)
        reports.append(report)
        parent = level_dir / "last.pt"
        _announce(on_level, report)
    return reports


def _announce(on_level: Callable[[dict], None] | None, report: dict) -> None:
    if on_level is not None:
        on_level(report)


def authors_round(r: int, rate: float, masks: dict, buffers: dict, initial_state: dict, recipe: TrainConfig,
                  train_split: "data.Split", val_split: "data.Split", out_dir: str | Path, *, enforce_mask: bool,
                  parent: str, initial_digest: str, device: str = "auto", progress: bool = True,
                  expect: list[dict] | None = None) -> dict:
    """Round ``r`` of the authors' loop on its own, from where it starts (a unit of :mod:`prunelib.sweep.units`):
    the accumulated ``masks`` and the BatchNorm statistics ``buffers`` of the previous round's ``last.pt`` (whose
    :func:`~prunelib.checkpoint.state_digest` is ``parent``), the initial weights (``init.pt``'s digest
    ``initial_digest``), trained into ``<out>/round_<r>/`` under the identity :func:`authors_schedule` gives it.
    ``expect``: the recorded history of the network it must make again (:func:`prunelib.training.train`)."""
    level_dir = Path(out_dir) / round_folder(r)
    round_recipe = dataclasses.replace(recipe, data_seed=recipe.order_seed + LOTTERY_ORDER_STRIDE * r)
    ident = {"stage": "authors_round", "round": r, "rate": rate, "enforce_mask": enforce_mask, "parent": parent,
             "initial": initial_digest}
    runs.claim(level_dir, run_identity(data=runs.data_identity(train_split, val_split), recipe=round_recipe,
                                        **ident))
    if (level_dir / "final.pt").exists():
        return json.loads((level_dir / "report.json").read_text())
    model = resnet18()
    model.load_state_dict({**initial_state, **buffers})
    return _train_round(model, masks, initial_state, r, rate, enforce_mask, round_recipe, train_split, val_split,
                        level_dir, ident, device=device, progress=progress, expect=expect)


def _train_round(model: nn.Module, masks: dict, initial: dict, r: int, rate: float, enforce_mask: bool,
                 recipe: TrainConfig, train_split: "data.Split", val_split: "data.Split", level_dir: Path,
                 ident: dict, *, device: str, progress: bool, expect: list[dict] | None = None) -> dict:
    """Rewind ``model`` the authors' way (BatchNorm statistics kept), retrain it into ``level_dir``, save its
    ``final.pt`` and ``report.json``; return the report."""
    rewind_authors(model, masks, initial)
    if enforce_mask:
        enforce_masks(model, masks)
    before = evaluate(model, val_split, image_size=recipe.image_size, bf16=recipe.bf16)
    result = train(model, train_split, val_split, recipe, level_dir, device=device, progress=progress,
                   identity=ident, expect=expect)
    make_permanent(model)
    report = {"round": r, "sparsity_target": 1 - (1 - rate) ** r, "method": "authors",
              "enforce_mask": enforce_mask, "mask_sparsity": mask_sparsity(masks, model),
              "val_top1_before_finetune": before["top1"], "val_top1": result["val_top1"],
              "val_per_class": result["val_per_class"], "best_epoch": result["best_epoch"],
              "finetune_seconds": result["seconds"], "history": result["history"],
              "sparsity": sparsity_report(model)}
    checkpoint.save_json(report, level_dir / "report.json")
    checkpoint.save({"model": model.state_dict(), "round": r}, level_dir / "final.pt")
    return report
