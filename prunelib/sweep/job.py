"""One job of a sweep: a (profile, seed, regime) run, trained and measured into folders of its own.

A job trains the seed's dense network (shared by the regimes of that seed, trained once: concurrent jobs take turns
on its folder), prunes it through the regime's levels (the lottery regime also trains the unpruned control; the
authors' regimes run their round loop), then measures every network on the profile's fixed image set
(:mod:`prunelib.image_set`, measurement protocol v2): top-1, Gini, ROAD MoRF and LeRF with AOPC for each saliency
method of the profile, the random-order ROAD baseline, and where each network's maps agree with its dense
network's. Layout::

    checkpoints/<profile>/seed<k>/dense/                  the dense run (run.json, init.pt, best.pt, ...)
    checkpoints/<profile>/seed<k>/<regime>/level_XX/      each pruned level (authors_*: round_<r>/)
    checkpoints/<profile>/seed<k>/lottery/control/        the unpruned control
    checkpoints/<profile>/seed<k>/<run>/maps-<key>.pt     a network's maps on the image set (for the baselines)
    results/<profile>/runs/<regime>-seed<k>.json          the job's measurements (small; the summary reads it)
    results/<profile>/runs/concepts/<regime>-seed<k>.json concept metrics, for the profile's concept_seeds
    results/<profile>/runs/pictures/<regime>-seed<k>/     saliency grid, explorer frames and concept galleries,
                                                          for the profile's picture_seeds (:mod:`.pictures`)

Every folder is keyed by its identity (:mod:`prunelib.runs`), so a job resumes after a kill at any point and
never reuses a network made from other inputs. Each network is measured as soon as it is trained, and the result
file is rewritten after each (``"complete": false`` until the last, :class:`Measurement`): a kill, or the loss of
the machine with its checkpoints, loses no finished network's measurement. The file records everything it was made
from (:func:`job_inputs`) and the identity and checkpoint digest of each network, and is current only while all of
them are unchanged (:func:`stale`); the sweep counts a job done only when its file is complete and current.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from ..measure.common import inputs
from .. import checkpoint, paths, pipeline, regimes, runs, state
from . import concepts, pictures
from ..image_set import kept
from ..networks import load_network
from ..models import resnet18, resolve_device
from ..provenance import provenance
from ..pruning import make_permanent, sparsity_report
from ..metrics.agreement import as_saliency, spearman, top_k_iou
from ..schedule import authors_schedule, level_folder, round_folder
from ..training import CODE_VERSION, TrainConfig, train
from ..currency import why_stale

#: the seed of the bootstrap intervals, ROAD's imputation noise and the random maps (with each image's index)
IMAGE_SEED = 0


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


def _params(job: Job) -> dict[str, Any]:
    from ..profiles import load_profile
    return load_profile(job.profile)


def train_networks(job: Job, *, progress: bool = True,
                   on_network: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Train (or resume, or reuse) every network of ``job``; return one record per network, dense first.

    A record: ``{"network": "dense"|"pruned"|"control", "target": fraction, "checkpoint": path, "top1": fraction,
    "top1_per_class": [fraction per class], "seconds": training seconds, "identity": sha256 of its run.json}``.
    ``on_network`` receives each record as soon as its network is saved, before the next one trains (the job
    measures it then).
    """
    params, regime = _params(job), regimes.get(job.regime)
    records: list[dict[str, Any]] = []

    def done(record: dict[str, Any]) -> None:
        records.append(record)
        if on_network is not None:
            on_network(record)

    splits = pipeline.load_splits(job.data, params.get("subset_per_class") or None, seed=job.seed,
                                  val_per_class=params.get("val_per_class") or None)
    dense_cfg = TrainConfig.from_params(params, seed=job.seed)
    dense_dir = job.checkpoints / "dense"
    dense = pipeline.train_dense(splits, dense_cfg, dense_dir, device=job.device, progress=progress)
    done(network_record("dense", 0.0, dense_dir / "best.pt", dense, sum(h["seconds"] for h in dense["history"])))
    if regime.has_control:
        control_dir = job.checkpoints / regime.name / "control"
        model = resnet18()
        checkpoint.load_model_state(model, checkpoint.load(dense_dir / "init.pt")["model"])
        result = train(model, *splits, regime.control_recipe(dense_cfg), control_dir, device=job.device,
                       progress=progress, identity={"stage": "control", "initial": runs.file_digest(dense_dir / "init.pt")})
        done(network_record("control", 0.0, control_dir / "best.pt", result,
                            sum(h["seconds"] for h in result["history"])))

    def level_done(r: dict[str, Any]) -> None:
        done(pruned_record(job, r))

    if regime.method == "authors":
        authors_schedule(dense_dir, regime.n_rounds(params), regime.rate(params), regime.recipe(dense_cfg, params),
                         *splits, job.checkpoints / regime.name, enforce_mask=regime.enforce_mask, device=job.device,
                         progress=progress, on_level=level_done)
    else:
        pipeline.prune_dense(splits, dense_dir, regime.levels(params), regime.recipe(dense_cfg, params),
                             job.checkpoints / regime.name, method=regime.method, device=job.device,
                             progress=progress, on_level=level_done)
    return records


