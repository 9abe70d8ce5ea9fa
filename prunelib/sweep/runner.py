"""Run a sweep of seeds x regimes as jobs on an existing engine (submitit), then aggregate them.

``python -m prunelib sweep --profile P --seeds 0,1,2 --regimes global,lottery [--executor auto|local|slurm]``

- Each (seed, regime) is one job (:func:`prunelib.sweep.job.run_job`): training, pruning and the measurements of
  that run, into folders of its own. **SLURM** (``sbatch`` on the PATH, or ``--executor slurm``): one job array
  through submitit. **Local**: submitit's local executor, one job after another on a CPU machine, and one job per
  GPU at a time where several GPUs are visible; ``--parallel K`` runs K jobs at a time (the CPU's cores shared
  among them, or several jobs on each GPU: one job at 128 px leaves most of a large GPU idle).
- A job whose result file is current (same networks, same measurement settings) is skipped, so re-submitting a
  sweep runs only what is missing or failed. A failed job names its log and leaves the others' results in place.
- Then one aggregation step writes ``results/<profile>/summary.csv`` and ``seed_verdicts.json`` from every finished
  job, all or none, and ``aggregation.json``, the digest of what they were drawn from (:func:`aggregation_stale`
  tells whether they still are). A failed aggregation (a full disk) is reported and the sweep goes on.
- Logs and submitit's files go to ``logs/sweep/<profile>/`` (``$PRUNELIB_LOGS``).
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from .. import paths, regimes, runs
from ..currency import digest, why_stale
from . import concepts, pictures
from .agreement import PICTURE
from .decomposition import DECOMPOSITION
from .job import check_machine, networks_to_train, run_job, stopped_by_sigterm
from .records import Job, job_inputs, measured_networks, missing, networks_here, read_result, stale
from .seed_rule import SEED_VERDICTS
from .summary import SUMMARY_FILE, runs_dir

#: what a sweep writes into ``results/<profile>/``: the jobs' ``runs/`` and what :func:`aggregate` draws from them
OUTPUTS = ("runs", SUMMARY_FILE, SEED_VERDICTS, DECOMPOSITION, PICTURE)

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


def job_slots(parallel: int | None, gpus_per_job: int, device_count: int) -> list[tuple[int, ...]]:
    """The GPUs each of the local executor's slots gives its job: one slot per group of ``gpus_per_job`` GPUs (one
    slot on the CPU), or ``parallel`` slots dealt round the groups (several jobs on one GPU when ``parallel``
    exceeds the groups)."""
    groups = [tuple(range(k * gpus_per_job, (k + 1) * gpus_per_job))
              for k in range(device_count // gpus_per_job)] if gpus_per_job else [()]
    return [groups[k % len(groups)] for k in range(parallel or len(groups))]


def threads_per_job(parallel: int | None, cpus_per_job: int | None, cpu_count: int | None) -> int | None:
    """The torch threads of a job: ``cpus_per_job``, else the machine's cores shared among ``parallel`` jobs
    (several jobs each with every core's thread would thrash), else None (torch's default)."""
    if cpus_per_job or not parallel or parallel == 1:
        return cpus_per_job
    return max(1, (cpu_count or 1) // parallel)


def is_done(job: Job) -> bool:
    """Whether ``job``'s result file is complete (one network per level of its regime, :func:`~.records.missing`) and
    current (:func:`prunelib.sweep.records.stale`: the same inputs, and networks whose run folders and checkpoints, where present
    here, are the ones it measured), concept metrics and pictures included."""
    if not job.result_file.is_file():
        return False
    from ..profiles import load_settings
    try:
        done = read_result(job.result_file)
    except ValueError:
        return False
    settings = load_settings(job.profile)
    if not done.get("complete", True) or stale(job, done, settings) or missing(job, done, settings):
        return False  # (a file of before "complete": a whole job)
    return ((not concepts.wanted(job, settings)
             or concepts.is_current(job, settings, done["networks"]))
            and (not pictures.wanted(job, settings) or pictures.is_current(job, settings, done["networks"])))


def _running_elsewhere(job: Job) -> str | None:
    """Who runs ``job`` now, when another process holds its lock (a sweep killed while its jobs went on)."""
    try:
        with runs.locked(job.lock_folder, wait=False):
            return None
    except runs.Busy as err:
        return str(err).rsplit(" by ", 1)[-1]


def _submitit_executor(kind: str, folder: Path, *, partition: str | None, gpus_per_job: int,
                       cpus_per_job: int | None, timeout_min: int, visible_gpus: tuple[int, ...] = ()):
    import submitit
    if kind == "slurm":
        ex = submitit.AutoExecutor(folder=folder, cluster="slurm")
        params: dict[str, Any] = {"timeout_min": timeout_min, "slurm_job_name": "prunelib-sweep",
                                  "slurm_stderr_to_stdout": True}
        if partition:
            params["slurm_partition"] = partition
        if gpus_per_job:
            params["gpus_per_node"] = gpus_per_job
        if cpus_per_job:
            params["cpus_per_task"] = cpus_per_job
        ex.update_parameters(**params)
        return ex
    ex = submitit.LocalExecutor(folder=folder)
    ex.update_parameters(timeout_min=timeout_min, gpus_per_node=gpus_per_job, visible_gpus=visible_gpus,
                         stderr_to_stdout=True)
    return ex


def _log(job_handle) -> str:
    return str(job_handle.paths.stdout)


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


def _run_local(jobs: list[Job], todo: list[Job], profile: str, data: str, folder: Path, *, gpus_per_job: int,
               cpus_per_job: int | None, timeout_min: int, poll_s: float, echo: Callable[[str], None],
               parallel: int | None = None) -> list[str]:
    """Run on this machine, in order, each of ``jobs`` that is not done when its turn comes (``todo``: those that
    were not at the start), in the slots of :func:`job_slots` (one at a time on the CPU, one per GPU where there are
    several, unless ``parallel`` says how many); the summary is re-drawn after each job. A job done at the start runs
    all the same when an earlier job outdated it (it retrained a dense network the job measured), also when the
    earlier job finishes after the later one's turn came. A stop of the sweep (Ctrl-C, or SIGTERM from ``kill``)
    stops its running jobs too (each keeps what it finished; the same command resumes it), so that no job trains on
    unwatched beside the next sweep's."""
    import torch
    free = job_slots(parallel, gpus_per_job, torch.cuda.device_count())
    queue = list(jobs)
    running: dict[Job, Any] = {}
    passed: list[Job] = []  # done when their turn came: run after all if a job still running outdates them
    failed: list[str] = []
    try:
        with stopped_by_sigterm():  # a kill of the sweep reaches the except clause below
            while queue or running:
                while queue and free:
                    job = queue.pop(0)
                    if is_done(job):
                        if job in todo:
                            echo(f"[{job.name}] done meanwhile, skipped ({paths.portable(job.result_file)})")
                        passed.append(job)
                        continue
                    if job not in todo:
                        echo(f"[{job.name}] outdated by an earlier job of this sweep: running it again")
                    gpus = free.pop(0)
                    ex = _submitit_executor("local", folder, partition=None, gpus_per_job=gpus_per_job,
                                            cpus_per_job=cpus_per_job, timeout_min=timeout_min, visible_gpus=gpus)
                    running[job] = (ex.submit(run_job, job), gpus)
                    echo(f"[{job.name}] RUNNING (local job {running[job][0].job_id}, log {_log(running[job][0])})")
                finished = [j for j, (h, _) in running.items() if _finished(h, "local")]
                for job in finished:
                    handle, gpus = running.pop(job)
                    free.append(gpus)
                    failed += _report(job, handle, echo)
                    outdated = [j for j in passed if not is_done(j)]
                    queue += outdated
                    passed = [j for j in passed if j not in outdated]
                    if queue and job.result_file.is_file():  # the summary of what is measured, before the next job
                        failed += aggregate(profile, data, echo)
                if running and not finished:
                    time.sleep(poll_s)
    except KeyboardInterrupt:
        for job, (handle, _) in running.items():
            echo(f"[{job.name}] STOPPED with the sweep (local job {handle.job_id}); it resumes where it stopped")
            _stop_local(handle)
        raise
    return failed


