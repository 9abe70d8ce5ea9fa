"""A sweep's job and its result file: who the job is, what its file records and how it is read.

A job is a (profile, seed, regime) run of the study (:class:`Job`). Its result file, ``results/<profile>/runs/
<regime>-seed<k>.json``, holds::

    {"profile", "seed", "regime", "settings", "inputs", "n_images", "networks": [network, ...], "complete",
     "provenance"}

``inputs`` are what the measurements are made from besides the networks (:func:`job_inputs`); each network record
(:func:`network_record`, :func:`pruned_record`, completed by :class:`prunelib.sweep.measurement.Measurement`) names
its run's identity and its checkpoint's digest. :func:`read_result` is the one reader; :func:`stale` asks
:func:`prunelib.currency.why_stale` whether a file is current, :func:`missing` whether it has each network of its
regime once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .. import paths, regimes, runs
from ..currency import why_stale
from ..image_set import set_size
from ..measure import IMAGE_SEED, PROTOCOL
from ..profiles import NOT_JOB_INPUTS, Settings, as_settings, load_settings
from ..runs import first_network
from ..schedule import level_folder, round_folder
from ..training import CODE_VERSION
from . import concepts, pictures


@dataclass(frozen=True)
class Job:
    """A (profile, seed, regime) run of the study."""

    profile: str
    seed: int
    regime: str
    data: str | None = None
    device: str = "auto"
    #: torch threads of the job (None: torch's default, all cores)
    threads: int | None = None

    @property
    def name(self) -> str:
        return f"{self.regime}-seed{self.seed}"

    @property
    def checkpoints(self) -> Path:
        return paths.checkpoint_dir(self.profile) / f"seed{self.seed}"

    @property
    def result_file(self) -> Path:
        return paths.results_dir(self.profile) / "runs" / f"{self.name}.json"

    @property
    def lock_folder(self) -> Path:
        """Locked while the job runs (:func:`prunelib.runs.locked`), so that a second copy of it refuses to start."""
        return self.checkpoints / f".job-{self.regime}"


def profile_settings(job: Job) -> Settings:
    """The settings of ``job``'s profile, parsed once (:func:`prunelib.profiles.load_settings`)."""
    return load_settings(job.profile)


