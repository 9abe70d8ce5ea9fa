"""One-command reproduction: run the book's notebooks in order with papermill for a profile.

``python -m prunelib reproduce --profile smoke|noise|authors|... [--data PATH] [--device auto|cpu|cuda] [--force]``

- The chapters on training, saliency maps, faithfulness, concepts and the explorer draw one job of the profile's
  sweep (its ``seed``, :data:`CHAPTER_REGIME` pruning; :mod:`prunelib.chapters.study`, which only reads): reproduce
  first runs that job through the sweep's engine, which trains, prunes, measures and draws only what is not current. The other
  chapters draw what the profile's sweeps wrote (``python -m prunelib sweep``).
- The profile's parameters (``prunelib/profiles.yaml``) are injected into each notebook's ``parameters`` cell
  (only the ones it declares), paths relative to the project root so that no machine's folders are published.
- Executed notebooks are kept per profile: the book's profiles (:data:`BOOK_PROFILES`) write them to
  ``book/notebooks/`` where ``_toc.yml`` expects them, every other profile to ``results/<profile>/notebooks/``,
  so a smoke run never replaces what the book shows.
- Each stage writes into a staging folder; only when the whole notebook succeeds does it replace
  ``results/<profile>/<stage>/`` and the executed notebook, so a failed stage leaves the last good outputs in place
  and the runner says which cell failed. A notebook that wrote anything to stderr (a warning, a progress bar)
  has failed too: the runner names the cell and the first line, and the cause is to be fixed, not hidden.
- A stage is skipped when its fingerprint (:mod:`prunelib.fingerprints`: its parameters, its notebook, the
  prunelib modules the notebook imports, and the content of the results of the stages before it) equals the one
  stored in its executed notebook and in the manifest, and its outputs are there as it wrote them
  (:func:`stage_stale`). A change to one figure's code re-runs the stages that draw it, not the training.
- Before the notebooks, the sweep's summary and verdicts are aggregated again when a result file they are drawn
  from (the chapters' job's among them), the profile's settings or the data changed (:func:`aggregated`); one
  ``reproduce`` of a profile runs at a time (:func:`profile_lock`).
- ``results/<profile>/manifest.json`` records, per stage that succeeded, its fingerprint, time, parameters and
  provenance (data, seed, device, package versions, git commit); the run's own provenance at the top is
  written only when every stage it ran succeeded, so it never names inputs no result came from.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import papermill
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

from . import paths, runs
from . import data as imagenette
from .checkpoint import save_json, swap_in
from .currency import digest, why_stale
from .fingerprints import results_digest, stage_inputs
from .kernel import LocalKernelManager
from .models import resolve_device
from .profiles import PROFILES_FILE, load_profile, load_settings, profiles_file  # noqa: F401 (re-exported)
from .typed_settings import DEFAULT_STAGES  # noqa: F401 (re-exported)
from .progress import BATCH
from .provenance import STAGING, provenance

#: (stage name, notebook file) in execution order; a stage's results go to ``results/<profile>/<stage>/``.
STAGES: tuple[tuple[str, str], ...] = (
    ("training", "01_training.ipynb"),
    ("saliency", "02_saliency.ipynb"),
    ("faithfulness", "03_faithfulness.ipynb"),
    ("concepts", "04_concepts.ipynb"),
    ("explorer", "05_explorer.ipynb"),
    ("comparison", "06_paper_vs_reproduction.ipynb"),
    ("noise", "07_noise.ipynb"),
    ("authors", "08_authors_code.ipynb"),
)
#: the stages that draw one job of the profile's sweep (:mod:`prunelib.chapters.study`: seed ``seed``, regime
#: :data:`CHAPTER_REGIME`); reproduce runs that job first, through the sweep's engine
JOB_STAGES = ("training", "saliency", "faithfulness", "concepts", "explorer")
CHAPTER_REGIME = "global"
NOTEBOOKS = paths.ROOT / "notebooks"
BOOK_NOTEBOOKS = paths.ROOT / "book" / "notebooks"
#: the profiles whose executed notebooks the book shows (chapters 1-7: noise, the study; "What the authors' code
#: did": authors)
BOOK_PROFILES = ("noise", "authors")


def sweep_outputs(profiles: list[str]) -> list[Path]:
    """What the sweeps of ``profiles`` have written (:data:`prunelib.sweep.aggregate.OUTPUTS`): a chapter drawn from
    it is current only while it is unchanged."""
    from .sweep.aggregate import OUTPUTS
    return [f for p in dict.fromkeys(profiles) for f in (paths.results_dir(p) / name for name in OUTPUTS)
            if f.exists()]


def executed_dir(profile: str, book_notebooks: Path = BOOK_NOTEBOOKS) -> Path:
    """Where ``profile``'s executed notebooks are kept: the book's folder for :data:`BOOK_PROFILES`, else
    ``results/<profile>/notebooks/``."""
    return book_notebooks if profile in BOOK_PROFILES else paths.results_dir(profile) / "notebooks"


def stored_fingerprint(notebook: Path) -> str | None:
    """The fingerprint the runner stored in an executed notebook's metadata (None if absent or unreadable)."""
    try:
        return json.loads(notebook.read_text())["metadata"].get("prunelib", {}).get("fingerprint")
    except (OSError, ValueError, KeyError):
        return None