def _stop_local(handle, grace_s: float = 60.0) -> None:
    """Stop a local submitit job and wait for it: its controller forwards SIGTERM to the job's process, which stops
    as after Ctrl-C (:func:`prunelib.sweep.job.run_job`). Not Ctrl-C itself: a sweep started in the background
    (``nohup ... &``) and its jobs ignore SIGINT."""
    process = getattr(handle, "_process", None)
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:  # the controller did not answer
        process.kill()
        process.wait()


def judge_archive(profile: str, name: str, echo: Callable[[str], None] = print) -> Path:
    """Write ``seed_verdicts.json`` of an archived measurement of ``profile`` (``results/<profile>/<name>/``,
    :func:`prunelib.sweep.summary.archive_dir`): the judging rule of today applied to its jobs as they were
    measured, each seed's effects paired over the images its own job explained. Its other files stay as written."""
    from ..checkpoint import save_json
    from ..reference import load_reference
    from .seed_rule import seed_verdicts
    from .summary import archive_dir, load_runs

    runs = load_runs(profile, archive=name)
    if not runs:
        raise FileNotFoundError(f"{paths.portable(archive_dir(profile, name) / 'runs')} holds no job's result file")
    out = archive_dir(profile, name) / SEED_VERDICTS
    save_json(seed_verdicts(runs, load_reference()), out)
    echo(f"{paths.portable(out)}: the judging rule on {len(runs)} archived jobs")
    return out


