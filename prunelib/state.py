"""What git keeps of a job between its units (:mod:`prunelib.sweep.units`): the least that lets the next unit start
on a clean machine and keeps every result reproducible. Checkpoints stay a cache outside git.

Per seed of a profile, under ``results/<profile>/state/seed<k>/``:

- ``dense-<digest>-maps.bin``: the dense network's saliency maps on the fixed image set, of the images it classifies
  correctly, as per-image rank bins (:func:`compact_maps`): the reference every later network's agreement is
  computed against (in an unbroken job as in a unit).
- ``dense-<digest>-concepts.bin``: where the profile measures the seed's concepts, the images of each class the
  dense network classifies correctly and its features of their crops, float32: the space in which every later
  network's concepts are judged (:func:`prunelib.sweep.concepts.reference`; ~10 MB at 128 px, 100 images of 3
  classes).
- ``<regime>/round_<r>.bin``: where round ``r`` of a lottery or authors' regime starts: the mask of every pruned
  tensor as packed bits, the BatchNorm statistics where the regime keeps them (authors' rewind), and in ``meta`` the
  digests of the round's parent checkpoint and of the initial weights (regenerated from the seed and checked,
  :func:`initial_weights`).

A file is a zlib-compressed container of named arrays with a JSON header (:func:`write_arrays`): the same arrays
give the same bytes, so two regimes starting from one state share one blob in git.
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from . import checkpoint, paths
from .profiles import Settings, as_settings

#: the agreement reference's bits per pixel: its rank within its image, in ``2**MAP_BITS`` bins (4: Spearman's
#: correlation within about 2e-3 of the full maps', the top pixels exact; the state of a seed's dense network ~4 MB)
MAP_BITS = 4
#: the share of most salient pixels whose overlap the agreement measures (``top10_iou``): kept exactly
TOP_FRACTION = 0.1


def seed_dir(profile: str, seed: int) -> Path:
    """The state of one seed of ``profile`` (in git)."""
    return paths.results_dir(profile) / "state" / f"seed{seed}"


def round_file(profile: str, seed: int, regime: str, r: int) -> Path:
    """Where round ``r`` of ``regime`` starts (written by the unit before it)."""
    return seed_dir(profile, seed) / regime / f"round_{r}.bin"


def maps_file(profile: str, seed: int, checkpoint_sha256: str) -> Path:
    """The maps of the seed's dense network whose checkpoint has this digest (two jobs of a seed may have measured
    two realizations of it, trained on two machines): the agreement reference of the networks pruned from it."""
    return seed_dir(profile, seed) / f"dense-{checkpoint_sha256[:16]}-maps.bin"


def concepts_file(profile: str, seed: int, checkpoint_sha256: str, class_name: str) -> Path:
    """The features of the seed's dense network (this digest) on the crops of ``class_name`` its concepts are fitted
    on (:func:`prunelib.sweep.concepts.reference`): the space the concepts of the networks pruned from it are judged
    in. One file a class: a class's float32 features (1600 crops x 512 at 128 px) are 2.3 MB compressed, and no
    file of the repository is over 5 MB."""
    return seed_dir(profile, seed) / f"dense-{checkpoint_sha256[:16]}-concepts-{class_name.replace(' ', '_')}.bin"


# ----------------------------------------------------------------------------- the container

def write_arrays(arrays: dict[str, np.ndarray], meta: dict[str, Any], path: Path) -> int:
    """Write ``arrays`` and ``meta`` (JSON) to ``path`` atomically, deterministic bytes; return the file's size."""
    header = {"meta": meta, "arrays": [{"name": k, "dtype": str(a.dtype), "shape": list(a.shape)}
                                       for k, a in arrays.items()]}
    head = json.dumps(header, sort_keys=True).encode()
    body = b"".join(np.ascontiguousarray(a).tobytes() for a in arrays.values())
    blob = zlib.compress(struct.pack("<Q", len(head)) + head + body, 9)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = checkpoint.temporary(path)
    tmp.write_bytes(blob)
    os.replace(tmp, path)
    return len(blob)


