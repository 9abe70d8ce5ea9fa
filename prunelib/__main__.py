"""Command line: ``python -m prunelib {train,prune,reproduce,sweep} --help``.

--profile NAME means one thing everywhere: a parameter set of prunelib/profiles.yaml (smoke, cpu, noise,
paper). ``train`` and ``prune`` take their recipe from it (any option given on the command line overrides that
setting) and write to checkpoints/<profile>/ unless --out says otherwise.

Run folders are keyed by what defines them (run.json: the data's digests, the recipe, the checkpoint a level
was pruned from; see prunelib/runs.py). A folder that holds a run of other inputs is refused with the
differing fields named: remove it, or pass another --out.

User errors (bad options, a setting the job could not run, missing or inconsistent data, a run folder of other
inputs, an unwritable folder) are one line on stderr and exit status 2, checked before any data is loaded
(prunelib/settings.py: one check shared by every command); --debug shows the traceback. A training that does not
make again the network the results measured (prunelib/training.py, NotReproduced: another CPU kind or device) is one
line and exit status 4, so that a runner goes on with another unit (tools/study.sh). Folders named by
environment variables (PRUNELIB_RESULTS, ...) are read from the current folder and passed on absolute.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from pathlib import Path
from typing import Callable

from . import paths
from .profiles import Settings, load_settings

#: the recipe options of ``train`` / ``prune`` (name in profiles.yaml and TrainConfig, type, what it must be)
_RECIPE_OPTIONS = ("image_size", "batch_size", "weight_decay", "optimizer", "label_smoothing", "flat_fraction",
                   "subset_per_class", "val_per_class", "bf16")


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, exit status 2."""


#: the exit status of a training that does not reproduce the network the results measured
NOT_REPRODUCED = 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _checked(kind: Callable, test: Callable, expected: str) -> Callable[[str], object]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


POSITIVE_INT = _checked(int, lambda v: v >= 1, "an integer >= 1")
COUNT = _checked(int, lambda v: v >= 0, "an integer >= 0 (0 = all)")
IMAGE_SIZE = _checked(int, lambda v: v >= 32, "an image size in pixels >= 32 (ResNet-18 downsamples 32x)")
POSITIVE = _checked(float, lambda v: v > 0 and math.isfinite(v), "a finite number > 0")
HOURS = _checked(float, lambda v: v >= 0 and math.isfinite(v), "a number of hours >= 0")
FRACTION = _checked(float, lambda v: 0 <= v < 1, "a number in [0, 1)")
SEED = _checked(int, lambda v: v >= 0, "an integer seed >= 0")


