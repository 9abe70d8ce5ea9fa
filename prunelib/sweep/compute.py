"""What the study's networks cost: per job, the networks it measured and the hours it spent training and
measuring them, on which CPU or device, read from the jobs' result files (each network records its own seconds).

The reproduce page shows these rows (``compute_rows``) for the profiles of the book, so a reader can plan a re-run.
"""
from __future__ import annotations

import functools
from typing import Any

from .. import paths
from . import concepts
from .abstract import listed
from .records import Job, derived_missing
from .summary import load_runs


def compute_rows(profile: str, archive: str | None = None) -> list[dict[str, Any]]:
    """One row per finished job of ``profile`` (or of its ``archive``, :func:`prunelib.sweep.summary.archive_dir`):
    regime, seed, networks measured, training (:func:`training_seconds`) and measuring time (h) and where they ran
    (the CPU model, or the GPU's name, else the device; "not recorded" for jobs measured before it was). A job
    whose result predates the timing of its measurements shows no measuring time. A seed's dense network, trained
    once and measured by each of its jobs, counts its training in the first row that measured it, so that the
    column adds up to the hours spent."""
    rows, trained = [], set()
    for run in load_runs(profile, echo=lambda _: None, archive=archive):
        nets = run["networks"]
        measuring = [n.get("measure_seconds") for n in nets]
        prov = run["provenance"]
        where = prov.get("cpu") if prov.get("device") == "cpu" else prov.get("gpu") or prov.get("device")
        training = 0.0
        for n in nets:
            dense = (n.get("identity"), n.get("checkpoint_sha256")) if n["network"] == "dense" else None
            training += 0.0 if dense in trained else training_seconds(n)
            if dense is not None:
                trained.add(dense)
        rows.append({"regime": run["regime"], "seed": run["seed"], "networks": len(nets),
                     "training (h)": round(training / 3600, 2),
                     "measuring (h)": round(sum(measuring) / 3600, 2) if all(m is not None for m in measuring) else None,
                     "where": where or "not recorded", "complete": bool(run.get("complete", True))})
    return rows


def training_seconds(network: dict[str, Any]) -> float:
    """A network's training time: the sum of its epochs' seconds where its history records them all (a network
    resumed after a kill records in ``seconds`` only what its last process spent), else its ``seconds``."""
    epochs = [h.get("seconds") for h in network.get("history") or []]
    return float(sum(epochs)) if epochs and None not in epochs else float(network.get("seconds") or 0.0)


def _hours(networks: list[dict[str, Any]], measuring: bool = True) -> float | None:
    """The mean hours (training, and measuring unless not ``measuring``) of ``networks``, or None when there are
    none."""
    if not networks:
        return None
    return sum(training_seconds(n) + (n.get("measure_seconds") or 0.0) * measuring
               for n in networks) / len(networks) / 3600


def _timed(profile: str) -> list[tuple[str, dict[str, Any]]]:
    """(regime, network) of every network of ``profile`` trained on a CPU, with its timings: the current jobs' and
    those of its archived measurements (:func:`prunelib.sweep.summary.archive_dir`), which trained the same recipes.
    A network whose job measured its concept metrics carries their seconds as ``concept_seconds``.
    A network trained on a GPU is left out: its job may have shared the GPU with others (``tools/one_gpu.py``), so
    its seconds are not what a job costs alone, and a CPU's hours are what the estimate speaks of."""
    from .seed_rule import load_concepts
    from .summary import archive_dir
    archives = [None] + sorted(d.parent.name for d in paths.results_dir(profile).glob("*/runs") if d.is_dir())
    timed = []
    for name in archives:
        runs = [r for r in load_runs(profile, echo=lambda _: None, archive=name)
                if r["provenance"].get("device", "cpu") == "cpu"]
        folder = None if name is None else archive_dir(profile, name) / "runs" / "concepts"
        seconds = {e["identity"]: e["seconds"] for c in load_concepts(runs, folder) for e in c["networks"]
                   if "seconds" in e and "identity" in e}
        timed += [(r["regime"], {**n, "concept_seconds": seconds[n["identity"]]} if n.get("identity") in seconds
                   else n) for r in runs for n in r["networks"]]
    return timed


