"""Where a sweep's jobs run: submitit's SLURM array or its local executor, watched until each has ended.

:func:`_run_local` runs the jobs on this machine in the slots of :func:`job_slots` (one at a time on the CPU, one per
GPU), the summary re-drawn after each; :func:`_watch` polls a SLURM array. A failed job names its log
(:func:`_report`); a stop of the sweep stops its running jobs, each keeping what it finished.
"""
from __future__ import annotations

import functools
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from .. import paths
from .aggregate import aggregate
from .job import run_job, stopped_by_sigterm
from .records import Job, is_done


def job_slots(parallel: int | None, gpus_per_job: int, device_count: int) -> list[tuple[int, ...]]:
    """The GPUs each of the local executor's slots gives its job: one slot per group of ``gpus_per_job`` GPUs (one
    slot on the CPU), or ``parallel`` slots dealt round the groups (several jobs on one GPU when ``parallel``
    exceeds the groups)."""
    groups = [tuple(range(k * gpus_per_job, (k + 1) * gpus_per_job))
              for k in range(device_count // gpus_per_job)] if gpus_per_job else [()]
    return [groups[k % len(groups)] for k in range(parallel or len(groups))]


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
