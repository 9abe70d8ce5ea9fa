"""One job of a sweep: a (profile, seed, regime) run, trained and measured into folders of its own.

A job trains the seed's dense network (shared by the regimes of that seed, trained once: concurrent jobs take turns
on its folder), prunes it through the regime's levels (the lottery regime also trains the unpruned control; the
authors' regimes run their round loop), and measures each network as soon as it is trained
(:class:`prunelib.sweep.measurement.Measurement`); then, for the seeds the profile names, its concept metrics
(:mod:`prunelib.sweep.concepts`) and pictures (:mod:`prunelib.sweep.pictures`). Layout::

    checkpoints/<profile>/seed<k>/dense/                  the dense run (run.json, init.pt, best.pt, ...)
    checkpoints/<profile>/seed<k>/<regime>/level_XX/      each pruned level (authors_*: round_<r>/)
    checkpoints/<profile>/seed<k>/lottery/control/        the unpruned control
    checkpoints/<profile>/seed<k>/<run>/maps-<key>.pt     a network's maps on the image set (for the baselines)
    results/<profile>/runs/<regime>-seed<k>.json          the job's measurements (:mod:`prunelib.sweep.records`)
    results/<profile>/runs/concepts/<regime>-seed<k>.json concept metrics, for the profile's concept_seeds
    results/<profile>/runs/pictures/<regime>-seed<k>/     saliency grid, explorer frames and concept galleries,
                                                          for the profile's picture_seeds
    results/<profile>/state/seed<k>/                      what the job's next unit starts from (:mod:`prunelib.state`)

Every run folder is keyed by its identity (:func:`prunelib.runs.claim`), so a job resumes after a kill at any point
and never reuses a network made from other inputs; a result file is current while its declared inputs are
(:func:`prunelib.sweep.records.stale`). The sweep counts a job done only when its file is complete and current.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import torch

from .. import checkpoint, paths, pipeline, regimes, runs, state
from ..models import resnet18, resolve_device
from ..profiles import Settings
from ..provenance import provenance
from ..schedule import authors_schedule, level_folder, round_folder
from ..training import TrainConfig, train
from . import concepts, pictures
from .measurement import Measurement
from .records import Job, network_record, profile_settings, pruned_record


def train_networks(job: Job, *, progress: bool = True,
                   on_network: Callable[[dict[str, Any]], None] | None = None,
                   expect_dense: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Train (or resume, or reuse) every network of ``job``; return one record per network, dense first.

    A record: ``{"network": "dense"|"pruned"|"control", "target": fraction, "checkpoint": path, "top1": fraction,
    "top1_per_class": [fraction per class], "seconds": training seconds, "identity": sha256 of its run.json}``.
    ``on_network`` receives each record as soon as its network is saved, before the next one trains (the job
    measures it then). ``expect_dense``: the recorded history of the dense network the job must make again
    (:func:`prunelib.training.train`).
    """
    settings, regime = profile_settings(job), regimes.get(job.regime)
    records: list[dict[str, Any]] = []

    def done(record: dict[str, Any]) -> None:
        records.append(record)
        if on_network is not None:
            on_network(record)

    splits = pipeline.load_splits(job.data, settings.subset_per_class or None, seed=job.seed,
                                  val_per_class=settings.val_per_class or None)
    dense_cfg = TrainConfig.from_params(settings, seed=job.seed)
    dense_dir = job.checkpoints / "dense"
    dense = pipeline.train_dense(splits, dense_cfg, dense_dir, device=job.device, progress=progress,
                                 expect=expect_dense)
    done(network_record("dense", 0.0, dense_dir / "best.pt", dense, sum(h["seconds"] for h in dense["history"])))
    if regime.has_control:
        control_dir = job.checkpoints / regime.name / "control"
        model = resnet18()
        checkpoint.load_model_state(model, checkpoint.load(dense_dir / "init.pt")["model"])
        result = train(model, *splits, regime.control_recipe(dense_cfg), control_dir, device=job.device,
                       progress=progress, identity={"stage": "control", "initial": runs.file_digest(dense_dir / "init.pt")})
        done(network_record("control", 0.0, control_dir / "best.pt", result,
                            sum(h["seconds"] for h in result["history"])))

    def level_done(r: dict[str, Any]) -> None:
        done(pruned_record(job, r))

    if regime.method == "authors":
        authors_schedule(dense_dir, regime.n_rounds(settings), regime.rate(settings), regime.recipe(dense_cfg, settings),
                         *splits, job.checkpoints / regime.name, enforce_mask=regime.enforce_mask, device=job.device,
                         progress=progress, on_level=level_done)
    else:
        pipeline.prune_dense(splits, dense_dir, regime.levels(settings), regime.recipe(dense_cfg, settings),
                             job.checkpoints / regime.name, method=regime.method, device=job.device,
                             progress=progress, on_level=level_done)
    return records


def keep_state(job: Job, settings: Settings | Mapping[str, Any], record: dict[str, Any], initial: dict[str, str] | None = None
               ) -> int | None:
    """After ``record``'s network is measured, write into git's state (:mod:`prunelib.state`) where the job's next
    round starts from it (the dense network: round 1; round ``r``: round ``r + 1``); ``initial``: the dense run's
    initial-weight digests (:func:`prunelib.state.initial_digests`; default: of its ``init.pt`` here). Returns the
    bytes written, None where no round starts from it."""
    regime = regimes.get(job.regime)
    if record["network"] == "control" or regime.method not in ("lottery", "authors"):
        return None
    initial = initial or state.initial_digests(job.checkpoints / "dense" / "init.pt")
    path = paths.resolve(record["checkpoint"])
    if record["network"] == "dense":
        r = 1
    else:
        r = 1 + (record["round"] if "round" in record else
                 [round(s, 6) for s in regime.levels(settings)].index(round(record["target"], 6)) + 1)
    source = path.parent / ("last.pt" if regime.method == "authors" else path.name)
    return state.write_next_round(job.profile, job.seed, job.regime, r, source, initial, settings)