def pruned_record(job: Job, report: dict[str, Any]) -> dict[str, Any]:
    """The record of a pruned level or round of ``job`` from its schedule's ``report``."""
    folder = round_folder(report["round"]) if "round" in report else level_folder(report["sparsity_target"])
    record = network_record("pruned", report["sparsity_target"], job.checkpoints / job.regime / folder / "final.pt",
                            report, report.get("finetune_seconds"))
    if "round" in report:  # the authors' loop: its round, and the sparsity its mask would enforce
        record.update(round=report["round"], mask_sparsity=report["mask_sparsity"])
    return record


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


def history(folder: Path) -> list[dict[str, Any]]:
    """A run's epochs as its result records them: ``[{"epoch", "lr", "val_top1", "train_loss", "seconds"}]`` (the
    learning rate the epoch trained at, None where the run predates its recording; empty for a run without epochs
    of its own)."""
    file = folder / "history.json"
    if not file.is_file():
        return []
    return [{"epoch": h["epoch"], "lr": h.get("lr"), "val_top1": h["val_top1"], "train_loss": h.get("train_loss"),
             "seconds": h.get("seconds")} for h in json.loads(file.read_text())]


def job_inputs(job: Job, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything a job's result is made from besides its networks: the job's own profile, seed and regime, the
    profile's every setting (but those that only say how the book draws it or which pictures the job draws), the
    data's contents (not its path) and the training code's version. A result file whose ``inputs`` differ is not
    current (the networks are compared one by one, see :func:`stale`)."""
    from ..data import locate, split_digests
    from ..profiles import DRAWING_ONLY, PICTURES_ONLY
    params = _params(job) if params is None else params
    return {"profile": job.profile, "seed": job.seed, "regime": job.regime,
            "params": {k: v for k, v in params.items() if k not in DRAWING_ONLY + PICTURES_ONLY},
            "settings": _settings(job, params),
            "data": split_digests(locate(job.data)), "code": CODE_VERSION}


def read_result(path: Path) -> dict[str, Any]:
    """A job's result file, checked to be one (a mapping with its inputs and networks); ValueError naming it."""
    try:
        done = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a readable result file ({err}); remove it and run the sweep again") from None
    if not isinstance(done, dict) or not isinstance(done.get("networks"), list) or "inputs" not in done:
        raise ValueError(f"{path} is not a result file of this version (no inputs or networks); remove it and run "
                         "the sweep again")
    return done


def stale(job: Job, done: dict[str, Any], params: dict[str, Any] | None = None) -> list[str]:
    """Why ``done`` (a result file's content) is not ``job``'s current result (:func:`prunelib.currency.why_stale`):
    its declared inputs (:func:`job_inputs`) and the networks it measured as they are on this machine now
    (:func:`networks_here`). Empty: current."""
    return why_stale({**done.get("inputs", {}), "networks": measured_networks(done)},
                     {**job_inputs(job, params), "networks": networks_here(done)})


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


def missing(job: Job, done: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """Why ``done``'s networks are not one per network of ``job``'s regime: the dense network, the control where
    the regime has one, and each level (or round) of the profile, each once. Empty: one of each."""
    regime = regimes.get(job.regime)
    folders = ["dense"] + (["control"] if regime.has_control else []) + (
        [round_folder(r) for r in range(1, regime.n_rounds(params) + 1)] if regime.method == "authors"
        else [level_folder(s) for s in regime.levels(params)])
    found = [n["network"] if n["network"] != "pruned" else
             round_folder(n["round"]) if "round" in n else level_folder(n["target"]) for n in done["networks"]]
    return ([f"it has no measurement of the network {f}" for f in folders if f not in found]
            + [f"it measures the network {f} {found.count(f)} times" for f in dict.fromkeys(found)
               if found.count(f) > 1]
            + [f"it measures a network {f} the regime does not have" for f in dict.fromkeys(found) if f not in folders])


class Measurement:
    """The measurements of one job's networks on the profile's fixed image set, written into ``job.result_file``
    network by network (:meth:`add`), so that a kill loses no finished network's measurement.

    Each network is measured on every image of the set (:mod:`prunelib.image_set`); ``correct`` says which it
    classifies correctly, and its aggregates are over those. ROAD's noise and the random maps are seeded by the
    validation index, so one network and one image give one value in any job. Until the job's last network is
    measured the file says ``"complete": false``: the sweep runs the job again, and its aggregation shows the
    networks measured so far. A network measured earlier with the same inputs, run identity and checkpoint digest,
    its maps still cached here, is not measured again (:func:`_earlier_measurements`): the seed's dense network
    from any job of the seed, the job's other networks from its own file and only while its dense network is
    reused too (their agreement is with it). ``origin`` is the provenance taken when the job's code was loaded
    (default: now)."""

    def __init__(self, job: Job, *, progress: bool = True, origin: dict[str, Any] | None = None) -> None:
        self.job, self.progress = job, progress
        self.params = _params(job)
        self.settings = _settings(job, self.params)
        self.inputs = job_inputs(job, self.params)
        self.origin = origin
        self.earlier, earlier_provenance = _earlier_measurements(job, self.inputs, self.settings)
        self.provenance = earlier_provenance
        self.networks: list[dict[str, Any]] = []
        #: the dense network's correct images and maps, what every later network's agreement is with
        self.reference: tuple[torch.Tensor, dict[str, torch.Tensor]] | None = None
        #: whether the dense network's earlier measurement was reused (then the others' may be too)
        self.dense_reused = False
        self._images: tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        """Measure the network of ``record`` (or reuse its earlier measurement) and write the result so far."""
        earlier = self.earlier.get((record["identity"], record["checkpoint_sha256"]))
        first = not self.networks
        if earlier is not None and (first or self.dense_reused):
            self.networks.append({**earlier, **record})
            if first:
                self.dense_reused = True
                self._keep_reference(self.networks[-1], kept(earlier),
                                     checkpoint.load(maps_file(record, self.settings)))
            return self.networks[-1]  # the file stays as it was until the job is complete
        self.networks.append(self.measure(record))
        self._write(complete=False)
        return self.networks[-1]

    def resume(self, networks: list[dict[str, Any]]) -> None:
        """Go on from ``networks`` measured earlier (a unit on another machine: their records, kept as measured),
        the dense network's agreement reference read from the state in git (:func:`prunelib.state.read_reference`)."""
        dense = next((n for n in networks if n["network"] == "dense"), None)
        if dense is not None:
            self.reference = state.read_reference(self.job.profile, self.job.seed, dense, self.settings)
            self.dense_reused = True
        self.networks = list(networks)

    def finish(self) -> dict[str, Any]:
        """Write the result file as complete and return its content."""
        return self._write(complete=True)

    def write(self, *, complete: bool) -> dict[str, Any]:
        """Write the result file with the networks so far, in the job's order (dense, control, pruned)."""
        self.networks.sort(key=network_order)
        return self._write(complete=complete)

    def _keep_reference(self, dense: dict[str, Any], correct: torch.Tensor, maps: dict[str, torch.Tensor]) -> None:
        """Make the dense network's maps the agreement reference of the job's later networks, in the compact form git
        keeps (:func:`prunelib.state.write_reference`), so that a network measured by a unit on a clean machine is
        compared with the same reference as one measured in an unbroken job."""
        self.reference = state.write_reference(self.job.profile, self.job.seed, dense, self.settings, correct, maps)

    def _write(self, *, complete: bool) -> dict[str, Any]:
        job = self.job
        origin = self.origin or provenance(job.profile, job.data, str(resolve_device(job.device)), job.seed)
        out = {"profile": job.profile, "seed": job.seed, "regime": job.regime, "settings": self.settings,
               "inputs": self.inputs, "n_images": len(self.networks[0]["images"]) if self.networks else 0,
               "networks": self.networks,
               "complete": complete, "provenance": self.provenance or origin}
        checkpoint.save_json(out, job.result_file)
        return out

    def measure(self, record: dict[str, Any]) -> dict[str, Any]:
        """The measurements of the network of ``record`` (the first one measured is the job's agreement reference),
        not written into the result file."""
        self.provenance = None  # something was measured by this job's code
        from ..measure.common import near_chance
        from ..measure.faithfulness import measure
        from ..training import predict

        val, image_set, x, y = self._image_set()
        if self.progress:
            print(f"measuring {self.job.name}: {record['network']} {paths.portable(record['checkpoint'])} on "
                  f"{len(image_set)} images", flush=True)
        device = resolve_device(self.job.device)
        model = load_network(paths.resolve(record["checkpoint"]), record["checkpoint_sha256"]).to(device)
        t0 = time.perf_counter()
        image_size, methods = self.settings["image_size"], tuple(self.settings["methods"])
        correct = predict(model, val.images[image_set], image_size=image_size, bf16=False).argmax(1).cpu() == y
        maps: dict[str, torch.Tensor] = {}
        params = self.params
        result = measure(model, x.to(device), y.to(device), methods=methods, ig_steps=int(params["ig_steps"]),
                         n_bootstrap=int(params["n_bootstrap"]), seed=IMAGE_SEED,
                         precision=str(params.get("road_precision", "fp32")), index=image_set, keep=correct,
                         maps_out=maps)
        maps = {m: as_saliency(v).to(torch.float16).cpu() for m, v in maps.items() if m != "random"}
        save_maps(record, self.settings, maps)
        sparsity = sparsity_report(model)
        measured = {**record, "level": 100 * sparsity["global"],
                    "layers": {name: 100 * layer["sparsity"] for name, layer in sparsity["layers"].items()},
                    "near_chance": near_chance(record["top1"], 10), "images": image_set.tolist(),
                    "correct": correct.tolist(), "n_correct": int(correct.sum()), "methods": result,
                    "agreement": agreement(image_set, (correct, maps), self.reference or (correct, maps)),
                    "measure_seconds": time.perf_counter() - t0}
        if self.reference is None:  # the dense network, measured first
            self._keep_reference(measured, correct, maps)
        return measured

    def _image_set(self) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The validation split, the fixed set's indices and its images and labels (loaded once, when needed)."""
        if self._images is None:
            from ..image_set import fixed_image_set, set_size
            from ..measure.common import validation_split
            val = validation_split(self.job.data, self.params.get("val_per_class") or 0, self.job.seed)
            image_set = fixed_image_set(val.labels, *set_size(self.params))
            x, y = inputs(val, image_set, self.settings["image_size"], torch.device("cpu"))
            self._images = (val, image_set, x, y)
        return self._images


def network_order(network: dict[str, Any]) -> tuple[int, float]:
    """Where a network stands in its job's result file: the dense network, the control, then the pruned ones by
    their target."""
    return ({"dense": 0, "control": 1}.get(network["network"], 2), float(network.get("target", 0.0)))


def keep_state(job: Job, params: dict[str, Any], record: dict[str, Any], initial: dict[str, str] | None = None
               ) -> int | None:
    """After ``record``'s network is measured, write into git's state (:mod:`prunelib.state`) where the job's next
    round starts from it (the dense network: round 1; round ``r``: round ``r + 1``); ``initial``: the dense run's
    initial-weight digests (:func:`prunelib.state.initial_digests`; default: of its ``init.pt`` here). Returns the
    bytes written, None where no round starts from it."""
    regime = regimes.get(job.regime)
    if record["network"] == "control" or regime.method not in ("lottery", "authors"):
        return None
    initial = initial or state.initial_digests(job.checkpoints / "dense" / "init.pt")
    path = paths.resolve(record["checkpoint"])
    if record["network"] == "dense":
        r = 1
    else:
        r = 1 + (record["round"] if "round" in record else
                 [round(s, 6) for s in regime.levels(params)].index(round(record["target"], 6)) + 1)
    source = path.parent / ("last.pt" if regime.method == "authors" else path.name)
    return state.write_next_round(job.profile, job.seed, job.regime, r, source, initial, params)


def _earlier_measurements(job: Job, inputs_now: dict[str, Any], settings: dict[str, Any]
                          ) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any] | None]:
    """The measurements ``job`` may reuse: ``{(identity, checkpoint sha256): network}`` of its own result file
    (complete or not), and the dense network of the seed's other jobs (it is shared; its agreement is with itself),
    from files whose inputs are today's (but for the regime), only those whose maps are still cached on this
    machine; and its own file's provenance (kept when nothing is measured again)."""
    usable: dict[tuple[str, str], dict[str, Any]] = {}
    own_provenance = None
    siblings = sorted(p for p in job.result_file.parent.glob(f"*-seed{job.seed}.json") if p != job.result_file)
    for path in [job.result_file, *siblings]:
        own = path == job.result_file
        if not path.is_file():
            continue
        try:
            done = read_result(path)
        except ValueError as err:
            if own:
                print(f"{err}: measuring again", flush=True)
            continue
        why = why_stale({**done["inputs"], "regime": None}, {**inputs_now, "regime": None})
        if why:
            if own:
                print(f"{paths.portable(path)} was measured from other inputs ({'; '.join(why)}): measuring again",
                      flush=True)
            continue
        for n in done["networks"]:
            if (own or n["network"] == "dense") and maps_file(n, settings).is_file():
                usable.setdefault((n["identity"], n["checkpoint_sha256"]), n)
        if own:
            own_provenance = done.get("provenance")
    return usable, own_provenance


