"""The smoke sweep (2 seeds, global regime) on submitit's local executor, one job after another and all at once
(--parallel), and through a single-node SLURM cluster started here (tools/local-slurm.sh; needs root, slurm-wlm and
munge), side by side in one run.

    PRUNELIB_DATA=../shared/data/imagenette2-224 python benchmarks/sweep_executors.py [--seeds 0,1] [--cpus-per-job 1]

Prints each way's wall time, the ratios, and whether the summary tables are identical. Each run
writes into its own temporary folders, so nothing of the project's results is touched.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sweep(executor: str, folder: Path, seeds: str, cpus: int, env: dict, *extra: str) -> float:
    env = {**env, "PRUNELIB_RESULTS": str(folder / "results"), "PRUNELIB_CHECKPOINTS": str(folder / "ckpt"),
           "PRUNELIB_LOGS": str(folder / "logs")}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "prunelib", "sweep", "--profile", "smoke", "--seeds", seeds,
                    "--regimes", "global", "--executor", executor, "--cpus-per-job", str(cpus), *extra],
                   cwd=ROOT, env=env, check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--cpus-per-job", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        local = sweep("local", tmp / "local", args.seeds, args.cpus_per_job, dict(os.environ))
        n = len(args.seeds.split(","))
        together = sweep("local", tmp / "parallel", args.seeds, args.cpus_per_job, dict(os.environ),
                         "--parallel", str(n))
        started = subprocess.run(["bash", str(ROOT / "tools" / "local-slurm.sh"), "start", str(tmp / "cluster")],
                                 capture_output=True, text=True, check=True)
        try:
            env = {**os.environ, "SLURM_CONF": str(tmp / "cluster" / "slurm.conf")}
            slurm = sweep("slurm", tmp / "slurm", args.seeds, args.cpus_per_job, env)
        finally:
            subprocess.run(["bash", str(ROOT / "tools" / "local-slurm.sh"), "stop", str(tmp / "cluster")], check=False)
        table = lambda name: tmp / name / "results" / "smoke" / "summary.csv"  # noqa: E731
        same = all(filecmp.cmp(table("local"), table(name), shallow=False) for name in ("parallel", "slurm"))
        sys.path.insert(0, str(ROOT))
        from prunelib.provenance import cpu
        print(f"smoke sweep, seeds {args.seeds}, global regime, {args.cpus_per_job} CPU(s) per job, on "
              f"{os.cpu_count()} cores of {cpu()} ({started.stdout.strip() and 'local SLURM cluster started'})")
        print(f"local executor (one job after another)  {local:7.1f} s")
        print(f"local executor, --parallel {n}            {together:7.1f} s")
        print(f"SLURM job array (local cluster)          {slurm:7.1f} s")
        print(f"local / local --parallel {local / together:.2f}x; local / SLURM {local / slurm:.2f}x; "
              f"summary tables identical: {same}")


if __name__ == "__main__":
    main()
