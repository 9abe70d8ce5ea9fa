"""Command line: ``python -m prunelib {train,prune,reproduce} --help``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import paths
from .pruning import LEVELS
from .training import TrainConfig


def _levels(text: str) -> list[float]:
    from .pipeline import parse_levels
    try:
        return parse_levels(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="ImageNette folder (default: $PRUNELIB_DATA, else ./data)")
    p.add_argument("--profile", default="custom", help="name of the run; checkpoints go to checkpoints/<profile>/")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default: auto)")
    p.add_argument("--image-size", type=int, default=224, help="training/evaluation image size (paper: 224)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--optimizer", default="ranger", choices=["ranger", "adamw", "sgd"])
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help="train in fp32 (default: bf16 autocast)")
    p.add_argument("--subset-per-class", type=int, default=None, help="use N training images per class (fast runs)")
    p.add_argument("--val-per-class", type=int, default=None, help="use N validation images per class (fast runs)")


def _config(args: argparse.Namespace, epochs: int, lr: float) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=args.batch_size, lr=lr, weight_decay=args.weight_decay,
                       optimizer=args.optimizer, label_smoothing=args.label_smoothing,
                       image_size=args.image_size, seed=args.seed, bf16=args.bf16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prunelib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_train = sub.add_parser("train", help="train the dense ResNet-18 from scratch (resumes when interrupted)")
    _add_common(p_train)
    p_train.add_argument("--epochs", type=int, default=30)
    p_train.add_argument("--lr", type=float, default=1e-3)
    p_train.add_argument("--out", type=Path, help="run folder (default: checkpoints/<profile>/dense)")

    p_prune = sub.add_parser("prune", help="prune the dense model level by level with fine-tuning (resumes)")
    _add_common(p_prune)
    p_prune.add_argument("--dense", type=Path, help="folder of the dense run (default: checkpoints/<profile>/dense)")
    p_prune.add_argument("--levels", type=_levels, default=list(LEVELS),
                         help="cumulative sparsities in percent (default: 10,20,30,50,70,80,90,95,98)")
    p_prune.add_argument("--method", default="global", choices=["global", "lottery"])
    p_prune.add_argument("--finetune-epochs", type=int, default=2, help="k epochs of fine-tuning after each step")
    p_prune.add_argument("--finetune-lr", type=float, default=3e-4)
    p_prune.add_argument("--out", type=Path, help="folder of the levels (default: checkpoints/<profile>/<method>)")

    p_rep = sub.add_parser("reproduce", help="run every notebook of the book with papermill for a profile")
    p_rep.add_argument("--profile", default="smoke", help="smoke | cpu | paper (see prunelib/profiles.yaml)")
    p_rep.add_argument("--data", help="ImageNette folder (default: $PRUNELIB_DATA, else ./data)")
    p_rep.add_argument("--device", default="auto", help="auto | cpu | cuda (default: auto)")
    p_rep.add_argument("--force", action="store_true", help="re-run every stage even if its outputs are current")
    p_rep.add_argument("--only", help="comma-separated stage names to run (default: all)")

    args = parser.parse_args(argv)
    if args.command == "reproduce":
        from .reproduce import reproduce
        return reproduce(args.profile, data=args.data, device=args.device, force=args.force,
                         only=args.only.split(",") if args.only else None)

    from . import pipeline
    splits = pipeline.load_splits(args.data, args.subset_per_class, seed=args.seed, val_per_class=args.val_per_class)
    run = paths.checkpoint_dir(args.profile)
    if args.command == "train":
        report = pipeline.train_dense(splits, _config(args, args.epochs, args.lr), args.out or run / "dense",
                                      device=args.device)
        print(f"dense: best val top-1 {report['val_top1']:.4f} at epoch {report['best_epoch'] + 1}")
    else:
        reports = pipeline.prune_dense(splits, args.dense or run / "dense", args.levels,
                                       _config(args, args.finetune_epochs, args.finetune_lr),
                                       args.out or run / args.method, method=args.method, device=args.device)
        for r in reports:
            print(f"{r['sparsity_target']:.0%}: sparsity {r['sparsity']['global']:.4f}, "
                  f"val top-1 {r['val_top1_before_finetune']:.4f} -> {r['val_top1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
