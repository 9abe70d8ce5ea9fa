"""Run sweep jobs several at a time on one GPU, stop them at a deadline, then aggregate each profile.

    python tools/one_gpu.py --data data/imagenette2-224 --parallel 15 --deadline 500 \\
        noise:0:lottery noise:0:global authors:0:authors_code ...

One ResNet-18 job at 128 px leaves most of a large GPU idle (its time goes to Python and small kernels), so this runs
up to ``--parallel`` jobs side by side, each in a process of its own (``python -m prunelib.sweep.job``, one CPU thread
each), in the order given. It is for a GPU lent for a fixed time, with jobs of several profiles; otherwise
``python -m prunelib sweep --gpus-per-job 1 --parallel K`` does the same for one profile's seeds x regimes. Jobs of one seed share its dense network and take turns on it (the job's lock), so put
the longest chain of each seed first. The split caches are decoded once before any job starts. At ``--deadline``
seconds the jobs still running get SIGTERM (each keeps what it finished and resumes where it stopped when run
again), and ``sweep --summary-only`` draws each profile's summary from what was measured. Logs:
``logs/one_gpu/<job>.log`` (``$PRUNELIB_LOGS``).
Where NVIDIA's MPS daemon is on the PATH, ``--mps`` starts it first (kernels of the processes then share the GPU
instead of taking turns), and stops it at the end; if a CUDA call fails under it, the jobs run without it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_job(text: str) -> tuple[str, int, str]:
    try:
        profile, seed, regime = text.split(":")
        return profile, int(seed), regime
    except ValueError:
        raise argparse.ArgumentTypeError(f"a job is PROFILE:SEED:REGIME (e.g. noise:0:lottery), got {text!r}") from None


def _cuda_works(env: dict[str, str]) -> bool:
    probe = "import torch; x = torch.ones(1, device='cuda'); print(float(x.sum()))"
    try:
        return subprocess.run([sys.executable, "-c", probe], env=env, timeout=60, capture_output=True).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def start_mps(env: dict[str, str]) -> bool:
    """Start NVIDIA's MPS control daemon; True if CUDA works under it (else it is stopped again)."""
    if shutil.which("nvidia-cuda-mps-control") is None:
        print("one_gpu: no nvidia-cuda-mps-control on the PATH; running without MPS", flush=True)
        return False
    subprocess.run(["nvidia-cuda-mps-control", "-d"], env=env, timeout=30)
    if _cuda_works(env):
        print("one_gpu: MPS started", flush=True)
        return True
    stop_mps(env)
    print("one_gpu: CUDA failed under MPS; running without it", flush=True)
    return False


def stop_mps(env: dict[str, str]) -> None:
    subprocess.run(["nvidia-cuda-mps-control"], input=b"quit\n", env=env, timeout=30)


def decode_once(data: str) -> None:
    """Decode both splits into the cache before the jobs start (else each job decodes them at once)."""
    from prunelib.data import load_split, locate
    root = locate(data)
    for split in ("train", "val"):
        t0 = time.perf_counter()
        load_split(root, split)
        print(f"one_gpu: {split} decoded in {time.perf_counter() - t0:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("jobs", nargs="+", type=parse_job, help="PROFILE:SEED:REGIME, in the order to start them")
    parser.add_argument("--data", required=True, help="the ImageNette folder")
    parser.add_argument("--parallel", type=int, default=8, help="jobs at a time (default 8)")
    parser.add_argument("--deadline", type=float, default=3600, help="seconds before running jobs are stopped")
    parser.add_argument("--mps", action="store_true", help="start NVIDIA's MPS daemon first, where there is one")
    parser.add_argument("--no-summary", dest="summary", action="store_false",
                        help="leave out sweep --summary-only at the end")
    args = parser.parse_args(argv)
    from prunelib.profiles import load_profile
    from prunelib.regimes import get
    for profile, _, regime in args.jobs:  # a typo fails here, before anything is decoded or started
        try:
            load_profile(profile), get(regime)
        except (ValueError, KeyError) as err:
            parser.error(f"job {profile}:{regime}: {err}")
    t_start = time.time()
    logs = Path(os.environ.get("PRUNELIB_LOGS", ROOT / "logs")) / "one_gpu"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    mps = args.mps and start_mps(env)
    decode_once(args.data)
    waiting = list(args.jobs)
    running: dict[tuple[str, int, str], tuple[subprocess.Popen, float]] = {}  # job: (its process, its start)
    finished: list[str] = []
    last_report = 0.0
    try:
        while waiting or running:
            elapsed = time.time() - t_start
            if elapsed > args.deadline:
                break
            while waiting and len(running) < args.parallel:
                job = waiting.pop(0)
                profile, seed, regime = job
                cmd = [sys.executable, "-m", "prunelib.sweep.job", profile, str(seed), regime, args.data]
                with open(logs / f"{profile}-{regime}-seed{seed}.log", "w") as log:  # the child keeps its copy
                    running[job] = (subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT),
                                    time.time())
            for job, (proc, began) in list(running.items()):
                if proc.poll() is not None:
                    del running[job]
                    finished.append(f"{job[0]}:{job[1]}:{job[2]} rc={proc.returncode} "
                                    f"{time.time() - began:.0f}s")
                    print(f"one_gpu: {finished[-1]} (at {elapsed:.0f} s)", flush=True)
            if elapsed - last_report > 30:
                last_report = elapsed
                print(f"one_gpu: {elapsed:.0f} s: {len(running)} running, {len(waiting)} waiting, "
                      f"{len(finished)} finished", flush=True)
            time.sleep(1)
        for job, (proc, _) in running.items():
            print(f"one_gpu: deadline: stopping {job[0]}:{job[1]}:{job[2]}", flush=True)
            proc.send_signal(signal.SIGTERM)
        for job, (proc, _) in running.items():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        if mps:
            stop_mps(env)
    if args.summary:
        for profile in dict.fromkeys(p for p, _, _ in args.jobs):
            subprocess.run([sys.executable, "-m", "prunelib", "sweep", "--profile", profile, "--summary-only",
                            "--data", args.data], cwd=ROOT, env=env)
    print(f"one_gpu: done in {time.time() - t_start:.0f} s; not started: {waiting}", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
