"""The study's remaining compute as units of at most two hours, each of which starts on a clean machine from what
git holds (:mod:`prunelib.state`) and leaves there what the next one needs.

A job (:mod:`.job`) is cut where its state fits in git:

- ``global``: one unit, the whole job (each level is fine-tuned from the one before; a level's weights are no mask).
- ``lottery``: ``dense`` (the dense network trained and measured; it writes the agreement reference, the concept
  reference where the profile measures the seed's concepts, and round 1's masks), ``control`` (the initial weights
  retrained) and ``round<r>`` (round ``r``'s masks on the initial weights, retrained, measured, pruned: round
  ``r + 1``'s masks written).
- ``authors_*``: ``dense`` (their ``D``; it writes round 1's masks and the BatchNorm statistics the round keeps) and
  ``round<r>``.

Each unit measures its network's concept metrics where the profile asks for them (:func:`.concepts.add_network`),
judged in the dense network's features that the dense unit keeps in git. A job's pictures, drawn from all its
networks at once, are made by a whole job alone.

A unit is named ``<regime>-seed<k>-<part>`` (``global-seed1`` for a whole job). It is left while its network is not
in the job's result file or lacks the concept metrics the profile asks for, or while a unit left starts from state
it writes and git lacks (then it makes its network again, and must reproduce the checkpoint digest the result
records: a network trained again on another CPU kind differs in its last bits, and what was measured from the old
one would no longer follow from it). A unit that makes
a measured network again, or its seed's dense network where the profile measured one, compares every epoch's
validation accuracy with the recorded one as it trains (:func:`expected_history`), so that a machine that trains
another realization stops at the first epoch that differs (:class:`prunelib.training.NotReproduced`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .. import paths, pipeline, regimes, state
from ..profiles import Settings, load_settings
from ..provenance import cpu
from ..runs import first_network, locked
from .compute import _timed, concept_hours, network_hours
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
    return state.maps_file(unit.profile, unit.seed, _dense_digest(networks))


def concept_reference_files(unit: Unit, networks: list[dict[str, Any]], settings: Settings) -> list[Path]:
    """The concept reference ``unit``'s job is judged in, where the profile measures its concepts
    (:func:`prunelib.sweep.concepts.wanted`): the dense network's features of the crops
    (:func:`prunelib.state.concepts_file`); else none."""
    from . import concepts
    if not concepts.wanted(Job(unit.profile, unit.seed, unit.regime), settings):
        return []
    return [state.concepts_file(unit.profile, unit.seed, _dense_digest(networks), c)
            for c in settings.need("craft_classes")]


def _dense_digest(networks: list[dict[str, Any]]) -> str:
    return (first_network(networks, "dense") or {}).get("checkpoint_sha256", "not-measured-yet")


def needs(unit: Unit, networks: list[dict[str, Any]], settings: Settings) -> list[Path]:
    """The state files ``unit`` starts from, given its job's measured ``networks``: a round its masks (and the dense
    references its agreement and concepts are judged against), the control the dense references and round 1's
    record of the initial weights; the dense unit and a whole job none."""
    references = [reference_file(unit, networks)] + concept_reference_files(unit, networks, settings)
    if unit.part == "control":
        return references + [state.round_file(unit.profile, unit.seed, unit.regime, 1)]
    if unit.round is not None:
        return references + [state.round_file(unit.profile, unit.seed, unit.regime, unit.round)]
    return []


def makes(unit: Unit, networks: list[dict[str, Any]], settings: Settings) -> list[Path]:
    """The state files ``unit`` writes once its network is measured (given its job's measured ``networks``)."""
    regime = regimes.get(unit.regime)
    if unit.part == "dense":
        return ([reference_file(unit, networks), state.round_file(unit.profile, unit.seed, unit.regime, 1)]
                + concept_reference_files(unit, networks, settings))
    if unit.round is not None and unit.round < regime.n_rounds(settings):
        return [state.round_file(unit.profile, unit.seed, unit.regime, unit.round + 1)]
    return []


def _target(unit: Unit, settings: Settings) -> float:
    return regimes.get(unit.regime).levels(settings)[unit.round - 1] if unit.round else 0.0


def measured_network(unit: Unit, networks: list[dict[str, Any]], settings: Settings) -> dict[str, Any] | None:
    """The network of ``unit`` among a job's measured ``networks``, or None."""
    if not unit.round:
        return first_network(networks, unit.part)
    pruned = [n for n in networks if n["network"] == "pruned"]  # a record without its target: by its place
    target = _target(unit, settings)
    return next((n for i, n in enumerate(pruned, start=1)
                 if abs(n.get("target", -1.0) - target) < 1e-9 or "target" not in n and i == unit.round), None)


def measured_dense(profile: str, seed: int, data: str | None = None) -> dict[str, Any] | None:
    """The dense network of ``seed`` that the profile's results measured (:func:`dense_records`, on the data folder
    ``data``), or None."""
    from .summary import load_runs
    found = dense_records(profile, load_settings(profile), load_runs(profile, echo=lambda _: None), data).get(seed)
    return None if found is None else found[0]


def dense_records(profile: str, settings: Settings, done: list[dict[str, Any]], data: str | None = None, *,
                  current: bool = True) -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
    """Per seed, the record of the dense network the profile's results ``done`` measured and the result that holds
    it: the first job in the profile's ``study`` order that measured one for the seed, from today's inputs (on the
    data folder ``data``) where ``current``."""
    by_job = {(r["regime"], r["seed"]): r for r in done}
    out: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for seed, regime in settings.study:
        run = by_job.get((regime, seed))
        if seed in out or run is None:
            continue
        if current and inputs_stale(Job(profile, seed, regime, data=data), run, settings):
            continue
        dense = first_network(run["networks"], "dense")
        if dense is not None and "identity" in dense:
            out[seed] = (dense, run)
    return out


def expected_history(unit: Unit, networks: list[dict[str, Any]], settings: Settings,
                     data: str | None = None) -> list[dict[str, Any]] | None:
    """The recorded history (``[{"epoch", "val_top1", ...}]``) of the network that ``unit`` must make again, given its
    job's measured ``networks``: the network it makes where its job measured it; else, for a unit that trains its
    seed's dense network (:data:`DENSE_PARTS`), the dense network the profile measured for the seed
    (:func:`measured_dense`); else None."""
    made = Unit(unit.profile, unit.seed, unit.regime, "dense") if unit.part == "job" else unit
    earlier = measured_network(made, networks, settings)
    if earlier is None and unit.part in DENSE_PARTS:
        earlier = measured_dense(unit.profile, unit.seed, data)
    return None if earlier is None else earlier.get("history")


def plan(profile: str, machine: str | None = None) -> list[dict[str, Any]]:
    """The units left of the profile's ``study``, in the order one machine runs them (:func:`one_machine_order`):
    ``{"unit", "hours", "remakes", "ready", "waits", "other_machine", "hours_here", "dense_by"}``: its estimated
    hours on the CPU kind the study's networks were timed on (None: not timed yet), whether it makes a measured
    network again (for the state it writes), whether it can start on a clean checkout (the state it starts from is in
    git), the names of the units that write what it lacks, the machine that trained a measured network it must make
    again where that is not ``machine`` (this machine's CPU, :func:`prunelib.provenance.cpu`, when None; else None:
    another CPU kind trains another network, :func:`expected_history`), and its hours on this machine after the units
    before it (:func:`add_hours_here`)."""
    from .summary import load_runs
    settings = load_settings(profile)
    timed = _timed(profile)
    machine = machine or cpu()
    measured = load_runs(profile, echo=lambda _: None)
    by_job = {(r["regime"], r["seed"]): r for r in measured}
    dense = dense_records(profile, settings, measured, current=False)  # the plan reads results as they stand
    dense_by = {seed: trained_by(network, run) for seed, (network, run) in dense.items()}
    rows: list[dict[str, Any]] = []
    for seed, regime in settings.study:
        done = by_job.get((regime, seed))
        if done is not None and done.get("complete", True) and not derived_missing(Job(profile, seed, regime), settings,
                                                                                    done["networks"]):
            continue
        units = job_units(profile, seed, regime, settings)
        networks = done["networks"] if done else []
        left = [u for u in units if u.part == "job" or measured_network(u, networks, settings) is None
                or _lacks_concepts(u, networks, settings)]
        while True:  # a unit left that starts from state git lacks: its maker runs again
            wanted = {p for u in left for p in needs(u, networks, settings) if not p.is_file()}
            makers = [u for u in units if u not in left and wanted & set(makes(u, networks, settings))]
            if not makers:
                break
            left = [u for u in units if u in left or u in makers]
        for u in left:
            missing = {p for p in needs(u, networks, settings) if not p.is_file()}
            waits = [m.name for m in units if missing & set(makes(m, networks, settings))]
            remade = measured_network(u, networks, settings) if u.part != "job" else None
            trained_on = (trained_by(remade, done) if remade is not None
                          else dense_by.get(u.seed) if u.part in DENSE_PARTS else None)
            rows.append({"unit": u, "hours": unit_hours(u, settings, timed), "waits": waits, "ready": not missing,
                         "remakes": remade is not None,
                         "other_machine": trained_on if trained_on not in (None, machine) else None})
    here = {seed for seed, regime in settings.study
            if (Job(profile, seed, regime).checkpoints / "dense" / "best.pt").is_file()}
    dense_training = network_hours(timed, "global", "dense", measuring=False)  # any regime's dense network
    return add_hours_here(one_machine_order(rows, settings.study), dense_training, here)


def trained_by(network: dict[str, Any], done: dict[str, Any]) -> str | None:
    """The machine that trained a measured ``network`` of the result ``done``: the CPU (or GPU) that measured it,
    where a unit trains and measures each network; for a record older than that, the machine of the result file."""
    return network.get("machine") or done.get("provenance", {}).get("cpu")


def _lacks_concepts(unit: Unit, networks: list[dict[str, Any]], settings: Settings) -> bool:
    """Whether the profile measures the concepts of ``unit``'s job and its measured network has none from today's
    inputs (:func:`prunelib.sweep.concepts.measured`)."""
    from . import concepts
    job, network = Job(unit.profile, unit.seed, unit.regime), measured_network(unit, networks, settings)
    return (concepts.wanted(job, settings) and network is not None
            and not concepts.measured(job, settings, [network]))


#: the parts of a job that train its seed's dense network (a whole job trains it first)
DENSE_PARTS = ("dense", "job")


def one_machine_order(rows: list[dict[str, Any]], study: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """``rows`` (units in the order of the ``study``'s (seed, regime) pairs, each job's in the order they run) in the
    order one machine runs them: seed by seed (in the order seeds first appear in ``study``), and within a seed first
    the units that train its dense network (:data:`DENSE_PARTS`), then the rest, each group in the study's order. A
    seed's dense network is the same for every regime of a profile, so it is trained once, and every unit comes after
    those it waits for (a round after its job's dense unit and the round before it)."""
    seeds = list(dict.fromkeys(seed for seed, _ in study))
    return [row for _, row in sorted(enumerate(rows), key=lambda ir: (
        seeds.index(ir[1]["unit"].seed), ir[1]["unit"].part not in DENSE_PARTS, ir[0]))]


def add_hours_here(rows: list[dict[str, Any]], dense_training: float | None,
                   dense_here: set[int]) -> list[dict[str, Any]]:
    """``rows`` with ``"hours_here"``, a unit's hours on this machine run in this order: a unit that trains its seed's
    dense network (:data:`DENSE_PARTS`) spares its training (``dense_training`` hours) where the seed is in
    ``dense_here`` (its checkpoint is on this machine) or an earlier row of the seed trains it, named in
    ``"dense_by"`` (else None); other units, and a unit not timed, as ``"hours"``."""
    out, trained = [], dict.fromkeys(dense_here, None)
    for row in rows:
        unit, hours = row["unit"], row["hours"]
        makes_dense = unit.part in DENSE_PARTS
        spared = makes_dense and unit.seed in trained and hours is not None and dense_training is not None
        out.append({**row, "hours_here": round(max(hours - dense_training, 0.0), 2) if spared else hours,
                    "dense_by": trained.get(unit.seed) if makes_dense else None})
        if makes_dense:
            trained.setdefault(unit.seed, unit.name)
    return out


def _cost(row: dict[str, Any]) -> float | None:
    """A row's hours if it runs next here: its ``hours_here``, unless they count on an earlier row not run yet."""
    return row["hours"] if row["dense_by"] else row["hours_here"]


def _startable(row: dict[str, Any]) -> bool:
    """Whether a row can start here: the state it starts from is in git, and what it must make again was trained on
    this machine's kind."""
    return row["ready"] and not row.get("other_machine")


def _fits(row: dict[str, Any], hours_left: float | None) -> bool:
    cost = _cost(row)
    return _startable(row) and (hours_left is None or cost is not None and cost <= hours_left)


def without(rows: list[dict[str, Any]], skip: Iterable[str]) -> list[dict[str, Any]]:
    """``rows`` less the units named in ``skip`` and every unit that waits for one of them, directly or through
    another unit left out."""
    out = set(skip)
    while more := {r["unit"].name for r in rows if r["unit"].name not in out and out & set(r["waits"])}:
        out |= more
    return [r for r in rows if r["unit"].name not in out]


def next_unit(rows: list[dict[str, Any]], hours_left: float | None = None) -> Unit | None:
    """The first unit of ``rows`` (:func:`plan`, less those skipped: :func:`without`) that can start here and takes
    at most ``hours_left`` hours here (None: no limit; a unit not timed yet fits only then), or None."""
    return next((row["unit"] for row in rows if _fits(row, hours_left)), None)


def schedule(rows: list[dict[str, Any]], hours_left: float | None = None) -> list[tuple[Unit, float | None]]:
    """The units this machine runs in turn within ``hours_left`` (:func:`next_unit` each time, a unit run making
    those that wait for it ready, and its seed's dense network trained for those after it), with their hours."""
    rows, done, out = list(rows), set(), []
    while (unit := next_unit(rows, hours_left)) is not None:
        row = next(r for r in rows if r["unit"] == unit)
        rows.remove(row)
        out.append((unit, _cost(row)))
        done.add(unit.name)
        if hours_left is not None:
            hours_left -= _cost(row)
        rows = [{**r, "ready": r["ready"] or set(r["waits"]) <= done,
                 "dense_by": None if unit.part in DENSE_PARTS and r["unit"].seed == unit.seed else r["dense_by"]}
                for r in rows]
    return out


def none_fits(profile: str, rows: list[dict[str, Any]], hours_left: float | None) -> str:
    """Why :func:`next_unit` finds no unit in ``rows`` (one line)."""
    if not rows:
        return f"no unit left on the {profile} profile"
    ready = [r for r in rows if _startable(r)]
    if not ready:
        elsewhere = next((r for r in rows if r["ready"]), None)
        if elsewhere is not None:
            return (f"none of the {len(rows)} units left on the {profile} profile can start here: those whose state "
                    f"git holds make again networks another kind of machine trained (first {elsewhere['unit'].name}: "
                    f"{elsewhere['other_machine']})")
        return (f"none of the {len(rows)} units left on the {profile} profile can start here: each starts from state "
                f"git lacks (first {rows[0]['unit'].name}, after {', '.join(rows[0]['waits'])})")
    timed = [r for r in ready if _cost(r) is not None]
    if not timed:
        return (f"none of the {len(ready)} units that can start here is timed yet, so none is known to fit in "
                f"{hours_left:g} h; without --hours-left, {ready[0]['unit'].name} would run")
    smallest = min(timed, key=_cost)
    return (f"none of the units that can start here fits in {hours_left:g} h; the smallest, "
            f"{smallest['unit'].name}, needs ~{_cost(smallest):.2f} h")


def unit_hours(unit: Unit, settings: Settings, timed: list[tuple[str, dict[str, Any]]]) -> float | None:
    """Training and measuring hours of ``unit`` on a clean machine (a whole job: its dense network and every level),
    with each network's concept metrics where the profile measures the job's (:func:`.compute.concept_hours`)."""
    kinds = ({"dense": 1, "pruned": len(regimes.get(unit.regime).levels(settings))} if unit.part == "job" else
             {"pruned" if unit.round else unit.part: 1})
    hours = [network_hours(timed, unit.regime, kind) for kind in kinds]
    if None in hours:
        return None
    from . import concepts
    concept = concept_hours(timed) if concepts.wanted(Job(unit.profile, unit.seed, unit.regime), settings) else 0.0
    return round(sum((h + concept) * c for h, c in zip(hours, kinds.values())), 2)


def plan_report(profile: str, machine: str | None = None) -> list[str]:
    """What ``sweep --remaining`` prints of the units (on ``machine``, as :func:`plan`): one line each, then the
    total."""
    rows = plan(profile, machine)
    lines = [f"Units left on the {profile} profile (each trained and measured on one machine, starting from what "
             f"git holds; at most {LIMIT_HOURS:.0f} h each on the CPU kind the study was timed on):"]
    for row in rows:
        u, hours, here = row["unit"], row["hours"], row["hours_here"]
        said = "not timed yet" if hours is None else f"~{hours:.1f} h" + (
            f" (OVER {LIMIT_HOURS:.0f} h)" if hours > LIMIT_HOURS else "")
        if here != hours:
            here_said = f"~{here:.1f} h" if here >= 0.1 else f"~{here:.2f} h"
            said += (f" ({here_said} after {row['dense_by']} on this machine)" if row["dense_by"] else
                     f" ({here_said} here, where its dense network is trained)")
        start = "can start here" if row["ready"] else "after " + ", ".join(row["waits"])
        if row["other_machine"]:
            start = (f"on {row['other_machine']} alone, the kind that trained the network it makes again"
                     + ("" if row["ready"] else f"; {start}"))
        again = "; makes a measured network again, for what it writes beside it" if row["remakes"] else ""
        lines.append(f"  {u.name}: {said}; {start}{again}")
    from . import pictures
    settings = load_settings(profile)
    for job in sorted({Job(profile, r["unit"].seed, r["unit"].regime) for r in rows if r["unit"].part != "job"},
                      key=lambda j: j.name):
        if pictures.wanted(job, settings):
            lines.append(f"  ({job.name}: its pictures draw every network of the job at once, so no unit makes them: "
                         "a sweep of the whole job on one machine does)")
    total, here = (sum(r[key] or 0.0 for r in rows) for key in ("hours", "hours_here"))
    lines.append(f"{len(rows)} unit{'s' if len(rows) != 1 else ''} left, about {total:.1f} hours each on a clean "
                 f"machine; about {here:.1f} hours all in this order on one machine" if rows else "No unit left.")
    runnable = without(rows, [r["unit"].name for r in rows if r["other_machine"]])
    if len(runnable) < len(rows):
        kinds = sorted({r["other_machine"] for r in rows if r["other_machine"]})
        lines.append(f"{len(rows) - len(runnable)} of them make again networks trained on {' or '.join(kinds)}, or "
                     "wait for units that do: they run there alone")
    return lines


def run_unit(profile: str, name: str, *, data: str | None = None, device: str = "auto",
             progress: bool = True) -> Path:
    """Run the unit called ``name`` on this machine: train its network from the state in git, measure it into its
    job's result file, then write the state the next unit starts from (each file atomically, after the
    measurement). Commits nothing. Returns the job's result file."""
    from ..data import locate
    from . import concepts
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
    done = read_result(job.result_file) if job.result_file.is_file() else None
    why = inputs_stale(job, done, settings) if done is not None else []
    if why and unit.part != "job":  # a whole job measures itself anew
        raise UnitError(f"{paths.portable(job.result_file)} was measured from other inputs ({'; '.join(why)}); "
                        "a unit only adds to a job of today's inputs")
    networks = done["networks"] if done and not why else []
    expect = expected_history(unit, networks, settings, job.data)
    if unit.part == "job":
        return run_job(job, progress=progress, expect_dense=expect)
    _check_parent(unit, networks, settings)
    wants_concepts = concepts.wanted(job, settings)
    if wants_concepts and unit.part != "dense":  # the reference it is judged in, checked before any training
        state.read_concepts(profile, unit.seed, {"checkpoint_sha256": _dense_digest(networks)},
                            concepts.reference_inputs(settings))
    with stopped_by_sigterm(), locked(job.lock_folder, wait=False):
        record, initial = _train(unit, job, settings, progress, expect)
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
        if wants_concepts:
            measured = read_result(job.result_file)["networks"]
            mine = next(n for n in measured if n["checkpoint_sha256"] == record["checkpoint_sha256"])
            concepts.add_network(job, mine, measured, settings)
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


def _train(unit: Unit, job: Job, settings: Settings, progress: bool, expect: list[dict[str, Any]] | None
           ) -> tuple[dict[str, Any], dict[str, str]]:
    """Train (or find trained here) the network of ``unit`` from the state in git, checking each epoch against
    ``expect`` (:func:`expected_history`); return its record and the digests of the initial weights it records
    (:func:`prunelib.state.initial_digests`)."""
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
        report = pipeline.train_dense(splits, dense_cfg, folder, device=job.device, progress=progress, expect=expect)
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
                       identity={"stage": "control", "initial": meta["initial"]}, expect=expect)
        return (network_record("control", 0.0, folder / "best.pt", result,
                               sum(h["seconds"] for h in result["history"])), initial)
    out = job.checkpoints / regime.name
    if regime.method == "lottery":
        report = lottery_round(unit.round, _target(unit, settings), masks, weights, recipe, *splits, out,
                               parent=meta["parent"], initial_digest=meta["initial"], device=job.device,
                               progress=progress, expect=expect)
    else:
        report = authors_round(unit.round, regime.rate(settings), masks, buffers, weights, recipe, *splits, out,
                               enforce_mask=regime.enforce_mask, parent=meta["parent"],
                               initial_digest=meta["initial"], device=job.device, progress=progress,
                               expect=expect)
    return pruned_record(job, report), initial