def concept_hours(timed: list[tuple[str, dict[str, Any]]]) -> float:
    """The mean hours of one network's concept metrics among the networks of ``timed`` (:func:`_timed`) whose job
    measured them (the same classes and images for every network of a profile); 0 where none did."""
    seconds = [n["concept_seconds"] for _, n in timed if "concept_seconds" in n]
    return sum(seconds) / len(seconds) / 3600 if seconds else 0.0


def network_hours(timed: list[tuple[str, dict[str, Any]]], regime: str, kind: str, *,
                  measuring: bool = True) -> float | None:
    """The mean hours of training and measuring (training alone unless ``measuring``) one ``kind`` of network (dense,
    control, pruned) of ``regime``, from ``timed`` (:func:`_timed`): the same regime's, else the same method's (any
    regime's for a dense network); None where none is timed."""
    from ..regimes import get
    if kind == "dense":
        return _hours([n for _, n in timed if n["network"] == "dense"], measuring)
    same = [n for r, n in timed if r == regime and n["network"] == kind]
    method = [n for r, n in timed if get(r).method == get(regime).method and n["network"] == kind]
    return _hours(same if same else method, measuring)


def remaining_rows(profile: str, *, here: bool = False) -> list[dict[str, Any]]:
    """The jobs of the profile's ``study`` (the seeds x regimes its verdicts are designed on) that have no complete
    result yet, in the study's order: regime, seed, the networks measured of those the job makes, those left to
    train and measure (a seed's dense network counts once for all its jobs, and a measured network's checkpoint is
    taken to be kept), and an estimate of their hours from the networks of the same kind timed so far on a CPU
    (:func:`_timed`; the same regime, else the same method; None: none timed), with their concept metrics where the
    profile measures the job's (:func:`concept_hours`).

    With ``here``, each row also counts the measured networks whose checkpoints are not on this machine although the
    job starts from them (``"to retrain here"``: the seed's dense network, once for all its jobs, and the networks
    an unfinished job measured, each the parent of the next) and the estimate with their retraining
    (``"estimate here (h)"``)."""
    from ..profiles import load_settings
    from ..regimes import get
    settings = load_settings(profile)
    runs = load_runs(profile, echo=lambda _: None)
    by_job = {(r["regime"], r["seed"]): r for r in runs}
    dense_seeds = {r["seed"] for r in runs for n in r["networks"] if n["network"] == "dense"}
    dense_gone = {r["seed"] for r in runs for n in r["networks"] if n["network"] == "dense" and not _kept(n)}
    timed = _timed(profile)
    kind_hours = functools.partial(network_hours, timed)

    rows = []
    for seed, regime in settings.study:
        run = by_job.get((regime, seed))
        complete = run is not None and run.get("complete", True)
        # a complete job is left for what it derives from all its networks at once (its concept metrics)
        derived = derived_missing(Job(profile, seed, regime), settings, run["networks"]) if complete else []
        if complete and not derived:
            continue
        nets = run["networks"] if run else []
        made = {"dense": 1, "pruned": len(get(regime).levels(settings)), "control": int(get(regime).has_control)}
        left = {"dense": 0 if seed in dense_seeds else 1,
                "pruned": made["pruned"] - sum(n["network"] == "pruned" for n in nets),
                "control": made["control"] - sum(n["network"] == "control" for n in nets)}
        hours = [(kind_hours(regime, kind), count) for kind, count in left.items() if count > 0]
        if concepts.wanted(Job(profile, seed, regime), settings):
            hours.append((concept_hours(timed), sum(left.values())))
        # what a job derives from all its networks at once is not timed: a job left for it alone has no estimate
        estimate = (None if derived or any(h is None for h, _ in hours)
                    else round(sum(h * c for h, c in hours), 1))
        row = {"regime": regime, "seed": seed, "networks measured": len(nets), "networks made": sum(made.values()),
               "networks left": sum(left.values()), "estimate (h)": estimate, "derived missing": derived}
        if here:
            gone = [n for n in nets if n["network"] != "dense" and not _kept(n)]
            retrain = {"dense": int(seed in dense_gone), **{kind: sum(n["network"] == kind for n in gone)
                                                             for kind in ("pruned", "control")}}
            dense_gone.discard(seed)  # retrained once, for every job of the seed
            extra = [(kind_hours(regime, kind), count) for kind, count in retrain.items() if count > 0]
            row["to retrain here"] = sum(retrain.values())
            row["estimate here (h)"] = (None if estimate is None or any(h is None for h, _ in extra)
                                        else round(estimate + sum(h * c for h, c in extra), 1))
        rows.append(row)
    return rows