def agreement(image_set: torch.Tensor, network: tuple[torch.Tensor, dict[str, torch.Tensor]],
              reference: tuple[torch.Tensor, dict[str, torch.Tensor]], name: str = "dense") -> dict[str, Any]:
    """Where a network looks against a reference network (:mod:`prunelib.metrics.agreement`), per image of the set
    that both classify correctly: ``{"reference", "images", method: {"spearman": [...], "top10_iou": [...]}}``."""
    (correct, maps), (ref_correct, ref_maps) = network, reference
    both = correct & ref_correct
    out: dict[str, Any] = {"reference": name, "images": image_set[both].tolist()}
    for method, m in maps.items():
        a, b = m[both].float(), ref_maps[method][both].float()
        out[method] = {"spearman": spearman(a, b).tolist(), "top10_iou": top_k_iou(a, b, 0.1).tolist()}
    return out


def maps_file(record: dict[str, Any], settings: dict[str, Any]) -> Path:
    """The saliency maps of one network on the image set, cached beside its checkpoint (not in git), keyed by the
    checkpoint's digest and the measurement settings: what the dense-vs-dense baselines are computed from."""
    key = hashlib.sha256(json.dumps([record["checkpoint_sha256"], settings], sort_keys=True).encode()).hexdigest()
    return paths.resolve(record["checkpoint"]).parent / f"maps-{key[:16]}.pt"


