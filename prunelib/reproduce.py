"""One-command reproduction: run the book's notebooks in order with papermill for a profile.

``python -m prunelib reproduce --profile smoke|cpu|paper [--data PATH] [--device auto|cpu|cuda] [--force]``

- The profile's parameters (``prunelib/profiles.yaml``) are injected into each notebook's ``parameters`` cell
  (only the ones it declares); executed notebooks are written to ``book/notebooks/`` where ``_toc.yml`` expects them.
- Each stage writes into a staging folder; only when the whole notebook succeeds does it replace
  ``results/<profile>/<stage>/`` and the executed notebook, so a failed stage leaves the last good outputs in place
  and the runner says which cell failed.
- A stage is skipped when its fingerprint (parameters, notebook source, prunelib source and version, and the
  fingerprints of the stages before it) is unchanged and its outputs exist.
- ``results/<profile>/manifest.json`` records profile, data path, seed, device, package versions, git commit and
  per-stage times; the book prints it next to the results.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import papermill
import yaml
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

from . import __version__, paths
from . import data as imagenette
from .checkpoint import save_json
from .models import resolve_device
from .provenance import provenance

#: (stage name, notebook file) in execution order; a stage's results go to ``results/<profile>/<stage>/``.
STAGES: tuple[tuple[str, str], ...] = (
    ("training", "01_training.ipynb"),
    ("saliency", "02_saliency.ipynb"),
    ("faithfulness", "03_faithfulness.ipynb"),
    ("concepts", "04_concepts.ipynb"),
    ("explorer", "05_explorer.ipynb"),
    ("comparison", "06_paper_vs_reproduction.ipynb"),
)
NOTEBOOKS = paths.ROOT / "notebooks"
BOOK_NOTEBOOKS = paths.ROOT / "book" / "notebooks"
PROFILES_FILE = Path(__file__).with_name("profiles.yaml")


def load_profile(name: str) -> dict:
    """The parameters of profile ``name`` from ``profiles.yaml`` (ValueError listing the profiles if unknown)."""
    profiles = yaml.safe_load(PROFILES_FILE.read_text())
    if name not in profiles:
        raise ValueError(f"unknown profile {name!r}; {PROFILES_FILE} defines {', '.join(profiles)}")
    return dict(profiles[name])


def _source_digest() -> str:
    h = hashlib.sha256(__version__.encode())
    for f in sorted(Path(__file__).parent.rglob("*")):
        if f.suffix in (".py", ".yaml") and "__pycache__" not in f.parts:
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def fingerprint(params: dict, notebook: Path, upstream: str) -> str:
    """sha256 of the parameters, the notebook source, prunelib's source and the upstream fingerprint."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    h.update(notebook.read_bytes())
    h.update(_source_digest().encode())
    h.update(upstream.encode())
    return h.hexdigest()


def _swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` (a file or folder) by ``staging`` with the old version removed only afterwards."""
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old) if old.is_dir() else old.unlink()


def reproduce(profile: str, *, data: str | None = None, device: str = "auto", force: bool = False,
              only: list[str] | None = None, stages: tuple[tuple[str, str], ...] = STAGES,
              notebooks: Path = NOTEBOOKS, book_notebooks: Path = BOOK_NOTEBOOKS) -> int:
    """Run the stages of ``profile``; return 0 on success, 1 if a stage failed (its old outputs are kept)."""
    params = load_profile(profile)
    unknown = set(only or ()) - {name for name, _ in stages}
    if unknown:
        raise ValueError(f"--only names unknown stages {sorted(unknown)}; stages are {[n for n, _ in stages]}")
    resolved = str(resolve_device(device))
    data = str(imagenette.locate(data).resolve())  # the folder actually used, absolute: notebooks run elsewhere
    params.update(profile=profile, data=data, device=resolved)
    results = paths.results_dir(profile)
    manifest_path = results / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"stages": {}}
    manifest.update(provenance(profile, data, resolved, params.get("seed", 0)), params=params)
    upstream, status = "", 0
    bar = tqdm(stages, desc=f"reproduce --profile {profile}", unit="stage")
    for name, notebook_name in bar:
        bar.set_postfix_str(name)
        record = manifest["stages"].get(name, {})
        if only and name not in only:
            upstream = record.get("fingerprint", "")
            tqdm.write(f"[{name}] not selected, skipped")
            continue
        source, executed = notebooks / notebook_name, book_notebooks / notebook_name
        declared = papermill.inspect_notebook(str(source))
        stage_params = {k: v for k, v in params.items() if k in declared}
        stage_params["out_dir"] = str(results / ".staging" / name)
        key = fingerprint({k: v for k, v in stage_params.items() if k != "out_dir"}, source, upstream)
        upstream = key
        if not force and record.get("fingerprint") == key and (results / name).exists() and executed.exists():
            tqdm.write(f"[{name}] up to date, skipped")
            continue
        staging = Path(stage_params["out_dir"])
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        executed.parent.mkdir(parents=True, exist_ok=True)
        tmp_nb = staging.parent / notebook_name  # the failed notebook stays here for inspection
        t0 = time.perf_counter()
        os.environ["TQDM_DISABLE"] = "1"  # a bar would be frozen into the executed notebook; the runner's shows
        backend = os.environ.pop("MPLBACKEND", None)  # Agg would glue figures as text instead of images
        try:
            papermill.execute_notebook(str(source), str(tmp_nb), parameters=stage_params, cwd=str(notebooks),
                                       progress_bar=False, kernel_name="python3")
        except PapermillExecutionError as err:
            tqdm.write(f"[{name}] FAILED in cell {err.cell_index} ({err.ename}: {err.evalue}); "
                       f"the previous outputs of this stage are kept; the failed notebook is {tmp_nb}")
            status = 1
            break
        finally:
            os.environ.pop("TQDM_DISABLE", None)
            if backend is not None:
                os.environ["MPLBACKEND"] = backend
        seconds = time.perf_counter() - t0
        _swap_in(staging, results / name)
        tmp_nb.replace(executed)
        manifest["stages"][name] = {"fingerprint": key, "seconds": round(seconds, 1),
                                    "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        save_json(manifest, manifest_path)
        tqdm.write(f"[{name}] done in {seconds:.0f} s")
    save_json(manifest, manifest_path)
    return status
