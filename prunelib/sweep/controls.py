"""The unpruned control that a regime's own job does not train, given to its runs before they are judged.

Global pruning's control is the seed's dense network given one level's fine-tuning with nothing removed, trained
in a job of its own (regime ``global_finetuned``: :attr:`prunelib.regimes.Regime.control_regime`). :func:`attach`
gives each run of such a regime its seed's control as a network called ``"control"``, as the lottery regime's job
records its own, where the control was fine-tuned from the dense network the run measured
(:func:`prunelib.sweep.records.same_network`): a contrast within a seed pairs networks of one dense network. The
control's own jobs then leave the list, so that the summary, the verdicts and the figures meet each network once,
as what it is.
"""
from __future__ import annotations

from typing import Any

from .. import regimes
from ..runs import first_network
from .records import same_network


def attach(runs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """``runs`` (the jobs' result files) with each control attached to its regime's run of the same seed and the
    control jobs left out, and a line for each control job not attached, saying why."""
    owners = {(r["regime"], r["seed"]) for r in runs}
    controls = {(owner, r["seed"]): r for r in runs if (owner := regimes.control_of(r["regime"])) is not None}
    out, notes = [], []
    for (owner, seed), job in sorted(controls.items()):
        why = ("its network is not measured" if first_network(job["networks"], "pruned") is None else
               f"{owner} seed {seed} is not measured" if (owner, seed) not in owners else None)
        if why:
            notes.append(f"{job['regime']} seed {seed}: not used as a control yet ({why})")
    for run in runs:
        if regimes.control_of(run["regime"]) is not None:
            continue
        job = controls.get((run["regime"], run["seed"]))
        control = first_network(job["networks"], "pruned") if job else None
        if control is None:
            out.append(run)
            continue
        parents = first_network(run["networks"], "dense"), first_network(job["networks"], "dense")
        if None in parents or not same_network(*parents):
            notes.append(f"{job['regime']} seed {run['seed']}: fine-tuned from another dense network than "
                         f"{run['regime']} seed {run['seed']} measured (another checkpoint): not used as its control")
            out.append(run)
            continue
        attached = {**control, "network": "control", "control_job": f"{job['regime']}-seed{run['seed']}"}
        out.append({**run, "networks": [*run["networks"], attached]})
    return out, notes