def stderr_outputs(notebook: Path) -> list[tuple[int, str, str]]:
    """Every stderr output of an executed notebook: (cell index, the cell's first source line, the output's first
    non-blank line), in cell order."""
    found = []
    for index, cell in enumerate(json.loads(Path(notebook).read_text())["cells"]):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = "".join(output.get("text", ""))
                first = next((line.strip() for line in text.splitlines() if line.strip()), "")
                source = "".join(cell.get("source", "")).strip().splitlines()
                found.append((index, source[0] if source else "", first))
    return found


#: the cells the book folds away (a "Show code cell" toggle): the notebook's defaults and the values papermill injected
FOLDED = ("parameters", "injected-parameters")


def fold_parameters(nb: dict) -> dict:
    """Tag the parameter cells of an executed notebook (``nb``, as JSON) ``hide-cell``: the book shows them folded,
    since every figure's caption already says which profile, data and seed it shows."""
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if any(t in tags for t in FOLDED) and "hide-cell" not in tags:
            tags.append("hide-cell")
    return nb


def _stamp(notebook: Path, source: Path, executed: Path, **info: str) -> None:
    """Store the runner's ``info`` in the executed notebook and papermill's paths relative to the project, and fold
    its parameter cells (:func:`fold_parameters`)."""
    nb = fold_parameters(json.loads(notebook.read_text()))
    nb["metadata"]["prunelib"] = info
    nb["metadata"].setdefault("papermill", {}).update(input_path=paths.portable(source), output_path=paths.portable(executed))
    notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def read_manifest(path: Path) -> dict:
    """``results/<profile>/manifest.json``: ``{"stages": {name: record}, ...}``. It only says which stages are
    current, so one that is missing or not such a mapping is named and begun anew (every stage then runs again)."""
    if not path.is_file():
        return {"stages": {}}
    try:
        manifest = json.loads(path.read_text())
        if isinstance(manifest, dict) and isinstance(manifest.get("stages"), dict) and all(
                isinstance(r, dict) for r in manifest["stages"].values()):
            return manifest
        why = "not a mapping with the stages' records"
    except (OSError, ValueError) as err:
        why = f"not readable ({err})"
    tqdm.write(f"{paths.portable(path)} is {why}: begun anew, so every stage runs again")
    return {"stages": {}}


def stage_stale(record: dict, inputs: dict, executed: Path, outputs: Path) -> str | None:
    """Why a stage is not current (None: it is): its manifest ``record`` must hold the stage's declared ``inputs``
    as they are now (:func:`prunelib.fingerprints.stage_inputs`, :func:`prunelib.currency.why_stale`), its executed
    notebook their fingerprint, and its ``outputs`` folder must be there with the content it had when the stage
    wrote it (a file deleted or changed since makes the stage run again)."""
    if record.get("inputs") is None:
        return "its manifest record names no inputs"
    why = why_stale(record["inputs"], inputs)
    if why:
        return f"its inputs changed ({'; '.join(why[:3])}{'; ...' if len(why) > 3 else ''})"
    if stored_fingerprint(executed) != digest(inputs):
        return f"{paths.portable(executed)} is not the notebook these inputs executed"
    if not outputs.is_dir():
        return f"{paths.portable(outputs)} is missing"
    if record.get("outputs") != results_digest([outputs]):
        return f"{paths.portable(outputs)} changed since the stage wrote it"
    return None


