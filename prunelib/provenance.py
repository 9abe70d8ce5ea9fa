"""Where every number comes from: profile, data, seed, device, package versions and the git commit."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from . import __version__, paths
from .checkpoint import save_json

#: the folder of ``results/<profile>/`` where the runner lets a stage write before its outputs replace the last
#: good ones (:mod:`prunelib.reproduce`)
STAGING = ".staging"
VERSIONED = ("torch", "torchvision", "captum", "scikit-learn", "scipy", "numpy", "papermill", "matplotlib")


#: the commit of a copy of the code that has no .git folder (a tarball sent to a cluster node or a GPU machine):
#: ``<sha>``, or ``<sha>+modified``; used only where git cannot tell
COMMIT_VARIABLE = "PRUNELIB_COMMIT"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(profile: str, data: str | None, device: str, seed: int) -> dict:
    """Profile, data path, seed, device, package versions, git commit (and whether code was modified)."""
    versions = {"python": platform.python_version(), "prunelib": __version__}
    for pkg in VERSIONED:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    commit, dirty = _git("rev-parse", "HEAD"), _git("status", "--porcelain", "--", "prunelib", "notebooks")
    if commit == "unknown" and os.environ.get(COMMIT_VARIABLE):  # a copy of the code without its .git folder
        commit, _, modified = os.environ[COMMIT_VARIABLE].partition("+")
        dirty = "modified" if modified else ""
    # the data folder as the stage found it (a notebook runs in notebooks/, so a path relative to the project is
    # resolved like prunelib.paths.resolve does), written relative to the project
    return {"profile": profile, "data": paths.portable(paths.resolve(data)) if data else None, "seed": seed,
            "device": device,
            "versions": versions, "git_commit": commit,
            "git_dirty": bool(dirty and dirty != "unknown"), "machine": platform.platform(), "cpu": cpu(),
            **({"gpu": _gpu_name(device)} if device.startswith("cuda") else {})}


def hardware(device: str) -> str:
    """What computes on ``device``: the GPU's name on CUDA, else the CPU as :func:`cpu` names it."""
    return (_gpu_name(device) or device) if device.startswith("cuda") else cpu()


def _gpu_name(device: str) -> str | None:
    import torch
    try:
        return torch.cuda.get_device_name(torch.device(device))
    except (RuntimeError, AssertionError, ValueError):
        return None


#: the CPU features that decide how fast (and, in bf16, with which rounding) a CPU trains and explains
CPU_FEATURES = ("amx_bf16", "avx512_bf16")


def cpu_fields(cpuinfo: str | None = None) -> dict[str, str] | None:
    """The first processor's fields of ``cpuinfo`` (the text of ``/proc/cpuinfo``, read when None; None where
    there is none)."""
    try:
        info = Path("/proc/cpuinfo").read_text() if cpuinfo is None else cpuinfo
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in fields.items()}


def bf16_features(fields: dict[str, str]) -> list[str]:
    """The bf16 features of :data:`CPU_FEATURES` that a CPU's flags (:func:`cpu_fields`) name."""
    return [f for f in CPU_FEATURES if f in fields.get("flags", "").split()]


def cpu(cpuinfo: str | None = None) -> str:
    """The CPU as timings name it: its model and its bf16 features (``"AMD EPYC (avx512_bf16)"``), from
    ``cpuinfo`` (the text of ``/proc/cpuinfo``, read when None). The numbers of two CPU models differ, so a
    retrained network reproduces its checkpoint's digest only on the same kind."""
    fields = cpu_fields(cpuinfo)
    if fields is None:
        return platform.processor() or platform.machine()
    features = bf16_features(fields)
    name = fields.get("model name") or platform.processor() or platform.machine()
    return name + (f" ({', '.join(features)})" if features else "")


def stage_dir(out_dir: str | None, profile: str, stage: str) -> Path:
    """The folder a notebook writes to: ``out_dir`` when the runner injects one, else ``results/<profile>/<stage>``."""
    out = paths.resolve(out_dir) if out_dir else paths.results_dir(profile) / stage
    out.mkdir(parents=True, exist_ok=True)
    return out


def describe(profile: str, data: str | None, device: str, seed: int) -> dict:
    """The provenance of a stage about to run (shown above its results); :func:`save` it once the stage succeeded."""
    return provenance(profile, data, device, seed)


def save(out: Path, info: dict) -> None:
    """Write ``out/provenance.json``: the last cell of a stage's notebook, so a failed stage writes none."""
    save_json(info, Path(out) / "provenance.json")


def commit_label(info: dict) -> str:
    """The commit of a provenance record as captions print it: ``0be627586f`` or ``0be627586f+modified``."""
    return info["git_commit"][:10] + ("+modified" if info.get("git_dirty") else "")


def caption(info: dict) -> str:
    """A one-line source note for a figure or table: data set, profile, seed, commit."""
    commit = commit_label(info)
    data = f"ImageNette ({Path(info['data']).name})" if info.get("data") else "ImageNette"
    return f"{data} · profile {info['profile']} · seed {info['seed']} · commit {commit}"


@dataclass(frozen=True)
class Source:
    """What a figure is drawn from: the results file(s) it reads and where their numbers come from (a
    :func:`caption` line, or the sweep's)."""

    files: tuple[str | Path, ...]
    note: str = ""


def published(path: str | Path) -> str:
    """Where a results file is read by others: relative to the project, and for a file in the runner's staging
    folder (``results/<profile>/.staging/<stage>/...``), where it lands once the stage succeeded."""
    return str(Path(*(part for part in Path(paths.portable(path)).parts if part != STAGING)))


def figure_caption(plot: Callable, source: Source) -> str:
    """Two lines under a figure: which function drew it from which results file(s), then :attr:`Source.note`.

    ``Drawn by prunelib.figures.faithfulness.plot_gini from results/cpu/faithfulness/metrics.json``
    ``ImageNette (imagenette2-224) · profile cpu · seed 0 · commit 0be627586f``
    """
    drawn = f"Drawn by {plot.__module__}.{plot.__qualname__} from {', '.join(map(published, source.files))}"
    return f"{drawn}\n{source.note}" if source.note else drawn


def stage_timings(results: Path, accuracy: dict) -> list[dict]:
    """The rows of the book's timing table for one profile's ``results`` folder.

    One row per stage in ``manifest.json`` (except the comparison, which is the notebook drawing the table and
    cannot time itself) with its wall time and the commit in the stage's ``provenance.json``; then the training
    compute time summed from ``accuracy`` (stage 1's ``accuracy.json``): the training stage reuses finished
    checkpoints, so its own row times only its last call.
    """
    manifest_file = Path(results) / "manifest.json"
    stages = json.loads(manifest_file.read_text())["stages"] if manifest_file.exists() else {}

    def commit(stage: str) -> str | None:
        f = Path(results) / stage / "provenance.json"
        return json.loads(f.read_text())["git_commit"][:10] if f.exists() else None

    rows = [{"stage": k, "wall time (s)": v.get("seconds"), "finished": v.get("finished"), "commit": commit(k)}
            for k, v in stages.items() if k != "comparison"]
    epochs = [h.get("seconds") for h in accuracy["dense_history"]]  # None: a run that did not record it
    rows.append({"stage": "training: dense network, sum of epoch times",
                 "wall time (s)": None if None in epochs else round(sum(epochs), 1)})
    rows.append({"stage": "training: pruning + fine-tuning, sum over levels",
                 "wall time (s)": round(sum(r.get("finetune_seconds") or 0 for r in accuracy["levels"]), 1)})
    return rows