def job_inputs(job: Job, settings: Settings | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything a job's result is made from besides its networks: the job's own profile, seed and regime, the
    profile's settings that are inputs of its measurements (:func:`job_params`), the measurement settings, the data's
    contents (not its path) and the training code's version. A result file whose ``inputs`` differ is not current
    (:func:`inputs_stale`)."""
    from ..data import locate, split_digests
    s = profile_settings(job) if settings is None else as_settings(settings)
    return {"profile": job.profile, "seed": job.seed, "regime": job.regime,
            "params": job_params(s.raw),
            "settings": measurement_settings(s),
            "data": split_digests(locate(job.data)), "code": CODE_VERSION}


def job_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The settings among ``params`` (a profile as written) that are inputs of a job's measurements: all but
    :data:`prunelib.profiles.NOT_JOB_INPUTS` (how the book draws it, which pictures it draws, for which seeds it
    measures concepts)."""
    return {k: v for k, v in params.items() if k not in NOT_JOB_INPUTS}


def recorded_inputs(done: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a result file (``done``) records as its inputs, as :func:`job_inputs` declares them today: a setting a
    file recorded that is no longer an input (:func:`job_params`) is left out. None where it records none."""
    inputs = done.get("inputs")
    return None if inputs is None else {**inputs, "params": job_params(inputs.get("params", {}))}


def measurement_settings(settings: Settings | Mapping[str, Any]) -> dict[str, Any]:
    """What the measurements depend on besides the networks (compared before a result is reused): the image size,
    the fixed image set, the protocol's version, the methods (and the random baseline), ROAD's precision, the
    integration steps, the bootstrap resamples, the image seed and the validation subset."""
    s = as_settings(settings)
    per_class, image_set_seed = set_size(s)
    return {"image_size": s.need("image_size"), "image_set_per_class": per_class,
            "image_set_seed": image_set_seed, "protocol": PROTOCOL,
            "methods": [*s.methods, "random"], "road_precision": s.road_precision,
            "ig_steps": s.need("ig_steps"), "n_bootstrap": s.need("n_bootstrap"), "image_seed": IMAGE_SEED,
            "val_per_class": s.val_per_class}


def read_result(path: Path, profile: str | None = None) -> dict[str, Any]:
    """A job's result file, checked: valid JSON, a mapping with its profile, regime, seed, settings and networks and,
    given ``profile``, the profile, regime and seed its place names (``results/<profile>/runs/<regime>-seed<k>.json``:
    a copied or renamed file is refused). A ValueError names the file and what is wrong. Whether it is current is
    :func:`stale`'s to say."""
    try:
        done = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a readable result file ({err}); remove it and run the sweep again, which "
                         "measures that job anew") from None
    if not isinstance(done, dict) or not all(k in done for k in ("profile", "regime", "seed", "settings", "networks")
                                             ) or not isinstance(done["networks"], list):
        raise ValueError(f"{path} is not a job's result file (it needs profile, regime, seed, settings and "
                         "networks); remove it and run the sweep again")
    named = f"{done['regime']}-seed{done['seed']}.json"
    if profile is not None and (done["profile"] != profile or named != path.name):
        raise ValueError(f"{path} holds the result of profile {done['profile']!r}, job {named[:-5]!r}, not what its "
                         f"place says (profile {profile!r}, job {path.stem!r}): a copied or renamed file; remove it")
    return done


def stale(job: Job, done: dict[str, Any], settings: Settings | Mapping[str, Any] | None = None) -> list[str]:
    """Why ``done`` (a result file's content) is not ``job``'s current result: its inputs (:func:`inputs_stale`) and
    its networks (:func:`networks_replaced`). Empty: current."""
    return inputs_stale(job, done, settings) + networks_replaced(done)


def inputs_stale(job: Job, done: dict[str, Any], settings: Settings | Mapping[str, Any] | None = None) -> list[str]:
    """Why the inputs ``done`` records (:func:`recorded_inputs`) are not ``job``'s now (:func:`job_inputs`,
    :func:`prunelib.currency.why_stale`). Empty: the same."""
    return why_stale(recorded_inputs(done), job_inputs(job, settings))


def networks_replaced(done: dict[str, Any]) -> list[str]:
    """Which networks ``done`` measured are another network on this machine now (:func:`networks_here`: a run
    folder trained again here), by :func:`prunelib.currency.why_stale`. Empty: each is the one measured, or not here."""
    return why_stale(measured_networks(done), networks_here(done))


def measured_networks(done: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The networks a result file measured, as inputs: ``{checkpoint: {"identity", "checkpoint_sha256"}}``."""
    return {n["checkpoint"]: {"identity": n["identity"], "checkpoint_sha256": n.get("checkpoint_sha256")}
            for n in done["networks"]}


def networks_here(done: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The networks of ``done`` as this machine holds them now, in :func:`measured_networks`' form: a run folder
    trained again here (from the same inputs: CPUs differ in their last bits, or from others) has another identity
    or checkpoint; a network not on this machine stands as it was measured (the file names it; git keeps what a
    next unit needs, :mod:`prunelib.state`)."""
    now = measured_networks(done)
    for name, network in now.items():
        path = paths.resolve(name)
        record = path.parent / runs.RUN_FILE
        if record.is_file():
            network["identity"] = runs.file_digest(record)
        if path.is_file():
            network["checkpoint_sha256"] = runs.file_digest(path)
    return now


def missing(job: Job, done: dict[str, Any], settings: Settings | Mapping[str, Any]) -> list[str]:
    """Why ``done``'s networks are not one per network of ``job``'s regime: the dense network, the control where
    the regime has one, and each level (or round) of the profile, each once. Empty: one of each."""
    regime = regimes.get(job.regime)
    folders = ["dense"] + (["control"] if regime.has_control else []) + (
        [round_folder(r) for r in range(1, regime.n_rounds(settings) + 1)] if regime.method == "authors"
        else [level_folder(s) for s in regime.levels(settings)])
    found = [n["network"] if n["network"] != "pruned" else
             round_folder(n["round"]) if "round" in n else level_folder(n["target"]) for n in done["networks"]]
    return ([f"it has no measurement of the network {f}" for f in folders if f not in found]
            + [f"it measures the network {f} {found.count(f)} times" for f in dict.fromkeys(found)
               if found.count(f) > 1]
            + [f"it measures a network {f} the regime does not have" for f in dict.fromkeys(found) if f not in folders])


def network_record(network: str, target: float, path: Path, trained: dict[str, Any], seconds: float | None
            ) -> dict[str, Any]:
    """What the job records of a network: ``trained`` is its training's result (top-1 on the whole validation
    split, overall and per class, and for a pruned network before its fine-tuning)."""
    identity = path.parent / runs.RUN_FILE
    return {"network": network, "target": target, "checkpoint": paths.portable(path), "top1": trained["val_top1"],
            "top1_per_class": trained.get("val_per_class"),
            "top1_before_finetune": trained.get("val_top1_before_finetune"),
            "seconds": seconds, "identity": runs.file_digest(identity), "checkpoint_sha256": runs.file_digest(path),
            "n_val": json.loads(identity.read_text())["data"]["n_val"], "history": history(path.parent)}


def pruned_record(job: Job, report: dict[str, Any]) -> dict[str, Any]:
    """The record of a pruned level or round of ``job`` from its schedule's ``report``."""
    folder = round_folder(report["round"]) if "round" in report else level_folder(report["sparsity_target"])
    record = network_record("pruned", report["sparsity_target"], job.checkpoints / job.regime / folder / "final.pt",
                            report, report.get("finetune_seconds"))
    if "round" in report:  # the authors' loop: its round, and the sparsity its mask would enforce
        record.update(round=report["round"], mask_sparsity=report["mask_sparsity"])
    return record


def history(folder: Path) -> list[dict[str, Any]]:
    """A run's epochs as its result records them: ``[{"epoch", "lr", "val_top1", "train_loss", "seconds"}]`` (the
    learning rate the epoch trained at, None where the run predates its recording; empty for a run without epochs
    of its own)."""
    file = folder / "history.json"
    if not file.is_file():
        return []
    return [{"epoch": h["epoch"], "lr": h.get("lr"), "val_top1": h["val_top1"], "train_loss": h.get("train_loss"),
             "seconds": h.get("seconds")} for h in json.loads(file.read_text())]


def dense_networks(runs: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Per seed, the record of its dense network: the first of ``runs`` (result files) that measured one, named by
    its identity."""
    dense: dict[int, dict[str, Any]] = {}
    for run in runs:
        net = first_network(run["networks"], "dense")
        if net is not None and "identity" in net:
            dense.setdefault(run["seed"], net)
    return dense


def same_network(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two measured records are one trained network: the same checkpoint digest, or (a checkpoint saved
    twice, in other bytes) the same validation top-1 after every epoch and at the end. The identity names a
    network's inputs, and machines of other kinds train the same inputs into different networks: it decides (with
    the top-1) only between records older than both digests and histories."""
    if a.get("checkpoint_sha256") and a.get("checkpoint_sha256") == b.get("checkpoint_sha256"):
        return True
    epochs = [[h.get("val_top1") for h in r.get("history") or []] for r in (a, b)]
    if epochs[0] and epochs[1]:
        return epochs[0] == epochs[1] and a.get("top1") == b.get("top1")
    old = not any(r.get("checkpoint_sha256") or r.get("history") for r in (a, b))
    return old and bool(a.get("identity")) and a.get("identity") == b.get("identity") and a.get("top1") == b.get("top1")


def network_order(network: dict[str, Any]) -> tuple[int, float]:
    """Where a network stands in its job's result file: the dense network, the control, then the pruned ones by
    their target."""
    return ({"dense": 0, "control": 1}.get(network["network"], 2), float(network.get("target", 0.0)))


def is_done(job: Job) -> bool:
    """Whether ``job``'s result file is complete (one network per level of its regime, :func:`missing`) and current
    (:func:`stale`: the same inputs, and networks whose run folders and checkpoints, where present here, are the ones
    it measured), its concept metrics and pictures included (:func:`prunelib.sweep.concepts.is_current`,
    :func:`prunelib.sweep.pictures.is_current`)."""
    if not job.result_file.is_file():
        return False
    try:
        done = read_result(job.result_file)
    except ValueError:
        return False
    settings = load_settings(job.profile)
    if not done.get("complete", True) or stale(job, done, settings) or missing(job, done, settings):
        return False  # (a file of before "complete": a whole job)
    return not derived_missing(job, settings, done["networks"])


def derived_missing(job: Job, settings: Settings, networks: list[dict[str, Any]]) -> list[str]:
    """What ``job`` derives from all its networks at once (``"concept metrics"``, ``"pictures"``) that its profile
    asks for and that is not current for its measured ``networks``."""
    return [what for what, module in (("concept metrics", concepts), ("pictures", pictures))
            if module.wanted(job, settings) and not module.is_current(job, settings, networks)]