@contextlib.contextmanager
def profile_lock(profile: str) -> Iterator[None]:
    """Hold ``profile``'s lock for one ``reproduce`` (``results/<profile>/.staging/.lock``): a second one at the
    same time stops at once with :class:`prunelib.runs.Busy` saying who runs it."""
    try:
        with runs.locked(paths.results_dir(profile) / STAGING, wait=False):
            yield
    except runs.Busy as err:
        raise runs.Busy(f"reproduce --profile {profile} is running already ({err}); run it again when that one "
                        "has finished") from None


def reproduce(profile: str, *, data: str | None = None, device: str = "auto", force: bool = False,
              only: list[str] | None = None, stages: tuple[tuple[str, str], ...] = STAGES,
              notebooks: Path = NOTEBOOKS, book_notebooks: Path = BOOK_NOTEBOOKS) -> int:
    """Run the stages of ``profile``; return 0 on success, 1 if a stage failed (its old outputs are kept). One
    reproduce of a profile runs at a time (:func:`profile_lock`); SIGTERM stops it as Ctrl-C does, its kernel
    shut down."""
    from .sweep.job import stopped_by_sigterm
    load_settings(profile)  # an unknown profile is named before the lock is taken
    with stopped_by_sigterm(), profile_lock(profile):
        return _reproduce(profile, data=data, device=device, force=force, only=only, stages=stages,
                          notebooks=notebooks, book_notebooks=book_notebooks)