def aggregate(profile: str, data: str | None, echo: Callable[[str], None] = print) -> list[str]:
    """Write ``summary.csv``, ``seed_verdicts.json`` (the judging rule, :mod:`prunelib.sweep.seed_rule`) and,
    for the authors' regimes, ``decomposition.json`` (:mod:`prunelib.sweep.decomposition`) of ``profile`` from its
    current result files, all or none; and where the networks' maps are on this machine, the side-by-side picture
    of the agreement chapter (:func:`prunelib.sweep.agreement.picture`).

    Every result file is checked (readable, its own name and profile, made from today's inputs: a file of other
    inputs is left out, and said so; one whose networks were since trained again here from the same inputs is kept,
    and said so, since it measures the networks it names). An error in the aggregation keeps every file as it was
    and is reported (the returned list names it), so that the jobs' results stay and the same command can try
    again."""
    from ..checkpoint import write_json, writing
    from ..reference import load_reference
    from .agreement import BASELINES, agreement_verdicts, baseline_rows, baselines, picture, save_picture
    from .decomposition import decomposition
    from .seed_rule import seed_verdicts
    from .summary import load_runs, write_summary

    def not_current(path: Path, run: dict[str, Any]) -> str | None:
        if "inputs" not in run:
            return "it was measured by an older version (no record of its inputs)"
        why = why_stale(run["inputs"], job_inputs(Job(profile, int(run["seed"]), str(run["regime"]), data=data)))
        trained_again = [] if why else why_stale(measured_networks(run), networks_here(run))
        if trained_again:  # same inputs, another realization here: the file measures the networks it names
            echo(f"{paths.portable(path)}: kept, though networks here are not the ones it measured "
                 f"({'; '.join(trained_again)}; the job runs again to measure the ones here)")
        return "; ".join(why) or None

    results = paths.results_dir(profile)
    try:
        read_from = aggregation_inputs(profile, data)
        runs = load_runs(profile, skip=not_current, echo=echo)
        if not runs:
            echo("no current result file: the summary and verdict files are left as they were")
            return []
        for run in runs:
            if bad := non_finite(run):
                echo(f"{paths.portable(runs_dir(profile) / (run['regime'] + '-seed' + str(run['seed']) + '.json'))}"
                     f" holds {len(bad)} value(s) that are not finite numbers ({', '.join(bad[:3])}"
                     f"{', ...' if len(bad) > 3 else ''}): the verdicts leave those images out")
        base = baselines(runs, results / BASELINES, echo)  # reused where the maps are gone
        by_seeds = {**seed_verdicts(runs, load_reference()), "agreement": agreement_verdicts(runs, base)}
        parts = decomposition(runs, load_reference()) if any(r["regime"].startswith("authors_") for r in runs) else None
        extra = baseline_rows(base, runs[0]["settings"]["n_bootstrap"], runs[0]["settings"]["image_seed"])
        with contextlib.ExitStack() as written:  # every file moved into place at the end, or none
            write_summary(profile, runs, extra=extra, out=written.enter_context(writing(results / SUMMARY_FILE)))
            write_json(by_seeds, written.enter_context(writing(results / SEED_VERDICTS)))
            if parts is not None:
                write_json(parts, written.enter_context(writing(results / DECOMPOSITION)))
            write_json({"inputs": read_from}, written.enter_context(writing(results / AGGREGATED)))
        shown = picture(runs, data)  # where the maps are on this machine; else the last picture stays
        if shown is not None:
            save_picture(shown, results / PICTURE)
    except (ValueError, KeyError, ZeroDivisionError, OSError) as err:
        echo(f"aggregation FAILED ({type(err).__name__}: {err}); the summary and verdict files are left as they were")
        return ["aggregation"]
    return []