def device(text: str) -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``, and CUDA only where torch sees a GPU."""
    import torch
    kind, _, index = text.partition(":")
    if text == "auto" or text == "cpu" or (kind == "cuda" and (not index or index.isdigit())):
        if kind == "cuda" and not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(f"{text!r} was asked for, but torch sees no CUDA device here")
        if index and int(index) >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(f"{text!r}: there are {torch.cuda.device_count()} CUDA devices")
        return text
    raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N, got {text!r}")


def levels(text: str) -> list[float]:
    from .pipeline import parse_levels
    try:
        return parse_levels(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _profile_names() -> list[str]:
    from .profiles import ProfileError, read_profiles
    try:
        return list(read_profiles())
    except ProfileError as err:  # a broken profiles file: one line, before any work
        raise argparse.ArgumentTypeError(str(err)) from None


def profile(text: str) -> str:
    names = _profile_names()
    if text not in names:
        raise argparse.ArgumentTypeError(f"unknown profile {text!r}; expected one of {', '.join(names)}")
    return text


def _add_allow_emulated(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-emulated-bf16", action="store_true",
                   help="train under bf16 autocast even on a CPU without bf16 instructions (~12x slower; "
                        "prunelib/hardware.py)")


def _add_download(p: argparse.ArgumentParser) -> None:
    p.add_argument("--download", action="store_true",
                   help="fetch ImageNette (1.5 GB, through torchvision, its checksum checked) into the data folder "
                        "when it is not there (also PRUNELIB_DOWNLOAD=1)")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", type=profile, default="smoke",
                   help="parameter set of prunelib/profiles.yaml (default: smoke); options below override it, "
                        "and checkpoints go to checkpoints/<profile>/")
    p.add_argument("--data", help="ImageNette folder (default: $PRUNELIB_DATA, else ./data)")
    _add_download(p)
    p.add_argument("--device", type=device, default="auto", help="auto | cpu | cuda[:N] (default: auto)")
    p.add_argument("--image-size", type=IMAGE_SIZE, help="training/evaluation image size (paper: 224)")
    p.add_argument("--batch-size", type=POSITIVE_INT)
    p.add_argument("--weight-decay", type=_checked(float, lambda v: v >= 0, "a number >= 0"))
    p.add_argument("--optimizer", choices=["ranger", "adamw", "sgd"])
    p.add_argument("--label-smoothing", type=FRACTION)
    p.add_argument("--flat-fraction", type=FRACTION, help="share of steps at the full rate before the cosine decay")
    p.add_argument("--seed", type=SEED, default=None, help="initialisation and data-order seed (profile: seed)")
    p.add_argument("--no-bf16", dest="bf16", action="store_false", default=None,
                   help="train in fp32 (default: the profile's bf16 setting, bf16 autocast unless it says false)")
    _add_allow_emulated(p)
    p.add_argument("--subset-per-class", type=COUNT, help="use N training images per class (0 = all)")
    p.add_argument("--val-per-class", type=COUNT, help="use N validation images per class (0 = all)")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m prunelib", description=__doc__.split("\n\n")[1],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    policy = __doc__.split("\n\n")[2]
    p_train = sub.add_parser("train", help="train the dense ResNet-18 from scratch (resumes when interrupted)",
                             epilog=policy)
    _add_common(p_train)
    p_train.add_argument("--epochs", type=POSITIVE_INT)
    p_train.add_argument("--lr", type=POSITIVE)
    p_train.add_argument("--out", type=Path, help="run folder (default: checkpoints/<profile>/dense)")

    p_prune = sub.add_parser("prune", help="prune the dense model level by level with fine-tuning (resumes)",
                             epilog=policy)
    _add_common(p_prune)
    p_prune.add_argument("--dense", type=Path, help="folder of the dense run (default: checkpoints/<profile>/dense)")
    p_prune.add_argument("--levels", type=levels, help="cumulative sparsities in percent, increasing (profile: levels)")
    p_prune.add_argument("--method", default="global", choices=["global", "lottery"])
    p_prune.add_argument("--finetune-epochs", type=POSITIVE_INT, help="k epochs of training after each step")
    p_prune.add_argument("--finetune-lr", type=POSITIVE)
    p_prune.add_argument("--out", type=Path, help="folder of the levels (default: checkpoints/<profile>/<method>)")

    p_rep = sub.add_parser("reproduce", help="run a profile's chapters with papermill (first, through the sweep, the "
                                             "networks they draw that are not current)")
    p_rep.add_argument("--profile", type=profile, default="smoke",
                       help="parameter set of prunelib/profiles.yaml (default: smoke; the book's: noise, authors)")
    p_rep.add_argument("--data", help="ImageNette folder (default: $PRUNELIB_DATA, else ./data)")
    _add_download(p_rep)
    p_rep.add_argument("--device", type=device, default="auto", help="auto | cpu | cuda (default: auto)")
    p_rep.add_argument("--force", action="store_true", help="re-run every stage even if its outputs are current")
    p_rep.add_argument("--only", help="comma-separated stage names to run (default: all)")
    p_rep.add_argument("--debug", action="store_true", help="show the traceback of an error")
    _add_allow_emulated(p_rep)

    from .sweep import runner
    p_sweep = sub.add_parser("sweep", help="run seeds x regimes as jobs (SLURM job array or local), then aggregate",
                             description=runner.__doc__.split("\n\n", 1)[1],
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    p_sweep.add_argument("--profile", type=profile, default="smoke", help="parameter set (default: smoke)")
    p_sweep.add_argument("--seeds", default="0", help="comma-separated integer seeds (default: 0)")
    from .regimes import REGIMES
    p_sweep.add_argument("--regimes", default="global",
                         help=f"comma-separated pruning regimes: {', '.join(REGIMES)} (default: global)")
    p_sweep.add_argument("--data", help="ImageNette folder (default: $PRUNELIB_DATA, else ./data)")
    _add_download(p_sweep)
    p_sweep.add_argument("--executor", default="auto", choices=runner.EXECUTORS,
                         help="auto: SLURM where sbatch is on the PATH, else local (default: auto)")
    p_sweep.add_argument("--partition", help="SLURM partition")
    p_sweep.add_argument("--gpus-per-job", type=COUNT, default=0, help="GPUs per job (default: 0, the CPU)")
    p_sweep.add_argument("--cpus-per-job", type=POSITIVE_INT, help="CPU cores (torch threads) per job")
    p_sweep.add_argument("--parallel", type=POSITIVE_INT, metavar="K",
                         help="local executor: K jobs at a time, sharing the CPU's cores or dealt round the GPUs "
                              "(several on one GPU when K exceeds them; default: one per GPU, one on the CPU)")
    p_sweep.add_argument("--timeout-min", type=POSITIVE_INT, default=24 * 60, help="per job (default: 1440)")
    p_sweep.add_argument("--summary-only", action="store_true",
                         help="run no job: redraw the profile's summary and verdicts from what is measured so far")
    p_sweep.add_argument("--remaining", action="store_true",
                         help="run no job: list the jobs of the profile's study design (its `study` setting) that "
                              "have no complete result, with the networks each lacks and their estimated hours")
    p_sweep.add_argument("--unit", metavar="NAME",
                         help="run one unit that --remaining lists (e.g. lottery-seed0-round2) from the state in "
                              "git, writing its results and the next unit's state under results/ (nothing committed)")
    p_sweep.add_argument("--next-unit", action="store_true",
                         help="run no job: print the name of the first unit of --remaining's one-machine order that "
                              "can start here and fits in --hours-left (exit 3, printing nothing, when none does)")
    p_sweep.add_argument("--hours-left", type=HOURS, metavar="H",
                         help="with --next-unit: the hours this machine has left (default: no limit; a unit not "
                              "timed yet fits only then)")
    p_sweep.add_argument("--skip", metavar="NAME[,NAME...]",
                         help="with --next-unit: leave out these units and those that wait for them (units this "
                              "machine could not reproduce)")
    p_sweep.add_argument("--schedule", action="store_true",
                         help="with --next-unit: print every unit this machine would run in turn within "
                              "--hours-left, one line each with its hours here (nothing run)")
    p_sweep.add_argument("--archive", metavar="NAME",
                         help="run no job: judge the archived jobs of results/<profile>/NAME/ by the judging rule")
    p_sweep.add_argument("--debug", action="store_true", help="show the traceback of an error")
    _add_allow_emulated(p_sweep)
    return parser


def _recipe(args: argparse.Namespace, settings: Settings, epochs: int, lr: float):
    from .training import TrainConfig
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    chosen = {k: getattr(args, k) for k in _RECIPE_OPTIONS if k in fields and getattr(args, k, None) is not None}
    return TrainConfig.from_params(settings, **{**chosen, "epochs": epochs, "lr": lr,
                                                "seed": args.seed if args.seed is not None else settings.seed})


def _train_or_prune(args: argparse.Namespace) -> int:
    profile = load_settings(args.profile)

    def pick(name: str):
        """The command line's value of setting ``name``, else the profile's."""
        return getattr(args, name) if getattr(args, name, None) is not None else profile.need(name)

    run = paths.checkpoint_dir(args.profile)
    if args.command == "train":
        cfg, out = _recipe(args, profile, pick("epochs"), pick("lr")), args.out or run / "dense"
    else:
        cfg, out = _recipe(args, profile, pick("finetune_epochs"), pick("finetune_lr")), args.out or run / args.method
        chosen_levels = args.levels or list(profile.need("levels"))
        dense = args.dense or run / "dense"
        if not (dense / "best.pt").is_file():
            raise UserError(f"no dense network in {dense} (best.pt missing): run `python -m prunelib train "
                            f"--profile {args.profile}` first, or pass --dense")
    from . import pipeline, settings
    chosen = dataclasses.replace(profile, subset_per_class=pick("subset_per_class"),
                                 val_per_class=pick("val_per_class"))
    subset, val_subset = chosen.subset_per_class or None, chosen.val_per_class or None
    root = settings.before_work(args.profile, chosen, data=args.data, download=args.download,
                                image_size=cfg.image_size, measures=False,
                                folders=[(out, "checkpoint", "--out or PRUNELIB_CHECKPOINTS"),
                                         (paths.cache_dir(), "cache", "PRUNELIB_CACHE")])
    pipeline.check_precision(cfg, root, subset, args.device, f"`python -m prunelib {args.command}`",
                             fp32_option="--no-bf16")
    splits = pipeline.load_splits(root, subset, seed=cfg.seed, val_per_class=val_subset)
    if args.command == "train":
        report = pipeline.train_dense(splits, cfg, out, device=args.device)
        print(f"dense: best val top-1 {report['val_top1']:.4f} at epoch {report['best_epoch'] + 1} ({out})")
    else:
        reports = pipeline.prune_dense(splits, dense, chosen_levels, cfg, out, method=args.method, device=args.device)
        for r in reports:
            print(f"{r['sparsity_target']:.1%}: sparsity {r['sparsity']['global']:.4f}, "
                  f"val top-1 {r['val_top1_before_finetune']:.4f} -> {r['val_top1']:.4f}")
    return 0


def _before_work(args: argparse.Namespace, *, folders: list[tuple[Path, str, str]]) -> Path:
    """:func:`prunelib.settings.before_work` for ``sweep`` and ``reproduce``, which measure what their profile says."""
    from . import settings
    profile = load_settings(args.profile)  # image_size None: nothing is decoded at a size the profile chose
    return settings.before_work(args.profile, profile, data=args.data, download=args.download,
                                image_size=profile.image_size, measures=True, folders=folders)


def _dispatch(args: argparse.Namespace) -> int:
    if getattr(args, "allow_emulated_bf16", False):
        from .hardware import allow
        allow()  # this process and the jobs it starts
    if args.command == "sweep":
        from .sweep import runner
        if args.archive:
            from .sweep.aggregate import judge_archive
            judge_archive(args.profile, args.archive)
            return 0
        if (args.hours_left is not None or args.schedule or args.skip) and not args.next_unit:
            raise UserError("--hours-left, --skip and --schedule go with --next-unit")
        if (args.remaining or args.next_unit) and not load_settings(args.profile).study:
            raise UserError(f"profile {args.profile!r} has no `study` setting: --remaining and --next-unit read the "
                            "jobs of a study's design that are not measured; name them in the profile (e.g. study: "
                            "\"0,1,2: global\") or run the sweep")
        if args.next_unit:
            return _next_unit(args.profile, args.hours_left, args.schedule,
                              [n for n in (args.skip or "").split(",") if n])
        if args.remaining:
            from .sweep.compute import remaining_report
            from .sweep.units import plan_report
            print("\n".join(remaining_report(args.profile) + plan_report(args.profile)))
            return 0
        if args.unit:
            from .sweep.units import run_unit
            print(run_unit(args.profile, args.unit, data=args.data))
            return 0
        seeds, regime_names = runner.parse_seeds(args.seeds), runner.parse_regimes(args.regimes)
        root = _before_work(args, folders=[])  # run_sweep checks its folders once its options are checked
        return runner.run_sweep(args.profile, seeds, regime_names, data=str(root), executor=args.executor,
                                partition=args.partition, gpus_per_job=args.gpus_per_job,
                                cpus_per_job=args.cpus_per_job, timeout_min=args.timeout_min,
                                summary_only=args.summary_only, parallel=args.parallel)
    if args.command == "reproduce":
        from .reproduce import executed_dir, reproduce
        from .sweep.runner import output_folders
        root = _before_work(args, folders=output_folders(args.profile) + [
            (executed_dir(args.profile), "executed notebooks", "PRUNELIB_RESULTS"),
            (paths.cache_dir(), "cache", "PRUNELIB_CACHE")])
        return reproduce(args.profile, data=str(root), device=args.device, force=args.force,
                         only=args.only.split(",") if args.only else None)
    return _train_or_prune(args)


def _next_unit(profile: str, hours_left: float | None, whole: bool, skip: list[str]) -> int:
    """``sweep --next-unit``: the unit to run next here (or with ``whole`` every unit in turn, with its hours), the
    units named in ``skip`` and those that wait for them left out; 0, or 3 with the reason on stderr when none fits."""
    from .sweep import units
    rows = units.without(units.plan(profile), skip)
    first = units.next_unit(rows, hours_left)
    chosen = units.schedule(rows, hours_left) if whole else [(first, None)] if first else []
    if not chosen:
        skipped = f" (skipped: {', '.join(skip)}, and the units that wait for them)" if skip else ""
        print(f"python -m prunelib sweep --next-unit: {units.none_fits(profile, rows, hours_left)}{skipped}",
              file=sys.stderr)
        return 3
    for unit, hours in chosen:
        print(unit.name if not whole else f"{unit.name}\t{'not timed yet' if hours is None else f'{hours:.2f}'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    paths.absolute_environment()  # a notebook's kernel or a job, started elsewhere, reads the same folders
    args = build_parser().parse_args(argv)
    if getattr(args, "data", None):  # a path the user typed: from the current folder, before anything else
        args.data = str(paths.from_user(args.data))
    from .data import DataError
    from .runs import Busy, RunMismatch
    from .training import NotReproduced
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        if args.debug or os.environ.get("PRUNELIB_DEBUG"):
            raise
        print(f"python -m prunelib {args.command}: interrupted; what finished is kept, and the same command "
              "resumes the rest", file=sys.stderr)
        return 130
    except NotReproduced as err:
        if args.debug or os.environ.get("PRUNELIB_DEBUG"):
            raise
        print(f"python -m prunelib {args.command}: not reproduced: {_one_line(err)}", file=sys.stderr)
        return NOT_REPRODUCED
    except (UserError, DataError, RunMismatch, Busy, OSError, ValueError) as err:  # SweepError is a ValueError
        if args.debug or os.environ.get("PRUNELIB_DEBUG"):
            raise
        print(f"python -m prunelib {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2


def _one_line(err: BaseException) -> str:
    """An error as one line: its message with the lines joined (a YAML error spans several)."""
    text = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    return text or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
