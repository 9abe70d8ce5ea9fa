"""The sweep's one tidy table: every number of every network of every job, ``results/<profile>/summary.csv``.

Long format, one row per (network, metric)::

    regime, seed, network, level, metric, value, ci_low, ci_high, n_images

``network`` is ``dense``, ``pruned`` or ``control`` (the lottery regime's unpruned control); ``level`` is the
measured percentage of Conv2d + Linear weights removed (0 for the dense network and the control). Metrics, for
each saliency method ``m`` of the profile (lower case): ``top1`` (validation top-1, Wilson 95 % interval over
the validation images), ``gini_m``, ``aopc_morf_m``, ``aopc_lerf_m`` (AOPC, the authors' formula) and
``aopc_gap_m`` = AOPC(MoRF) - AOPC(LeRF), each with a bootstrap 95 % interval over the network's images (the gap's
per image, both orders on the same images); ``aopc_random``, the AOPC of removing pixels in a random order
(MoRF of a uniform random map), and ``aopc_above_random_m``, AOPC MoRF minus the same network's random-order AOPC,
image by image. Under measurement protocol v2 every network is measured on the profile's fixed image set and each
value is over the images of the set it classifies correctly (``n_images``); ``agreement_spearman_m`` and
``agreement_top10_iou_m`` say where a network looks against the dense network of its seed (Spearman rank
correlation and IoU of the top 10 % pixels of the absolute maps, :mod:`prunelib.metrics.agreement`), over the
images both classify correctly. For the seeds with concept metrics (:mod:`prunelib.sweep.concepts`), the mean
over the profile's CRAFT classes of ``coherence_gain`` (top crops' coherence minus random crops', in the dense
network's feature space), ``concept_similarity``, ``importance_entropy`` and ``reconstruction_error``, with no
interval (``n_images``: the images of all classes). Users load it with :func:`load_summary`.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from .. import metrics, paths, regimes
from ..checkpoint import writing
from ..image_set import kept
from ..provenance import commit_label
from ..measure.faithfulness import aopc_of, gini_of, per_image_aopc, per_image_gap
from .records import read_result

COLUMNS = ("regime", "seed", "network", "level", "metric", "value", "ci_low", "ci_high", "n_images")
SUMMARY_FILE = "summary.csv"


def runs_dir(profile: str) -> Path:
    """Where the jobs of ``profile`` write their measurements (one JSON per job)."""
    return paths.results_dir(profile) / "runs"


def load_runs(profile: str, *, skip: Callable[[Path, dict[str, Any]], str | None] | None = None,
              echo: Callable[[str], None] = print, archive: str | None = None) -> list[dict[str, Any]]:
    """Every finished job of ``profile``: the result files of :func:`runs_dir` (each checked by :func:`prunelib.sweep.records.read_result`),
    sorted by regime and seed. ``skip(path, run)`` may return why a file is left out (the sweep's check that it
    is current); that is reported through ``echo``. ``archive``: the jobs of an archived measurement instead
    (:func:`archive_dir`)."""
    runs = []
    for f in sorted((archive_dir(profile, archive) / "runs" if archive else runs_dir(profile)).glob("*.json")):
        run = read_result(f, profile)
        why = skip(f, run) if skip else None
        if why:
            echo(f"{paths.portable(f)} left out of the summary: {why}")
            continue
        runs.append(run)
    return sorted(runs, key=lambda r: (r["regime"], r["seed"]))


def wilson(p: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95 % interval of a proportion ``p`` observed on ``n`` trials."""
    centre, spread = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def _n_val(network: dict[str, Any]) -> int | None:
    if "n_val" in network:
        return network["n_val"]
    run_file = paths.resolve(network["checkpoint"]).parent / "run.json"  # the job's own identity record, where present
    return json.loads(run_file.read_text())["data"]["n_val"] if run_file.is_file() else None


