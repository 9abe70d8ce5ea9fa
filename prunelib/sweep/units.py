"""The study's remaining compute as units of at most two hours, each of which starts on a clean machine from what
git holds (:mod:`prunelib.state`) and leaves there what the next one needs.

A job (:mod:`.job`) is cut where its state fits in git:

- ``global``: one unit, the whole job (each level is fine-tuned from the one before; a level's weights are no mask).
- ``lottery``: ``dense`` (the dense network trained and measured; it writes the agreement reference and round 1's
  masks), ``control`` (the initial weights retrained) and ``round<r>`` (round ``r``'s masks on the initial weights,
  retrained, measured, pruned: round ``r + 1``'s masks written).
- ``authors_*``: ``dense`` (their ``D``; it writes round 1's masks and the BatchNorm statistics the round keeps) and
  ``round<r>``.

A unit is named ``<regime>-seed<k>-<part>`` (``global-seed1`` for a whole job). It is left while its network is not
in the job's result file, or while a unit left starts from state it writes and git lacks (then it makes its network
again, and must reproduce the checkpoint digest the result records: a network trained again on another CPU kind
differs in its last bits, and what was measured from the old one would no longer follow from it).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import paths, pipeline, regimes, runs, state
from ..profiles import Settings, load_settings
from .compute import _timed, network_hours
from .job import keep_state, stopped_by_sigterm
from .measurement import Measurement
from .records import Job, derived_missing, inputs_stale, network_record, pruned_record, read_result

#: the hours a unit may take on the slowest bf16 CPU the study runs on (a 2-core AMD EPYC, Zen 4)
LIMIT_HOURS = 2.0


class UnitError(ValueError):
    """A unit that cannot run here: the message names the unit, what it lacks and which unit writes it."""


@dataclass(frozen=True)
class Unit:
    """One piece of a job: ``part`` is ``"job"`` (the whole job), ``"dense"``, ``"control"`` or ``"round<r>"``."""

    profile: str
    seed: int
    regime: str
    part: str

    @property
    def name(self) -> str:
        return f"{self.regime}-seed{self.seed}" + ("" if self.part == "job" else f"-{self.part}")

    @property
    def round(self) -> int | None:
        return int(self.part[len("round"):]) if self.part.startswith("round") else None


def job_units(profile: str, seed: int, regime_name: str, settings: Settings) -> list[Unit]:
    """The units of one job, in the order they run."""
    regime = regimes.get(regime_name)
    if regime.method == "global":
        return [Unit(profile, seed, regime_name, "job")]
    parts = ["dense"] + (["control"] if regime.has_control else [])
    return [Unit(profile, seed, regime_name, p) for p in parts + [f"round{r}" for r in
                                                                   range(1, regime.n_rounds(settings) + 1)]]


def reference_file(unit: Unit, networks: list[dict[str, Any]]) -> Path:
    """The agreement reference of ``unit``'s job: the maps of the dense network its result file measured (a name no
    file has while none is measured, or for a record older than checkpoint digests)."""
    dense = next((n for n in networks if n["network"] == "dense"), {})
    return state.maps_file(unit.profile, unit.seed, dense.get("checkpoint_sha256", "not-measured-yet"))


def needs(unit: Unit, networks: list[dict[str, Any]]) -> list[Path]:
    """The state files ``unit`` starts from, given its job's measured ``networks``: a round its masks (and the dense
    reference its agreement is with), the control the dense reference and round 1's record of the initial weights;
    the dense unit and a whole job none."""
    reference = reference_file(unit, networks)
    if unit.part == "control":
        return [reference, state.round_file(unit.profile, unit.seed, unit.regime, 1)]
    if unit.round is not None:
        return [reference, state.round_file(unit.profile, unit.seed, unit.regime, unit.round)]
    return []


def makes(unit: Unit, networks: list[dict[str, Any]], settings: Settings) -> list[Path]:
    """The state files ``unit`` writes once its network is measured (given its job's measured ``networks``)."""
    regime = regimes.get(unit.regime)
    if unit.part == "dense":
        return [reference_file(unit, networks), state.round_file(unit.profile, unit.seed, unit.regime, 1)]
    if unit.round is not None and unit.round < regime.n_rounds(settings):
        return [state.round_file(unit.profile, unit.seed, unit.regime, unit.round + 1)]
    return []


def _target(unit: Unit, settings: Settings) -> float:
    return regimes.get(unit.regime).levels(settings)[unit.round - 1] if unit.round else 0.0


def measured_network(unit: Unit, networks: list[dict[str, Any]], settings: Settings) -> dict[str, Any] | None:
    """The network of ``unit`` among a job's measured ``networks``, or None."""
    if not unit.round:
        return next((n for n in networks if n["network"] == unit.part), None)
    pruned = [n for n in networks if n["network"] == "pruned"]  # a record without its target: by its place
    target = _target(unit, settings)
    return next((n for i, n in enumerate(pruned, start=1)
                 if abs(n.get("target", -1.0) - target) < 1e-9 or "target" not in n and i == unit.round), None)


def plan(profile: str) -> list[dict[str, Any]]:
    """The units left of the profile's ``study``, in order: ``{"unit", "hours", "remakes", "ready", "waits"}``:
    its estimated hours on the CPU kind the study's networks were timed on (None: not timed yet), whether it makes
    a measured network again (for the state it writes), whether it can start on a clean checkout (the state it starts
    from is in git), and the names of the units that write what it lacks."""
    from .summary import load_runs
    settings = load_settings(profile)
    timed = _timed(profile)
    by_job = {(r["regime"], r["seed"]): r for r in load_runs(profile, echo=lambda _: None)}
    rows: list[dict[str, Any]] = []
    for seed, regime in settings.study:
        done = by_job.get((regime, seed))
        if done is not None and done.get("complete", True) and not derived_missing(Job(profile, seed, regime), settings,
                                                                                    done["networks"]):
            continue
        units = job_units(profile, seed, regime, settings)
        networks = done["networks"] if done else []
        left = [u for u in units if u.part == "job" or measured_network(u, networks, settings) is None]
        while True:  # a unit left that starts from state git lacks: its maker runs again
            wanted = {p for u in left for p in needs(u, networks) if not p.is_file()}
            makers = [u for u in units if u not in left and wanted & set(makes(u, networks, settings))]
            if not makers:
                break
            left = [u for u in units if u in left or u in makers]
        for u in left:
            missing = {p for p in needs(u, networks) if not p.is_file()}
            waits = [m.name for m in units if missing & set(makes(m, networks, settings))]
            rows.append({"unit": u, "hours": unit_hours(u, settings, timed), "waits": waits, "ready": not missing,
                         "remakes": u.part != "job" and measured_network(u, networks, settings) is not None})
    return rows


def unit_hours(unit: Unit, settings: Settings, timed: list[tuple[str, dict[str, Any]]]) -> float | None:
    """Training and measuring hours of ``unit`` on a clean machine (a whole job: its dense network and every level)."""
    kinds = ({"dense": 1, "pruned": len(regimes.get(unit.regime).levels(settings))} if unit.part == "job" else
             {"pruned" if unit.round else unit.part: 1})
    hours = [network_hours(timed, unit.regime, kind) for kind in kinds]
    return None if None in hours else round(sum(h * c for h, c in zip(hours, kinds.values())), 2)


def plan_report(profile: str) -> list[str]:
    """What ``sweep --remaining`` prints of the units: one line each, then the total."""
    rows = plan(profile)
    lines = [f"Units left on the {profile} profile (each trained and measured on one machine, starting from what "
             f"git holds; at most {LIMIT_HOURS:.0f} h each on the CPU kind the study was timed on):"]
    for row in rows:
        u, hours = row["unit"], row["hours"]
        said = "not timed yet" if hours is None else f"~{hours:.1f} h" + (
            f" (OVER {LIMIT_HOURS:.0f} h)" if hours > LIMIT_HOURS else "")
        start = "can start here" if row["ready"] else "after " + ", ".join(row["waits"])
        again = "; makes a measured network again, for the state it writes" if row["remakes"] else ""
        lines.append(f"  {u.name}: {said}; {start}{again}")
    from . import concepts, pictures
    settings = load_settings(profile)
    for job in sorted({Job(profile, r["unit"].seed, r["unit"].regime) for r in rows if r["unit"].part != "job"},
                      key=lambda j: j.name):
        extra = [what for what, module in (("concept metrics", concepts), ("pictures", pictures))
                 if module.wanted(job, settings)]
        if extra:
            lines.append(f"  ({job.name}: its {' and '.join(extra)} read every network of the job at once, so they "
                         "are not cut into units: a sweep of the whole job on one machine makes them)")
    total = sum(r["hours"] or 0.0 for r in rows)
    lines.append(f"{len(rows)} unit{'s' if len(rows) != 1 else ''} left, about {total:.1f} hours"
                 if rows else "No unit left.")
    return lines


def run_unit(profile: str, name: str, *, data: str | None = None, device: str = "auto",
             progress: bool = True) -> Path:
    """Run the unit called ``name`` on this machine: train its network from the state in git, measure it into its
    job's result file, then write the state the next unit starts from (each file atomically, after the
    measurement). Commits nothing. Returns the job's result file."""
    from ..data import locate
    from .job import run_job
    settings = load_settings(profile)
    by_name = {r["unit"].name: r for r in plan(profile)}
    if name not in by_name:
        raise UnitError(f"no unit {name!r} is left on the {profile} profile; left: {', '.join(by_name) or 'none'} "
                        f"(python -m prunelib sweep --profile {profile} --remaining)")
    unit, row = by_name[name]["unit"], by_name[name]
    if not row["ready"]:
        raise UnitError(f"unit {name} starts from state that git lacks: run {', '.join(row['waits'])} first")
    job = Job(profile, unit.seed, unit.regime, data=paths.portable(locate(data)), device=device)
    if unit.part == "job":
        return run_job(job, progress=progress)
    done = read_result(job.result_file) if job.result_file.is_file() else None
    if done is not None and (why := inputs_stale(job, done, settings)):
        raise UnitError(f"{paths.portable(job.result_file)} was measured from other inputs ({'; '.join(why)}); "
                        "a unit only adds to a job of today's inputs")
    networks = done["networks"] if done else []
    _check_parent(unit, networks, settings)
    with stopped_by_sigterm(), runs.locked(job.lock_folder, wait=False):
        record, initial = _train(unit, job, settings, progress)
        earlier = measured_network(unit, networks, settings)
        measurement = Measurement(job, progress=progress)
        if earlier is not None:  # made again for the state it writes: it must be the network measured
            if earlier["checkpoint_sha256"] != record["checkpoint_sha256"]:
                raise UnitError(f"unit {name} made a network with checkpoint {record['checkpoint_sha256'][:12]}, "
                                f"but {paths.portable(job.result_file)} measured {earlier['checkpoint_sha256'][:12]} "
                                "(trained on another CPU kind?): the job's later networks follow from the one "
                                "measured, so no state is written from this one")
            if unit.part == "dense":  # its maps, the reference of the later networks
                measurement.measure(record)
        else:
            measurement.resume(networks)
            measurement.networks.append(measurement.measure(record))
            measurement.write(complete=len(measurement.networks) == _networks_made(unit, settings))
        keep_state(job, settings, record, initial)
    return job.result_file


def _check_parent(unit: Unit, networks: list[dict[str, Any]], settings: Settings) -> None:
    """Refuse a lottery round whose masks in git were pruned from another network than the one its job measured
    before it (the state of another realization of the chain)."""
    if unit.round is None or regimes.get(unit.regime).method != "lottery":
        return
    before = measured_network(Unit(unit.profile, unit.seed, unit.regime,
                                   f"round{unit.round - 1}" if unit.round > 1 else "dense"), networks, settings)
    path = state.round_file(unit.profile, unit.seed, unit.regime, unit.round)
    _, meta = state.read_arrays(path)
    if before is not None and before["checkpoint_sha256"] != meta["parent"]:
        raise UnitError(f"{paths.portable(path)} was pruned from checkpoint {meta['parent'][:12]}, but the job "
                        f"measured {before['checkpoint_sha256'][:12]} before it: run the unit before it again")


def _networks_made(unit: Unit, settings: Settings) -> int:
    regime = regimes.get(unit.regime)
    return 1 + regime.has_control + len(regime.levels(settings))


def _train(unit: Unit, job: Job, settings: Settings, progress: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Train (or find trained here) the network of ``unit`` from the state in git; return its record and the
    digests of the initial weights it records (:func:`prunelib.state.initial_digests`)."""
    from ..models import resnet18
    from ..schedule import authors_round, lottery_round
    from ..data import locate
    from ..training import TrainConfig, train
    regime = regimes.get(unit.regime)
    dense_cfg = TrainConfig.from_params(settings, seed=unit.seed)
    recipe = {"dense": dense_cfg, "control": regime.control_recipe(dense_cfg)}.get(unit.part,
                                                                                   regime.recipe(dense_cfg, settings))
    pipeline.check_precision(recipe, locate(job.data), settings.subset_per_class, job.device, f"unit {unit.name}")
    splits = pipeline.load_splits(job.data, settings.subset_per_class or None, seed=unit.seed,
                                  val_per_class=settings.val_per_class or None)
    if unit.part == "dense":
        folder = job.checkpoints / "dense"
        report = pipeline.train_dense(splits, dense_cfg, folder, device=job.device, progress=progress)
        return (network_record("dense", 0.0, folder / "best.pt", report, sum(h["seconds"] for h in report["history"])),
                state.initial_digests(folder / "init.pt"))
    model = resnet18()
    start = state.round_file(unit.profile, unit.seed, unit.regime, unit.round or 1)
    masks, buffers, meta = state.read_round(start, state.shapes(model))
    initial = {"initial": meta["initial"], "initial_weights": meta["initial_weights"]}
    weights = state.initial_weights(unit.seed, meta["initial_weights"])
    if unit.part == "control":
        folder = job.checkpoints / regime.name / "control"
        model.load_state_dict(weights)
        result = train(model, *splits, recipe, folder, device=job.device, progress=progress,
                       identity={"stage": "control", "initial": meta["initial"]})
        return (network_record("control", 0.0, folder / "best.pt", result,
                               sum(h["seconds"] for h in result["history"])), initial)
    out = job.checkpoints / regime.name
    if regime.method == "lottery":
        report = lottery_round(unit.round, _target(unit, settings), masks, weights, recipe, *splits, out,
                               parent=meta["parent"], initial_digest=meta["initial"], device=job.device,
                               progress=progress)
    else:
        report = authors_round(unit.round, regime.rate(settings), masks, buffers, weights, recipe, *splits, out,
                               enforce_mask=regime.enforce_mask, parent=meta["parent"],
                               initial_digest=meta["initial"], device=job.device, progress=progress)
    return pruned_record(job, report), initial
