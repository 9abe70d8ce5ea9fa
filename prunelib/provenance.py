"""Where every number comes from: profile, data, seed, device, package versions and the git commit."""
from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from . import __version__, paths
from .checkpoint import save_json

VERSIONED = ("torch", "torchvision", "captum", "scikit-learn", "scipy", "numpy", "papermill", "matplotlib")


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
    dirty = _git("status", "--porcelain", "--", "prunelib", "notebooks")
    return {"profile": profile, "data": str(data) if data else None, "seed": seed, "device": device,
            "versions": versions, "git_commit": _git("rev-parse", "HEAD"),
            "git_dirty": bool(dirty and dirty != "unknown"), "machine": platform.platform()}


def stage_dir(out_dir: str | None, profile: str, stage: str) -> Path:
    """The folder a notebook writes to: ``out_dir`` when the runner injects one, else ``results/<profile>/<stage>``."""
    out = Path(out_dir) if out_dir else paths.results_dir(profile) / stage
    out.mkdir(parents=True, exist_ok=True)
    return out


def record(out: Path, profile: str, data: str | None, device: str, seed: int) -> dict:
    """Write ``out/provenance.json`` and return it (a notebook shows it above its results)."""
    info = provenance(profile, data, device, seed)
    save_json(info, out / "provenance.json")
    return info


def caption(info: dict) -> str:
    """A one-line source note for a figure or table: data set, profile, seed, commit."""
    commit = info["git_commit"][:10] + ("+modified" if info.get("git_dirty") else "")
    data = f"ImageNette ({Path(info['data']).name})" if info.get("data") else "ImageNette"
    return f"{data} · profile {info['profile']} · seed {info['seed']} · commit {commit}"