#: what the last aggregation of a profile was drawn from (:func:`aggregation_inputs`), beside what it wrote
AGGREGATED = "aggregation.json"


def aggregation_inputs(profile: str, data: str | None) -> str:
    """The digest (:func:`prunelib.currency.digest`) of what :func:`aggregate` draws ``profile``'s summary and
    verdicts from: every job's result and concept file (names and bytes), the profile's settings and the data's
    contents (they decide which files are current)."""
    from ..data import locate, split_digests
    from ..fingerprints import results_digest
    from ..profiles import load_settings
    folder = runs_dir(profile)
    files = sorted(folder.glob("*.json")) + sorted((folder / "concepts").glob("*.json"))
    return digest([results_digest(files), dict(load_settings(profile).raw), split_digests(locate(data))])


def aggregation_stale(profile: str, data: str | None) -> str | None:
    """Why ``profile``'s summary and verdicts are not drawn from its result files as they are now (a job's file
    changed, added or removed, or the profile's settings or data changed since :func:`aggregate` wrote them,
    :func:`prunelib.currency.why_stale`); None when they are, or when there is nothing to aggregate."""
    import json
    if not any(runs_dir(profile).glob("*.json")):
        return None
    record, results = paths.results_dir(profile) / AGGREGATED, paths.results_dir(profile)
    missing_files = [name for name in (SUMMARY_FILE, SEED_VERDICTS) if not (results / name).is_file()]
    if missing_files:
        return f"{', '.join(missing_files)} missing"
    try:
        recorded = json.loads(record.read_text())
        recorded = recorded if isinstance(recorded, dict) and "inputs" in recorded else None
    except (OSError, ValueError):
        recorded = None
    if recorded is None:
        return f"{paths.portable(record)} does not say what they were drawn from"
    why = why_stale(recorded, {"inputs": aggregation_inputs(profile, data)})
    return "a job's result, the settings or the data changed" if why else None


def non_finite(run: dict[str, Any]) -> list[str]:
    """Where a job's result holds a measurement that is not a finite number (NaN, infinity): ``["networks[1]
    methods.VG.gini[3]", ...]``, in the measurements (``top1``, ``methods``, ``agreement``) of its networks."""
    import math
    found: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
        elif isinstance(value, float) and not math.isfinite(value):
            found.append(where)

    for i, network in enumerate(run["networks"]):
        for key in ("top1", "methods", "agreement"):
            walk(network.get(key), f"networks[{i}] {key}")
    return found


def _locate(data: str | None) -> Path:
    from ..data import locate
    return locate(data)