def run_job(job: Job, *, progress: bool = True, expect_dense: list[dict[str, Any]] | None = None) -> Path:
    """Train and measure ``job``; networks measured earlier with the same inputs are not measured again.
    ``expect_dense``: the recorded history of the dense network it must make again (:func:`train_networks`).

    SIGTERM stops the job as Ctrl-C does (what finished is kept; the job resumes where it stopped), also where it was
    started in the background, which ignores Ctrl-C, and under submitit, whose jobs otherwise ignore SIGTERM."""
    with stopped_by_sigterm():
        return _run_job(job, progress=progress, expect_dense=expect_dense)


@contextlib.contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """Within the block SIGTERM (and SIGINT, even where it was ignored, as in a process started with ``nohup ...
    &``) raises KeyboardInterrupt, so that ``finally`` clauses and the CLI's interrupted message run; the previous
    handlers come back after it. Outside the main thread, where no signal arrives, nothing changes."""
    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def networks_to_train(job: Job, settings: Settings | None = None) -> list[tuple[str, TrainConfig]]:
    """The networks of ``job`` not trained on this machine yet, in training order, each as (its folder, relative to
    the seed's checkpoints, and its recipe): a dense network without ``report.json``, a control without all its
    epochs, a pruned level or round without ``final.pt``. A folder holding a run of other inputs counts as trained
    here; the job refuses it when it claims the folder (:func:`prunelib.runs.claim`)."""
    settings = profile_settings(job) if settings is None else settings
    regime, dense = regimes.get(job.regime), TrainConfig.from_params(settings, seed=job.seed)
    left: list[tuple[str, TrainConfig]] = []
    if not (job.checkpoints / "dense" / "report.json").is_file():
        left.append(("dense", dense))
    if regime.has_control:
        control, folder = regime.control_recipe(dense), job.checkpoints / regime.name / "control"
        history = folder / "history.json"
        if not history.is_file() or len(json.loads(history.read_text())) < control.epochs:
            left.append((f"{regime.name}/control", control))
    folders = ([round_folder(r) for r in range(1, regime.n_rounds(settings) + 1)] if regime.method == "authors" else
               [level_folder(s) for s in regime.levels(settings)])
    recipe = regime.recipe(dense, settings)
    left += [(f"{regime.name}/{f}", recipe) for f in folders
             if not (job.checkpoints / regime.name / f / "final.pt").is_file()]
    return left


def check_machine(job: Job) -> str | None:
    """Refuse, before any work, a job that would train a network under bf16 autocast on a device that emulates it
    (:func:`prunelib.pipeline.check_precision`, judged on the longest training of :func:`networks_to_train`: about
    12x slower; small trainings and ``--allow-emulated-bf16`` pass). A job with nothing left to train is not refused;
    where it would classify ROAD in emulated bf16, the returned note says that measuring will be slower."""
    from ..data import locate
    from ..hardware import allowed, native_bf16
    settings = profile_settings(job)
    left = networks_to_train(job, settings)
    what = f"Job {job.name} of profile {job.profile!r}"
    if left:
        _, longest = max(left, key=lambda network: network[1].epochs)
        pipeline.check_precision(longest, locate(job.data), settings.subset_per_class, job.device,
                                 f"{what} ({len(left)} network{'s' if len(left) > 1 else ''} left to train)")
        return None
    if settings.road_precision == "bf16" and not allowed() and not native_bf16(resolve_device(job.device)):
        return (f"{what}: every network is trained; measuring them classifies ROAD in bf16, which this CPU emulates "
                "(no AVX512-BF16 or AMX-BF16), so it takes several times longer than on a CPU with them")
    return None


def _run_job(job: Job, *, progress: bool, expect_dense: list[dict[str, Any]] | None) -> Path:
    note = check_machine(job)
    if note and progress:
        print(note, flush=True)
    if job.threads:
        torch.set_num_threads(job.threads)
    array = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    slurm = f"{array[0]}_{array[1]}" if all(array) else os.environ.get("SLURM_JOB_ID")
    print(f"prunelib job {job.name} (profile {job.profile}) on {platform.node()}"
          + (f", SLURM job {slurm}" if slurm else ", no SLURM"), flush=True)
    # the code this process runs is the code of its start: record the commit (and any local change) now
    origin = provenance(job.profile, job.data, str(resolve_device(job.device)), job.seed)
    with runs.locked(job.lock_folder, wait=False):  # the same job started twice (a re-run after a killed parent)
        measurement = Measurement(job, progress=progress, origin=origin)
        settings = profile_settings(job)

        def on_network(record: dict[str, Any]) -> None:
            measurement.add(record)
            keep_state(job, settings, record)

        records = train_networks(job, progress=progress, on_network=on_network, expect_dense=expect_dense)
        measured = measurement.finish()
        if concepts.wanted(job, settings) and not concepts.is_current(job, settings, records):
            concepts.measure_concepts(job, measured["networks"], settings, progress=progress)
        if pictures.wanted(job, settings) and not pictures.is_current(job, settings, measured["networks"]):
            pictures.make_pictures(job, measured["networks"], settings, measured["provenance"])
    return job.result_file


if __name__ == "__main__":  # python -m prunelib.sweep.job PROFILE SEED REGIME [DATA]: one job in this process
    import sys
    profile, seed, regime, *rest = sys.argv[1:]
    print(run_job(Job(profile, int(seed), regime, data=rest[0] if rest else None)))