def _reproduce(profile: str, *, data: str | None, device: str, force: bool, only: list[str] | None,
               stages: tuple[tuple[str, str], ...], notebooks: Path, book_notebooks: Path) -> int:
    settings = load_settings(profile)
    params = dict(settings.raw)
    if stages is STAGES:  # the shipped stages: the ones this profile names (default: the six of the book)
        params.pop("stages", None)
        stages = tuple(st for st in STAGES if st[0] in settings.stages)
    unknown = set(only or ()) - {name for name, _ in stages}
    if unknown:
        raise ValueError(f"--only names unknown stages {sorted(unknown)}; stages are {[n for n, _ in stages]}")
    resolved = str(resolve_device(device))
    root = imagenette.locate(data)
    data, contents = paths.portable(root), imagenette.split_digests(root)  # the folder used, relative to the root
    params.update(profile=profile, data=data, device=resolved, regime=CHAPTER_REGIME)
    results = paths.results_dir(profile)
    manifest_path = results / "manifest.json"
    manifest = read_manifest(manifest_path)
    run_provenance = dict(provenance(profile, data, resolved, settings.seed), params=params)
    if {name for name, _ in stages} & set(JOB_STAGES) and not only:
        # the chapters' networks: the sweep's engine trains, measures and draws what is not current
        from .sweep.job import run_job
        from .sweep.records import Job
        from .sweep.records import is_done
        job = Job(profile, settings.seed, CHAPTER_REGIME, data=data, device=resolved)
        try:
            if not is_done(job):
                run_job(job, progress=True)
        except runs.Busy as err:
            raise runs.Busy(f"the chapters' job ({CHAPTER_REGIME}-seed{settings.seed}) is being run by "
                            f"another process ({err}); run reproduce again when it has finished") from None
    if not aggregated(profile, data):  # the chapters read the sweep's summary and verdicts too
        return 1
    executed_folder = executed_dir(profile, book_notebooks)
    done_before: list[Path] = []  # the results folders of the stages before this one: its inputs
    status, ran = 0, False
    bar = tqdm(stages, desc=f"reproduce --profile {profile}", unit="stage")
    for name, notebook_name in bar:
        bar.set_postfix_str(name)
        record = manifest["stages"].get(name, {})
        if only and name not in only:
            done_before.append(results / name)
            tqdm.write(f"[{name}] not selected, skipped")
            continue
        source, executed = notebooks / notebook_name, executed_folder / notebook_name
        declared = papermill.inspect_notebook(str(source))
        stage_params = {k: v for k, v in params.items() if k in declared}
        staging = results / STAGING / name
        if "out_dir" in declared:  # a chapter that only draws earlier results writes nothing of its own
            stage_params["out_dir"] = paths.portable(staging)
        inputs = {k: v for k, v in stage_params.items() if k != "out_dir"}
        if "data" in declared:  # the images' contents, not only their path: other images there re-run the stage
            inputs["data_contents"] = contents
        read = [profile] + [v for k, v in stage_params.items() if k.endswith("_profile") and isinstance(v, str)]
        # the settings of the profiles it reads, as written: a chapter may say what a profile designs (its study)
        inputs["profiles"] = {p: dict(load_settings(p).raw) for p in dict.fromkeys(read)}
        now = stage_inputs(inputs, source, upstream=[d for d in done_before if d.is_dir()] + sweep_outputs(read))
        key = digest(now)
        done_before.append(results / name)
        why = stage_stale(record, now, executed, results / name)
        if not force and why is None:
            tqdm.write(f"[{name}] up to date, skipped")
            continue
        if not force and record:
            tqdm.write(f"[{name}] runs again: {why}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        tmp_nb = staging.parent / notebook_name  # the failed notebook stays here for inspection
        t0 = time.perf_counter()
        os.environ[BATCH] = "1"  # the kernel's bars go to this terminal, not into the notebook (prunelib.progress)
        backend = os.environ.pop("MPLBACKEND", None)  # Agg would glue figures as text instead of images
        try:
            papermill.execute_notebook(str(source), str(tmp_nb), parameters=stage_params, cwd=str(notebooks),
                                       progress_bar=False, kernel_name="python3",
                                       kernel_manager_class=LocalKernelManager)  # Unix sockets, not TCP
        except PapermillExecutionError as err:
            tqdm.write(f"[{name}] FAILED in cell {err.cell_index} ({err.ename}: {err.evalue}); "
                       f"the previous outputs of this stage are kept; the failed notebook is {tmp_nb}")
            status = 1
            break
        finally:
            os.environ.pop(BATCH, None)
            if backend is not None:
                os.environ["MPLBACKEND"] = backend
        stderr = stderr_outputs(tmp_nb)
        if stderr:
            cell, code, first = stderr[0]
            tqdm.write(f"[{name}] FAILED: {notebook_name} wrote to stderr in {len(stderr)} output(s), first in cell "
                       f"{cell} ({code!r}): {first}; the previous outputs of this stage are kept; the executed "
                       f"notebook is {tmp_nb}")
            status = 1
            break
        seconds = time.perf_counter() - t0
        _stamp(tmp_nb, source, executed, profile=profile, stage=name, fingerprint=key)
        swap_in(staging, results / name)
        executed.parent.mkdir(parents=True, exist_ok=True)
        tmp_nb.replace(executed)
        ran = True
        manifest["stages"][name] = {"fingerprint": key, "inputs": now, "outputs": results_digest([results / name]),
                                    "seconds": round(seconds, 1),
                                    "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                    "params": {k: v for k, v in stage_params.items() if k != "out_dir"},
                                    **{k: run_provenance[k] for k in ("data", "device", "git_commit", "git_dirty")}}
        save_json(manifest, manifest_path)
        tqdm.write(f"[{name}] done in {seconds:.0f} s")
    if status == 0 and ran:  # the run's own provenance, only when everything it ran succeeded (and it ran some)
        manifest.update(run_provenance)
        save_json(manifest, manifest_path)
    return status


def aggregated(profile: str, data: str) -> bool:
    """Bring ``profile``'s summary and verdicts up to date with its result files (:func:`prunelib.sweep.aggregate.
    aggregation_stale`), after the chapters' job ran: False, said, where the aggregation failed (the chapters would
    show numbers of other results)."""
    from .sweep.aggregate import aggregate, aggregation_stale
    why = aggregation_stale(profile, data)
    if why is None:
        return True
    tqdm.write(f"the summary and verdicts of {profile} are not drawn from its results as they are now ({why}): "
               "aggregating them again")
    if aggregate(profile, data, tqdm.write):
        tqdm.write(f"reproduce --profile {profile} stopped: its summary and verdicts could not be brought up to date "
                   f"with its results (above); `python -m prunelib sweep --profile {profile} --summary-only` tries "
                   "again")
        return False
    return True