def _report(job: Job, handle, echo: Callable[[str], None]) -> list[str]:
    if not handle.paths.result_pickle.exists():  # the process died without a word: a signal, the OOM killer
        code = getattr(getattr(handle, "_process", None), "returncode", None)
        how = f"killed by signal {-code}" if isinstance(code, int) and code < 0 else f"exit status {code}"
        echo(f"[{job.name}] FAILED (the job's process ended without a result: {how}; out of memory?); "
             f"log {_log(handle)}")
        return [job.name]
    try:
        handle.result()
    except Exception as err:  # the job's own exception, re-raised by submitit with its traceback: name its log
        echo(f"[{job.name}] FAILED ({_last_error(str(err)) or type(err).__name__}); log {_log(handle)}")
        return [job.name]
    echo(f"[{job.name}] DONE (job {handle.job_id}, log {_log(handle)})")
    return []


@functools.lru_cache(maxsize=1)
def _has_accounting() -> bool:
    """Whether this SLURM keeps accounting (sacct answers); submitit's job states come from sacct."""
    try:
        return subprocess.run(["sacct", "-n", "-X", "-j", "1"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _finished(handle, kind: str) -> bool:
    """A job has finished when it has left its result (or error) file, or when its process is gone: a local job
    whose process ended (killed: no result), a SLURM job that sacct, where SLURM keeps accounting, says ended."""
    if handle.paths.result_pickle.exists():
        return True
    if kind == "local":
        process = getattr(handle, "_process", None)
        if process is None or process.poll() is None:
            return False
        time.sleep(0.5)  # the result file is written before the process exits; give the filesystem a moment
        return True
    return _has_accounting() and handle.done()


def _slurm_state(handle) -> str:
    """submitit's state (from sacct); where SLURM keeps no accounting, squeue's (PENDING, RUNNING, ...), and
    ``"GONE"`` once the job is in neither and has left no result."""
    if _has_accounting():
        return handle.state
    try:
        out = subprocess.run(["squeue", "-h", "-j", str(handle.job_id), "-o", "%T"], capture_output=True,
                             text=True, timeout=30).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return "UNKNOWN"  # squeue did not answer: ask again at the next poll
    if out:
        return out[0]
    return "COMPLETING" if handle.paths.result_pickle.exists() else "GONE"


def _last_error(message: str) -> str:
    """The exception line of a traceback quoted in submitit's error message (``"ValueError: ..."``)."""
    lines = [line for line in message.splitlines() if line.strip() and not line.startswith(("-", " "))]
    errors = [line for line in lines if ":" in line and line.split(":")[0].replace(".", "").isidentifier()
              and line.split(":")[0].split(".")[-1][0].isupper()]
    return errors[-1] if errors else ""


def _watch(handles: dict[Job, Any], poll_s: float, echo: Callable[[str], None], kind: str) -> list[str]:
    """Poll the jobs of a SLURM array until all have ended, printing each change of state; return the failed."""
    states: dict[Job, str] = {}
    failed: list[str] = []
    last = ""
    for job, handle in handles.items():
        echo(f"[{job.name}] submitted ({kind} job {handle.job_id}, log {_log(handle)})")
    while len(states) < len(handles) or any(s not in ("DONE", "FAILED") for s in states.values()):
        for job, handle in handles.items():
            if states.get(job) in ("DONE", "FAILED"):
                continue
            if _finished(handle, kind):
                failed += _report(job, handle, echo)
                states[job] = "FAILED" if job.name in failed else "DONE"
            else:
                state = _slurm_state(handle)
                if state == "GONE":  # neither queued nor running, and no result: killed, timed out, lost
                    echo(f"[{job.name}] FAILED (the job ended without a result); log {_log(handle)}")
                    failed.append(job.name)
                    states[job] = "FAILED"
                    continue
                if states.get(job) != state:
                    echo(f"[{job.name}] {state} ({kind} job {handle.job_id})")
                    states[job] = state
        counts = ", ".join(f"{sum(v == s for v in states.values())} {s.lower()}" for s in sorted(set(states.values())))
        if any(s not in ("DONE", "FAILED") for s in states.values()):
            if counts != last:  # the tally, whenever it changes
                echo(f"  {counts}")
                last = counts
            time.sleep(poll_s)
    return failed