def save_maps(record: dict[str, Any], settings: dict[str, Any], maps: dict[str, torch.Tensor]) -> None:
    checkpoint.save({method: m.contiguous() for method, m in maps.items()}, maps_file(record, settings))


def _settings(job: Job, params: dict[str, Any]) -> dict[str, Any]:
    """What the measurements depend on besides the networks (compared before a result is reused)."""
    from ..image_set import set_size
    from ..profiles import parse_methods
    methods = parse_methods(params.get("methods", "VG,IG")) + ["random"]
    per_class, image_set_seed = set_size(params)
    return {"image_size": int(params["image_size"]), "image_set_per_class": per_class,
            "image_set_seed": image_set_seed, "protocol": 2,
            "methods": methods, "road_precision": str(params.get("road_precision", "fp32")),
            "ig_steps": int(params["ig_steps"]), "n_bootstrap": int(params["n_bootstrap"]), "image_seed": IMAGE_SEED,
            "val_per_class": int(params.get("val_per_class") or 0)}


def run_job(job: Job, *, progress: bool = True) -> Path:
    """Train and measure ``job``; networks measured earlier with the same inputs are not measured again.

    SIGTERM stops the job as Ctrl-C does (what finished is kept; the job resumes where it stopped), also where it was
    started in the background, which ignores Ctrl-C, and under submitit, whose jobs otherwise ignore SIGTERM."""
    with stopped_by_sigterm():
        return _run_job(job, progress=progress)