def _kept(network: dict[str, Any]) -> bool:
    """Whether a measured network's checkpoint is on this machine (a record that names none is taken to be)."""
    return "checkpoint" not in network or paths.resolve(network["checkpoint"]).is_file()


def remaining_report(profile: str) -> list[str]:
    """What ``sweep --remaining`` prints: a line per job left (:func:`remaining_rows` with ``here``), the sentence
    of :func:`remaining_said`, and what this machine adds: the checkpoints it lacks, and that it would emulate bf16."""
    from ..hardware import native_bf16
    from ..models import resolve_device
    rows = remaining_rows(profile, here=True)
    lines = []
    for r in rows:
        hours = "not timed yet" if r["estimate (h)"] is None else f"~{r['estimate (h)']} h"
        gone = r["to retrain here"]
        here = "" if not gone else (
            f"; the checkpoint{'s' if gone > 1 else ''} of {gone} measured network{'s' if gone > 1 else ''} "
            f"it starts from {'are' if gone > 1 else 'is'} not on this machine: "
            + ("not timed yet" if r["estimate here (h)"] is None else f"~{r['estimate here (h)']} h here"))
        derived = (f"; its {' and '.join(r['derived missing'])}, which read every network at once, are not "
                   "measured" if r["derived missing"] else "")
        lines.append(f"{r['regime']}-seed{r['seed']}: {r['networks measured']} of {r['networks made']} networks "
                     f"measured, {r['networks left']} to train and measure ({hours}){derived}{here}")
    lines.append(remaining_said([profile]))
    if any(r["to retrain here"] for r in rows):
        lines.append(f"On this machine, which lacks {sum(r['to retrain here'] for r in rows)} of the checkpoints "
                     f"these jobs start from, about {sum(r['estimate here (h)'] or 0.0 for r in rows):.1f} hours.")
    if rows and not native_bf16(resolve_device("auto")):
        lines.append("This machine has no bf16 instructions: the sweep refuses these jobs here unless told "
                     "--allow-emulated-bf16 (prunelib/hardware.py), and they would take about 12 times as long.")
    return lines


def remaining_said(profiles: list[str]) -> str:
    """One sentence: the jobs of the study's design (each profile's ``study``) not measured yet, by regime and seed,
    with their estimated hours (or that every job of the design is measured)."""
    parts, total, untimed = [], 0.0, 0
    for profile in profiles:
        rows = remaining_rows(profile)
        by_regime: dict[str, list[str]] = {}
        for r in rows:
            partly = (f" (its {' and '.join(r['derived missing'])})" if not r["networks left"] else
                      f" ({r['networks measured']} of its {r['networks made']} networks measured)"
                      if r["networks measured"] else "")
            by_regime.setdefault(r["regime"], []).append(f"{r['seed']}{partly}")
            total += r["estimate (h)"] or 0.0
            untimed += r["estimate (h)"] is None
        regimes = [f"{regime} seed{'s' if len(seeds) > 1 else ''} {listed(seeds)}"
                   for regime, seeds in by_regime.items()]
        if regimes:
            parts.append(f"on the {profile} profile, {listed(regimes)}")
    if not parts:
        return "Every job of the study's design is measured."
    hours = f"{total:.0f}" if total >= 10 else f"{total:.1f}"
    rest = f" and {untimed} job{'s' if untimed > 1 else ''} of a kind not timed yet" if untimed else ""
    return (f"Not yet measured: {'; '.join(parts)}. At the speed of the networks timed so far on a CPU, and where "
            f"the checkpoints of the networks measured are kept, that is about {hours} hours of training and "
            f"measuring{rest}.")
