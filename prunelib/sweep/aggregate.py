"""A profile's summary and verdicts, drawn from its jobs' result files, all or none.

:func:`aggregate` writes ``results/<profile>/summary.csv``, ``seed_verdicts.json`` (the judging rule,
:mod:`prunelib.sweep.seed_rule`), for the authors' regimes ``decomposition.json``, and ``aggregation.json``: the
digest of what they were drawn from, so that :func:`aggregation_stale` tells whether they still are
(:func:`prunelib.currency.why_stale`). A failed aggregation (a full disk) keeps every file as it was.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable

from .. import paths
from ..currency import digest, why_stale
from .agreement import PICTURE
from .controls import attach as attach_controls
from .decomposition import DECOMPOSITION
from .records import Job, inputs_stale, networks_replaced
from .seed_rule import SEED_VERDICTS
from .summary import SUMMARY_FILE, runs_dir


#: what a sweep writes into ``results/<profile>/``: the jobs' ``runs/`` and what :func:`aggregate` draws from them
OUTPUTS = ("runs", SUMMARY_FILE, SEED_VERDICTS, DECOMPOSITION, PICTURE)


def judge_archive(profile: str, name: str, echo: Callable[[str], None] = print) -> Path:
    """Write ``seed_verdicts.json`` of an archived measurement of ``profile`` (``results/<profile>/<name>/``,
    :func:`prunelib.sweep.summary.archive_dir`): the judging rule of today applied to its jobs as they were
    measured, each seed's effects paired over the images its own job explained. Its other files stay as written."""
    from ..checkpoint import save_json
    from ..reference import load_reference
    from .seed_rule import load_concepts, seed_verdicts
    from .summary import archive_dir, load_runs

    runs = load_runs(profile, archive=name)
    if not runs:
        raise FileNotFoundError(f"{paths.portable(archive_dir(profile, name) / 'runs')} holds no job's result file")
    out = archive_dir(profile, name) / SEED_VERDICTS
    save_json(seed_verdicts(runs, load_reference(),
                            concept_runs=load_concepts(runs, archive_dir(profile, name) / "runs" / "concepts")), out)
    echo(f"{paths.portable(out)}: the judging rule on {len(runs)} archived jobs")
    return out


def aggregate(profile: str, data: str | None, echo: Callable[[str], None] = print) -> list[str]:
    """Write ``summary.csv``, ``seed_verdicts.json`` (the judging rule, :mod:`prunelib.sweep.seed_rule`) and,
    for the authors' regimes, ``decomposition.json`` (:mod:`prunelib.sweep.decomposition`) of ``profile`` from its
    current result files, all or none; and where the networks' maps are on this machine, the side-by-side picture
    of the agreement chapter (:func:`prunelib.sweep.agreement.picture`).

    A regime's unpruned control trained in a job of its own (global pruning's fine-tuned control) is judged as that
    regime's control (:func:`prunelib.sweep.controls.attach`). Every result file is checked (readable, its own name
    and profile, made from today's inputs: a file of other
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
        why = inputs_stale(Job(profile, int(run["seed"]), str(run["regime"]), data=data), run)
        trained_again = [] if why else networks_replaced(run)
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
        runs, unattached = attach_controls(runs)
        for line in unattached:
            echo(line)
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