def network_rows(run: dict[str, Any], network: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The rows of one measured network of a job (see the module docstring)."""
    key = {"regime": run["regime"], "seed": run["seed"], "network": network["network"],
           "level": round(network["level"], 3)}
    keep = kept(network)
    n = int(keep.sum())
    n_val = _n_val(network)
    low, high = wilson(network["top1"], n_val) if n_val else (None, None)
    yield {**key, "metric": "top1", "value": network["top1"], "ci_low": low, "ci_high": high, "n_images": n_val}
    n_boot, seed = run["settings"]["n_bootstrap"], run["settings"]["image_seed"]

    def interval(values: torch.Tensor) -> dict[str, Any]:
        if not len(values):
            return {"value": None, "ci_low": None, "ci_high": None, "n_images": 0}
        ci = metrics.bootstrap_ci(values, n_boot=n_boot, seed=seed)
        return {"value": float(ci.estimate), "ci_low": float(ci.low), "ci_high": float(ci.high), "n_images": n}

    for method, entry in network["methods"].items():
        m = method.lower()
        if "gini_mean" in entry:
            g = gini_of(entry)
            yield {**key, "metric": f"gini_{m}", "value": g["estimate"], "ci_low": g["low"], "ci_high": g["high"],
                   "n_images": n}
        for order in entry["road"]:
            a = aopc_of(entry, order)
            name = f"aopc_{order}_{m}" if method != "random" else "aopc_random"
            yield {**key, "metric": name, "value": a["estimate"], "ci_low": a["low"], "ci_high": a["high"],
                   "n_images": n}
        if {"morf", "lerf"} <= set(entry["road"]):
            yield {**key, "metric": f"aopc_gap_{m}", **interval(per_image_gap(entry)[keep])}
        agree = network.get("agreement", {}).get(method)
        if agree is not None and network["network"] != "dense":
            for measure, values in agree.items():
                yield {**key, "metric": f"agreement_{measure}_{m}", **interval(torch.tensor(values, dtype=torch.float64)),
                       "n_images": len(values)}
        random = network["methods"].get("random")
        if method != "random" and random is not None and len(random["road"]["morf"]["correct"]) == len(keep):
            above = per_image_aopc(entry, "morf") - per_image_aopc(random, "morf")  # the same images, paired
            yield {**key, "metric": f"aopc_above_random_{m}", **interval(above[keep])}


#: the concept metrics of the summary: name -> how to read it from one class's entry of a concept file
CONCEPT_METRICS = {"coherence_gain": lambda e: e["coherence"]["gain"],
                   "concept_similarity": lambda e: e["concept_similarity"],
                   "importance_entropy": lambda e: e["importance_entropy"],
                   "reconstruction_error": lambda e: e["reconstruction_error"]}


def concept_rows(job: dict[str, Any], network: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The concept rows of one network of a job's concept file: each metric's mean over the classes (a class
    whose value is undefined, e.g. the entropy of all-zero importances, is left out; none defined: no row)."""
    key = {"regime": job["regime"], "seed": job["seed"], "network": network["network"],
           "level": round(network["level"], 3)}
    n = sum(c["n_images"] for c in network["classes"].values())
    for metric, read in CONCEPT_METRICS.items():
        values = [read(c) for c in network["classes"].values() if read(c) is not None]
        if values:
            yield {**key, "metric": metric, "value": sum(values) / len(values), "ci_low": None, "ci_high": None,
                   "n_images": n}


def summary_rows(runs: list[dict[str, Any]], concept_jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row of the summary table from the jobs' result files and concept files. A job's file whose content
    is not what this table reads (a missing key) is a ValueError naming the job."""
    rows = []
    for run in runs:
        try:
            rows += [row for network in run["networks"] for row in network_rows(run, network)]
        except (KeyError, TypeError, IndexError) as err:
            raise ValueError(f"the result of job {run['regime']}-seed{run['seed']} (profile {run['profile']}) lacks "
                             f"{err} : remove it and run the sweep again") from None
    rows += [row for job in concept_jobs for network in job["networks"] for row in concept_rows(job, network)]
    return rows


def write_summary(profile: str, runs: list[dict[str, Any]] | None = None,
                  extra: list[dict[str, Any]] = (), out: Path | None = None) -> Path:
    """Aggregate every finished job of ``profile`` (or ``runs``) into ``results/<profile>/summary.csv`` (or ``out``,
    written in place), written atomically; ``extra`` rows (the seed-to-seed agreement baseline) are appended."""
    from .concepts import load_concepts
    rows = summary_rows(load_runs(profile) if runs is None else runs, load_concepts(profile)) + list(extra)
    if not rows:
        raise FileNotFoundError(f"no finished jobs in {runs_dir(profile)}: run `python -m prunelib sweep "
                                f"--profile {profile}` first")
    if out is None:
        with writing(paths.results_dir(profile) / SUMMARY_FILE) as tmp:
            _write_rows(rows, tmp)
        return paths.results_dir(profile) / SUMMARY_FILE
    _write_rows(rows, out)
    return out


def _write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(row[k]) for k in COLUMNS})


def _fmt(value: Any) -> Any:
    return "" if value is None else f"{value:.6g}" if isinstance(value, float) else value


def archive_dir(profile: str, name: str) -> Path:
    """Where an archived measurement of ``profile`` lies, ``results/<profile>/<name>/`` (its ``runs/``,
    ``summary.csv``, ``seed_verdicts.json`` and, for ``protocol-v1``, the noise floors of the retired floor rule in
    ``verdicts.json``, as they were): ``protocol-v1``, the noise study as measured before the fixed image set,
    whose jobs the sweep no longer counts."""
    return paths.results_dir(profile) / name


def load_summary(profile: str, archive: str | None = None):
    """``results/<profile>/summary.csv`` (or an ``archive``'s, :func:`archive_dir`) as a pandas DataFrame (one row
    per network and metric)."""
    import pandas as pd
    return pd.read_csv((archive_dir(profile, archive) if archive else paths.results_dir(profile)) / SUMMARY_FILE)


def caption(profile: str, archive: str | None = None) -> str:
    """Where the sweep's numbers come from, in one line: data, profile, image size, ROAD precision, and per job
    its seed, regime and the commit that measured it, the GPU where one ran it, and how far a job stopped before its
    last network got (``archive``: those of an archived measurement)."""
    runs = load_runs(profile, archive=archive)
    if not runs:
        return f"profile {profile}: no finished jobs"
    first = runs[0]
    data = (first.get("provenance") or {}).get("data")
    jobs = "; ".join(f"{r['regime']} seed {r['seed']} @ {_commit(r)}{_where_and_how_far(r)}" for r in runs)
    return (f"ImageNette ({Path(data).name if data else 'data not recorded'}) · profile {profile} · "
            f"{first['settings']['image_size']} px · ROAD classified in {first['settings']['road_precision']} · "
            f"{_images(first)} · jobs: {jobs}")


def _images(run: dict[str, Any]) -> str:
    settings = run["settings"]
    if "image_set_per_class" in settings:  # protocol 2: one fixed set
        return (f"one fixed set of {settings['image_set_per_class']} validation images per class (seed "
                f"{settings['image_set_seed']}), each network's metrics over those it classifies correctly")
    return f"{settings['n_images']} images per network"


def _where_and_how_far(run: dict[str, Any]) -> str:
    """`` on NVIDIA H200`` where a GPU ran the job, and `` (stopped at 30 %)`` where it stopped before its last
    network (`` (stopped after round 1)`` for a regime of rounds whose networks are labelled by their measured
    sparsity, which the authors' code path lets grow back); empty for a complete job on a CPU."""
    gpu = (run.get("provenance") or {}).get("gpu")
    pruned = [n for n in run["networks"] if n["network"] == "pruned" and "level" in n]
    stopped = not run.get("complete", True)
    if stopped and pruned and regimes.get(run["regime"]).method == "authors":
        far = f" (stopped after round {max(n['round'] for n in pruned)})"
    elif stopped and pruned:
        far = f" (stopped at {max(n['level'] for n in pruned):.0f} %)"
    else:
        far = " (stopped)" if stopped else ""
    return (f" on {gpu}" if gpu else "") + far


def _commit(run: dict[str, Any]) -> str:
    info = run.get("provenance")
    return commit_label(info) if info else "commit not recorded"