@contextlib.contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """Within the block SIGTERM (and SIGINT, even where it was ignored, as in a process started with ``nohup ...
    &``) raises KeyboardInterrupt, so that ``finally`` clauses and the CLI's interrupted message run; the previous
    handlers come back after it. Outside the main thread, where no signal arrives, nothing changes."""
    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def networks_to_train(job: Job, params: dict[str, Any] | None = None) -> list[tuple[str, TrainConfig]]:
    """The networks of ``job`` not trained on this machine yet, in training order, each as (its folder, relative to
    the seed's checkpoints, and its recipe): a dense network without ``report.json``, a control without all its
    epochs, a pruned level or round without ``final.pt``. A folder holding a run of other inputs counts as trained
    here; the job refuses it when it claims the folder (:func:`prunelib.runs.claim`)."""
    params = _params(job) if params is None else params
    regime, dense = regimes.get(job.regime), TrainConfig.from_params(params, seed=job.seed)
    left: list[tuple[str, TrainConfig]] = []
    if not (job.checkpoints / "dense" / "report.json").is_file():
        left.append(("dense", dense))
    if regime.has_control:
        control, folder = regime.control_recipe(dense), job.checkpoints / regime.name / "control"
        history = folder / "history.json"
        if not history.is_file() or len(json.loads(history.read_text())) < control.epochs:
            left.append((f"{regime.name}/control", control))
    folders = ([round_folder(r) for r in range(1, regime.n_rounds(params) + 1)] if regime.method == "authors" else
               [level_folder(s) for s in regime.levels(params)])
    recipe = regime.recipe(dense, params)
    left += [(f"{regime.name}/{f}", recipe) for f in folders
             if not (job.checkpoints / regime.name / f / "final.pt").is_file()]
    return left