def read_arrays(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and meta of a :func:`write_arrays` file; ValueError naming the file when it is not one."""
    try:
        raw = zlib.decompress(path.read_bytes())
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + n])
    except (OSError, zlib.error, struct.error, json.JSONDecodeError) as err:
        raise ValueError(f"{paths.portable(path)} is not a state file ({err}); take it from git again") from None
    arrays, offset = {}, 8 + n
    for spec in header["arrays"]:
        dtype, shape = np.dtype(spec["dtype"]), tuple(spec["shape"])
        size = dtype.itemsize * int(np.prod(shape))
        arrays[spec["name"]] = np.frombuffer(raw, dtype, int(np.prod(shape)), offset).reshape(shape)
        offset += size
    return arrays, header["meta"]


# ----------------------------------------------------------------------------- masks, buffers, initial weights

def pack_masks(masks: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """``{tensor name: bool mask (True = kept)}`` -> ``{"mask:<name>": uint8 packed bits}`` (8 weights a byte)."""
    return {f"mask:{name}": np.packbits(m.detach().cpu().bool().numpy().reshape(-1)) for name, m in masks.items()}


def unpack_masks(arrays: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """The masks of :func:`pack_masks`, given each tensor's shape: ``{name: bool tensor}``."""
    out = {}
    for key, bits in arrays.items():
        if key.startswith("mask:"):
            name = key[len("mask:"):]
            n = int(np.prod(shapes[name]))
            out[name] = torch.from_numpy(np.unpackbits(bits, count=n).astype(bool)).reshape(shapes[name])
    return out


def pack_buffers(state: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """A model's BatchNorm statistics (``running_mean``, ``running_var``, ``num_batches_tracked``) from its state
    dict: ``{"buffer:<name>": array}``, exact."""
    keep = ("running_mean", "running_var", "num_batches_tracked")
    return {f"buffer:{k}": v.detach().cpu().numpy() for k, v in state.items() if k.endswith(keep)}


def unpack_buffers(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k[len("buffer:"):]: torch.from_numpy(a.copy()) for k, a in arrays.items() if k.startswith("buffer:")}


def initial_weights(seed: int, expected: str | None = None) -> dict[str, torch.Tensor]:
    """The dense network's weights before training, regenerated from ``seed`` (as the dense run draws them), checked
    against ``expected`` (:func:`prunelib.checkpoint.tensors_digest`): a ValueError when this machine draws other weights."""
    from .models import resnet18
    state = resnet18(seed=seed).state_dict()
    if expected is not None and checkpoint.tensors_digest(state) != expected:
        raise ValueError(f"the initial weights drawn from seed {seed} here have digest {checkpoint.tensors_digest(state)}, "
                         f"the state in git records {expected}: this machine's torch draws other weights, so no "
                         "round can start from them here")
    return state


def write_round(path: Path, masks: dict[str, torch.Tensor], meta: dict[str, Any],
                buffers: dict[str, torch.Tensor] | None = None) -> int:
    """Write where a round starts: ``masks``, ``buffers`` (a state dict whose BatchNorm statistics the round keeps,
    else None) and ``meta`` (its parent's and initial weights' digests); return the bytes written."""
    return write_arrays({**pack_masks(masks), **(pack_buffers(buffers) if buffers is not None else {})}, meta, path)


def read_round(path: Path, shapes: dict[str, tuple[int, ...]]
               ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, Any]]:
    """The masks, kept BatchNorm statistics (empty where the regime rewinds them) and meta of :func:`write_round`."""
    arrays, meta = read_arrays(path)
    return unpack_masks(arrays, shapes), unpack_buffers(arrays), meta


# ----------------------------------------------------------------------------- the agreement reference

def compact_maps(maps: dict[str, torch.Tensor], bits: int = MAP_BITS, top: float = TOP_FRACTION
                 ) -> dict[str, np.ndarray]:
    """Saliency maps ``{method: (N, H, W)}`` as each pixel's rank within its image in ``2**bits`` bins, one edge
    exactly at the ``top`` most salient pixels: what the agreement measures read (ranks for Spearman's correlation,
    the top pixels for their IoU, :mod:`prunelib.metrics.agreement`), ``{method: (N, H, W) uint8}``. Ties are ranked
    by pixel order, as :func:`~prunelib.metrics.agreement.top_k_iou` breaks them."""
    levels = 1 << bits
    out = {}
    for method, m in maps.items():
        flat = m.float().flatten(1)
        n = flat.shape[1]
        k = max(1, round(top * n))  # as top_k_iou counts the top pixels
        cut = n - k
        edge = min(max(round(levels * cut / n), 1), levels - 1)
        order = torch.sort(flat, dim=1, stable=True).indices
        ranks = torch.empty_like(order).scatter_(1, order, torch.arange(n).expand_as(order))
        binned = torch.where(ranks < cut, ranks * edge // max(cut, 1), edge + (ranks - cut) * (levels - edge) // k)
        out[method] = binned.reshape(m.shape).numpy().astype(np.uint8)
    return out


def restore_maps(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The maps of :func:`compact_maps` as float tensors ``{method: (N, H, W)}`` (their rank bins)."""
    return {method: torch.from_numpy(a.astype(np.float32)) for method, a in arrays.items()}


def _pack(a: np.ndarray, bits: int) -> np.ndarray:
    """uint8 values below ``2**bits`` as ``bits`` bits each."""
    return np.packbits(np.unpackbits(a.reshape(-1, 1), axis=1)[:, 8 - bits:])


def _unpack(packed: np.ndarray, bits: int, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    planes = np.unpackbits(packed, count=n * bits).reshape(n, bits)
    return np.packbits(np.pad(planes, ((0, 0), (8 - bits, 0))), axis=1).reshape(shape)


def write_reference(profile: str, seed: int, network: dict[str, Any], settings: dict[str, Any],
                    correct: torch.Tensor, maps: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Write the seed's dense ``network`` (a job's record of it) as the agreement reference of its later networks
    (:func:`write_maps`, with its checkpoint digest and the measurement ``settings``) and return the reference as
    every job reads it back (:func:`read_reference`)."""
    kept = {k: v[correct] for k, v in maps.items()}  # agreement is over images both networks classify correctly
    arrays = {f"maps:{k}": _pack(v, MAP_BITS) for k, v in compact_maps(kept).items()}
    shape = list(next(iter(maps.values())).shape[1:])
    meta = {"bits": MAP_BITS, "shape": shape, "checkpoint_sha256": network["checkpoint_sha256"], "settings": settings}
    write_arrays({"correct": correct.numpy().astype(np.uint8), **arrays}, meta,
                 maps_file(profile, seed, network["checkpoint_sha256"]))
    return read_reference(profile, seed, network, settings)


def read_reference(profile: str, seed: int, network: dict[str, Any], settings: dict[str, Any]
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``(correct (N,) bool, {method: (N, H, W) float rank bins})`` of the seed's dense ``network``; a ValueError
    when the state in git holds another network's maps or maps measured with other settings."""
    arrays, meta = _read_dense(maps_file(profile, seed, network["checkpoint_sha256"]), network, settings, "maps")
    correct = torch.from_numpy(arrays["correct"].astype(bool))
    shape = (int(correct.sum()), *meta["shape"])
    kept = restore_maps({k[len("maps:"):]: _unpack(a, meta["bits"], shape) for k, a in arrays.items()
                         if k.startswith("maps:")})
    maps = {k: torch.zeros((len(correct), *meta["shape"])).index_put_((correct,), v) for k, v in kept.items()}
    return correct, maps  # an image the dense network misclassifies has no map (it is in no agreement)


def write_next_round(profile: str, seed: int, regime_name: str, r: int, source: Path, initial: dict[str, str],
                     params: Settings | Mapping[str, Any]) -> int | None:
    """After the network round ``r`` of ``regime_name`` is pruned from is measured (the dense network for ``r = 1``),
    write where round ``r`` starts, from that network's checkpoint ``source`` (lottery: its ``best.pt`` or
    ``final.pt``; authors: its ``last.pt``, whose BatchNorm statistics the round keeps, its masks accumulating on
    those round ``r - 1`` started from). ``initial``: ``{"initial": init.pt's sha256, "initial_weights": its
    tensors' digest}``. Returns the bytes written; None where the regime has no round ``r`` (or, for the authors'
    loop, where the state round ``r - 1`` started from is not kept)."""
    from . import regimes
    from .models import resnet18
    from .pruning import authors_masks, layerwise_masks, make_permanent
    regime, settings = regimes.get(regime_name), as_settings(params)
    if regime.method not in ("lottery", "authors") or r > regime.n_rounds(settings):
        return None
    state = checkpoint.load(source)["model"]
    model = make_permanent(checkpoint.load_model_state(resnet18(), state))
    path = round_file(profile, seed, regime_name, r)
    if regime.method == "lottery":
        masks = layerwise_masks(model, regime.levels(settings)[r - 1])
        return write_round(path, masks, {"parent": checkpoint.file_sha256(source), **initial})
    previous = None
    if r > 1:
        before = round_file(profile, seed, regime_name, r - 1)
        if not before.is_file():  # a job begun before its state was kept: its masks accumulate on unknown ones
            return None
        previous, _, _ = read_round(before, shapes(model))
    masks = authors_masks(model, regime.rate(settings), previous)
    return write_round(path, masks, {"parent": checkpoint.state_digest(source), **initial}, buffers=state)


def shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """The shape of each of ``model``'s parameters, what :func:`read_round` unpacks masks to."""
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


def initial_digests(init_file: Path) -> dict[str, str]:
    """What a round's state records of the dense run's ``init.pt``: its file digest (part of the round's run
    identity) and its tensors' digest (what :func:`initial_weights` checks the regenerated weights against)."""
    return {"initial": checkpoint.file_sha256(init_file),
            "initial_weights": checkpoint.tensors_digest(checkpoint.load(init_file)["model"])}


def write_concepts(profile: str, seed: int, network: dict[str, Any], settings: dict[str, Any],
                   reference: dict[str, dict[str, Any]]) -> list[Path]:
    """Keep the concept ``reference`` of the seed's dense ``network`` (a job's record of it;
    :func:`prunelib.sweep.concepts.reference`: per class ``indices``, ``n_correct``, ``features``) exactly, with the
    ``settings`` it was made from, for the units that measure the seed's other networks on another machine: one
    file a class (:func:`concepts_file`)."""
    out = []
    for c, r in reference.items():
        arrays = {what: np.ascontiguousarray(r[what].cpu().numpy()) for what in ("indices", "features")}
        meta = {"checkpoint_sha256": network["checkpoint_sha256"], "settings": settings, "class": c,
                "n_correct": r["n_correct"]}
        out.append(concepts_file(profile, seed, network["checkpoint_sha256"], c))
        write_arrays(arrays, meta, out[-1])
    return out


def read_concepts(profile: str, seed: int, network: dict[str, Any], settings: dict[str, Any]
                  ) -> dict[str, dict[str, Any]]:
    """The concept reference :func:`write_concepts` kept for the seed's dense ``network``, per class of
    ``settings["classes"]``; a ValueError naming the file when one is missing, or was made from another network or
    other settings."""
    out = {}
    for c in settings["classes"]:
        arrays, meta = _read_dense(concepts_file(profile, seed, network["checkpoint_sha256"], c), network, settings,
                                   "concept reference")
        out[c] = {"indices": torch.from_numpy(arrays["indices"].copy()), "n_correct": meta["n_correct"],
                  "features": torch.from_numpy(arrays["features"].copy())}
    return out


def _read_dense(path: Path, network: dict[str, Any], settings: dict[str, Any], what: str
                ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and meta of a state file that the seed's dense unit writes from its ``network`` with ``settings``;
    a ValueError naming the file when there is none, or it holds ``what`` of another network or settings."""
    if not path.is_file():
        raise ValueError(f"{paths.portable(path)} is missing: the seed's dense unit writes it")
    arrays, meta = read_arrays(path)
    if meta.get("checkpoint_sha256") != network["checkpoint_sha256"] or meta.get("settings") != json.loads(
            json.dumps(settings)):
        raise ValueError(f"{paths.portable(path)} holds the {what} of another dense network or settings than this "
                         f"job's (checkpoint {network['checkpoint_sha256'][:12]}); run the seed's dense unit again")
    return arrays, meta
