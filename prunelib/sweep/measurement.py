"""The measurements of a job's networks on the profile's fixed image set, written network by network.

:class:`Measurement` measures each network as soon as it is trained (:func:`prunelib.measure.faithfulness.measure`:
top-1, Gini, ROAD MoRF and LeRF with AOPC for each saliency method, the random-order baseline) and where its maps
agree with its dense network's (:func:`agreement`), and rewrites the job's result file after each, so that a kill
loses no finished network's measurement. The maps are cached beside each checkpoint (:func:`maps_file`, outside git)
for the seed-to-seed baselines; the dense network's, in compact form, are kept in git (:mod:`prunelib.state`).
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import torch

from .. import checkpoint, paths, state
from ..currency import why_stale
from ..image_set import kept
from ..measure import IMAGE_SEED
from ..measure.common import inputs
from ..metrics.agreement import as_saliency, spearman, top_k_iou
from ..models import resolve_device
from ..networks import load_network
from ..provenance import hardware, provenance
from ..pruning import sparsity_report
from ..runs import first_network
from .records import (Job, job_inputs, measurement_settings, network_order, profile_settings, read_result,
                      recorded_inputs)


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
        self.profile = profile_settings(job)
        self.settings = measurement_settings(self.profile)
        self.inputs = job_inputs(job, self.profile)
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
        dense = first_network(networks, "dense")
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
        result = measure(model, x.to(device), y.to(device), methods=methods, ig_steps=self.settings["ig_steps"],
                         n_bootstrap=self.settings["n_bootstrap"], seed=IMAGE_SEED,
                         precision=self.settings["road_precision"], index=image_set, keep=correct,
                         maps_out=maps)
        maps = {m: as_saliency(v).to(torch.float16).cpu() for m, v in maps.items() if m != "random"}
        save_maps(record, self.settings, maps)
        sparsity = sparsity_report(model)
        measured = {**record, "level": 100 * sparsity["global"],
                    "layers": {name: 100 * layer["sparsity"] for name, layer in sparsity["layers"].items()},
                    "near_chance": near_chance(record["top1"], 10), "images": image_set.tolist(),
                    "correct": correct.tolist(), "n_correct": int(correct.sum()), "methods": result,
                    "agreement": agreement(image_set, (correct, maps), self.reference or (correct, maps)),
                    "measure_seconds": time.perf_counter() - t0, "machine": hardware(str(device))}
        if self.reference is None:  # the dense network, measured first
            self._keep_reference(measured, correct, maps)
        return measured

    def _image_set(self) -> tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The validation split, the fixed set's indices and its images and labels (loaded once, when needed)."""
        if self._images is None:
            from ..image_set import fixed_image_set
            from ..measure.common import validation_split
            val = validation_split(self.job.data, self.settings["val_per_class"], self.job.seed)
            image_set = fixed_image_set(val.labels, self.settings["image_set_per_class"], self.settings["image_set_seed"])
            x, y = inputs(val, image_set, self.settings["image_size"], torch.device("cpu"))
            self._images = (val, image_set, x, y)
        return self._images


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
        why = why_stale({**(recorded_inputs(done) or {}), "regime": None}, {**inputs_now, "regime": None})
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