def check_machine(job: Job) -> str | None:
    """Refuse, before any work, a job that would train a network under bf16 autocast on a device that emulates it
    (:func:`prunelib.pipeline.check_precision`, judged on the longest training of :func:`networks_to_train`: about
    12x slower; small trainings and ``--allow-emulated-bf16`` pass). A job with nothing left to train is not refused;
    where it would classify ROAD in emulated bf16, the returned note says that measuring will be slower."""
    from ..data import locate
    from ..hardware import allowed, native_bf16
    params = _params(job)
    left = networks_to_train(job, params)
    what = f"Job {job.name} of profile {job.profile!r}"
    if left:
        _, longest = max(left, key=lambda network: network[1].epochs)
        pipeline.check_precision(longest, locate(job.data), params.get("subset_per_class"), job.device,
                                 f"{what} ({len(left)} network{'s' if len(left) > 1 else ''} left to train)")
        return None
    if params.get("road_precision") == "bf16" and not allowed() and not native_bf16(resolve_device(job.device)):
        return (f"{what}: every network is trained; measuring them classifies ROAD in bf16, which this CPU emulates "
                "(no AVX512-BF16 or AMX-BF16), so it takes several times longer than on a CPU with them")
    return None


def _run_job(job: Job, *, progress: bool) -> Path:
    note = check_machine(job)
    if note and progress:
        print(note, flush=True)
    if job.threads:
        torch.set_num_threads(job.threads)
    array = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    slurm = f"{array[0]}_{array[1]}" if all(array) else os.environ.get("SLURM_JOB_ID")
    print(f"prunelib job {job.name} (profile {job.profile}) on {platform.node()}"
          + (f", SLURM job {slurm}" if slurm else ", no SLURM"), flush=True)
    # the code this process runs is the code of its start: record the commit (and any local change) now
    origin = provenance(job.profile, job.data, str(resolve_device(job.device)), job.seed)
    with runs.locked(job.lock_folder, wait=False):  # the same job started twice (a re-run after a killed parent)
        measurement = Measurement(job, progress=progress, origin=origin)
        params = _params(job)

        def on_network(record: dict[str, Any]) -> None:
            measurement.add(record)
            keep_state(job, params, record)

        records = train_networks(job, progress=progress, on_network=on_network)
        measured = measurement.finish()
        if concepts.wanted(job, params) and not concepts.is_current(job, params, records):
            concepts.measure_concepts(job, measured["networks"], params, progress=progress)
        if pictures.wanted(job, params) and not pictures.is_current(job, params, measured["networks"]):
            pictures.make_pictures(job, measured["networks"], params, measured["provenance"])
    return job.result_file


if __name__ == "__main__":  # python -m prunelib.sweep.job PROFILE SEED REGIME [DATA]: one job in this process
    import sys
    profile, seed, regime, *rest = sys.argv[1:]
    print(run_job(Job(profile, int(seed), regime, data=rest[0] if rest else None)))
