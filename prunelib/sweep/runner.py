"""Run a sweep of seeds x regimes as jobs on an existing engine (submitit), then aggregate them.

``python -m prunelib sweep --profile P --seeds 0,1,2 --regimes global,lottery [--executor auto|local|slurm]``

- Each (seed, regime) is one job (:func:`prunelib.sweep.job.run_job`): training, pruning and the measurements of
  that run, into folders of its own. **SLURM** (``sbatch`` on the PATH, or ``--executor slurm``): one job array
  through submitit (:mod:`prunelib.sweep.executors`). **Local**: submitit's local executor, one job after another on a CPU machine, and one job per
  GPU at a time where several GPUs are visible; ``--parallel K`` runs K jobs at a time (the CPU's cores shared
  among them, or several jobs on each GPU: one job at 128 px leaves most of a large GPU idle).
- A job whose result file is current (:func:`prunelib.sweep.records.is_done`) is skipped, so re-submitting a
  sweep runs only what is missing or failed. A failed job names its log and leaves the others' results in place.
- Then one aggregation step (:func:`prunelib.sweep.aggregate.aggregate`) writes ``results/<profile>/summary.csv``
  and ``seed_verdicts.json`` from every finished job, all or none. A failed aggregation (a full disk) is reported and
  the sweep goes on.
- Logs and submitit's files go to ``logs/sweep/<profile>/`` (``$PRUNELIB_LOGS``).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from .. import paths, regimes, runs
from .aggregate import aggregate
from .executors import _run_local, _submitit_executor, _watch
from .job import check_machine, networks_to_train, run_job
from .records import Job, is_done
from .summary import SUMMARY_FILE

EXECUTORS = ("auto", "local", "slurm")


class SweepError(ValueError):
    """A sweep asked for something this machine or profile cannot give; the message says what was expected."""


def logs_dir(profile: str) -> Path:
    return Path(os.environ.get("PRUNELIB_LOGS", paths.ROOT / "logs")) / "sweep" / profile


def output_folders(profile: str) -> list[tuple[Path, str, str]]:
    """The folders a sweep of ``profile`` writes: ``(folder, what it holds, the variable that moves it)``."""
    return [(logs_dir(profile), "logs", "PRUNELIB_LOGS"),
            (paths.results_dir(profile), "results", "PRUNELIB_RESULTS"),
            (paths.checkpoint_dir(profile), "checkpoint", "PRUNELIB_CHECKPOINTS")]


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]`` (distinct integers >= 0)."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SweepError(f"--seeds must be comma-separated integers like 0,1,2, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise SweepError(f"--seeds must be distinct integers >= 0, got {text!r}")
    return seeds


def parse_regimes(text: str) -> list[str]:
    names = [r.strip() for r in text.split(",") if r.strip()]
    unknown = [r for r in names if r not in regimes.REGIMES]
    if not names or unknown:
        raise SweepError(f"--regimes must name regimes among {', '.join(regimes.REGIMES)}, got {text!r}")
    return names


def choose_executor(executor: str, gpus_per_job: int) -> str:
    """``"slurm"`` or ``"local"``: ``auto`` is SLURM where ``sbatch`` is on the PATH; checks what was asked for."""
    if executor not in EXECUTORS:
        raise SweepError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    has_slurm = shutil.which("sbatch") is not None
    if executor == "slurm" and not has_slurm:
        raise SweepError("--executor slurm: no SLURM here (sbatch is not on the PATH); use --executor local")
    chosen = "slurm" if executor == "slurm" or (executor == "auto" and has_slurm) else "local"
    if chosen == "local" and gpus_per_job:
        import torch
        if torch.cuda.device_count() < gpus_per_job:
            raise SweepError(f"--gpus-per-job {gpus_per_job}: this machine has {torch.cuda.device_count()} "
                             "CUDA devices; leave it out to run on the CPU")
    return chosen


def threads_per_job(parallel: int | None, cpus_per_job: int | None, cpu_count: int | None) -> int | None:
    """The torch threads of a job: ``cpus_per_job``, else the machine's cores shared among ``parallel`` jobs
    (several jobs each with every core's thread would thrash), else None (torch's default)."""
    if cpus_per_job or not parallel or parallel == 1:
        return cpus_per_job
    return max(1, (cpu_count or 1) // parallel)


def _running_elsewhere(job: Job) -> str | None:
    """Who runs ``job`` now, when another process holds its lock (a sweep killed while its jobs went on)."""
    try:
        with runs.locked(job.lock_folder, wait=False):
            return None
    except runs.Busy as err:
        return str(err).rsplit(" by ", 1)[-1]


def run_sweep(profile: str, seeds: list[int], regime_names: list[str], *, data: str | None = None,
              executor: str = "auto", partition: str | None = None, gpus_per_job: int = 0,
              cpus_per_job: int | None = None, timeout_min: int = 24 * 60, poll_s: float | None = None,
              echo: Callable[[str], None] = print, summary_only: bool = False, parallel: int | None = None) -> int:
    """Run every (seed, regime) job of ``profile`` not yet done, then aggregate; 0 if all jobs succeeded, else 1.
    With ``summary_only`` no job runs: the profile's results so far (a running job's included) are aggregated.
    ``parallel``: jobs at a time on the local executor (default: one per GPU group, one on the CPU). ``poll_s``:
    seconds between looks at the jobs' states (default: 0.5 on this machine, where a look reads a process's state;
    5 on SLURM, where it asks the controller)."""
    from ..profiles import load_settings
    settings = load_settings(profile)  # an unknown profile, or one a regime cannot read, fails before any job
    for name in [] if summary_only else regime_names:
        regimes.get(name).levels(settings)
    if parallel is not None and parallel < 1:
        raise SweepError(f"--parallel must be an integer >= 1, got {parallel}")
    kind = choose_executor(executor, gpus_per_job)
    if parallel is not None and kind == "slurm" and not summary_only:
        raise SweepError("--parallel is for the local executor (SLURM runs the jobs of its array side by side "
                         "itself); add --executor local to run them on this machine")
    cpus_per_job = threads_per_job(parallel, cpus_per_job, os.cpu_count())
    poll_s = poll_s if poll_s is not None else 5.0 if kind == "slurm" else 0.5
    for folder, what, variable in output_folders(profile):
        paths.check_writable(folder, what, variable)  # before any job: nothing is lost to it afterwards
    data = paths.portable(_locate(data))
    if summary_only:
        failed = aggregate(profile, data, echo)
        echo(f"summary: {paths.portable(paths.results_dir(profile) / SUMMARY_FILE)} (no job run)")
        return 1 if failed else 0
    jobs = [Job(profile, seed, regime, data=data, device="auto", threads=cpus_per_job)
            for regime in regime_names for seed in seeds]
    todo = [j for j in jobs if not is_done(j)]
    for j in jobs:
        if j not in todo:
            echo(f"[{j.name}] done earlier, skipped ({paths.portable(j.result_file)})")
    elsewhere = {j: who for j in todo if (who := _running_elsewhere(j))}
    for j, who in elsewhere.items():
        echo(f"[{j.name}] RUNNING already ({who}), not started again; run the sweep again once it has finished")
    todo = [j for j in todo if j not in elsewhere]
    if todo and kind == "local":  # this machine trains them: a bf16 it would emulate is refused now, not in a job
        for j in todo:  # (on SLURM each job checks its own node)
            if note := check_machine(j):
                echo(note)
    for j in todo:
        echo(f"[{j.name}] PENDING")
    for note in _baseline_losses(profile, todo):
        echo(note)
    folder = logs_dir(profile)
    failed: list[str] = []
    if todo and kind == "slurm":
        ex = _submitit_executor(kind, folder, partition=partition, gpus_per_job=gpus_per_job,
                                cpus_per_job=cpus_per_job, timeout_min=timeout_min)
        handles = ex.map_array(run_job, todo)
        failed = _watch(dict(zip(todo, handles)), poll_s, echo, kind)
    elif todo:  # every job of the sweep, in order: one done at the start may be outdated by an earlier one
        failed = _run_local([j for j in jobs if j not in elsewhere], todo, profile, data, folder,
                            gpus_per_job=gpus_per_job, cpus_per_job=cpus_per_job, timeout_min=timeout_min,
                            poll_s=poll_s, echo=echo, parallel=parallel)
    if any(j.result_file.is_file() for j in jobs):  # complete or not: the networks measured so far
        failed += aggregate(profile, data, echo)
        echo(f"summary: {paths.portable(paths.results_dir(profile) / 'summary.csv')} "
             f"({sum(is_done(j) for j in jobs)} of {len(jobs)} jobs of this sweep)")
    if failed:
        echo(f"{len(failed)} job(s) failed: {', '.join(failed)}; run the same command again to retry them")
    return 1 if failed else 0


def _baseline_losses(profile: str, todo: list[Job]) -> list[str]:
    """A warning, before the jobs start, for each seed-to-seed agreement baseline that training a seed's dense
    network again here loses (:func:`prunelib.sweep.agreement.dropped_by_retraining`), with the command that brings
    it back; empty when nothing is lost."""
    from .agreement import dropped_by_retraining
    from .summary import load_runs
    retrained = {j.seed for j in todo if any(folder == "dense" for folder, _ in networks_to_train(j))}
    if not retrained:
        return []
    lost = dropped_by_retraining(load_runs(profile), retrained)
    return [f"note: training seed {seed}'s dense network here drops its seed-to-seed agreement baseline with seed "
            f"{other} (seed {other}'s dense maps are not on this machine); it comes back when seed {other}'s dense "
            f"network is trained here too: --seeds {seed},{other} with a regime whose seed-{other} job is not done "
            f"(a done job is skipped and keeps the dense network it measured)" for seed, other in lost]


def _locate(data: str | None) -> Path:
    from ..data import locate
    return locate(data)
