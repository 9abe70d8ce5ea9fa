"""Where does a pruned network look? Its maps' agreement with its dense parent, against what a second training run
changes (the dense networks of the other seeds) and what retraining alone changes (the lottery regime's control).

Each job stores, per network, the per-image agreement of its VG and IG maps with the dense network of its seed
(:func:`prunelib.sweep.measurement.agreement`). The seed-to-seed baseline needs the dense networks' maps of two seeds on the
same images: they are cached beside each checkpoint (:func:`prunelib.sweep.measurement.maps_file`, outside git), and
where they are gone with their machine, each job keeps its dense network's maps in git in compact form
(:func:`prunelib.state.read_reference`: each pixel's rank in 16 bins; the top-10 % overlap is the same, the Spearman
correlation within 0.01), the form every level's agreement with its parent is computed from. The baseline of seed ``s`` pools the agreement of its dense network with every other seed's over the images both
classify correctly. A level's verdict is the judging rule's (:mod:`prunelib.sweep.seed_rule`): per seed, the mean
agreement of the level with its parent minus the seed's own baseline; across seeds its t-interval, bound and words;
Holm over the levels of a regime; the claimed direction is down (*holds*: less agreement with its parent than a
second seed has; *opposite*: more). A level whose baseline exists for fewer than 3 seeds is *not judged*, and the
result names the baseline's pairs.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .. import checkpoint, state
from ..runs import first_network, network_key
from ..metrics.agreement import spearman, top_k_iou
from .records import dense_networks
from .seed_rule import AGREEMENT_CLAIM, MIN_SEEDS, NOT_JUDGED, claim_verdict, describe, judge_levels, seed_moments

MEASURES = ("spearman", "top10_iou")
#: the measure the table of claims judges agreement by (the other is shown in the agreement chapter)
CLAIM_MEASURE = "spearman"
BASELINE = "dense vs other seeds"


def _dense_maps(runs: list[dict[str, Any]]) -> dict[int, tuple[dict[str, Any], dict[str, torch.Tensor], bool]]:
    """Per seed, its dense network's record, its maps and whether they are the full ones: cached on this machine
    (True), else the compact maps git keeps of it (False, :func:`prunelib.state.read_reference`). A seed with
    neither is left out."""
    from .measurement import maps_file
    out = {}
    for run in runs:
        dense = first_network(run["networks"], "dense")
        if dense is None or run["seed"] in out or "checkpoint_sha256" not in dense:
            continue
        path = maps_file(dense, run["settings"])
        if path.is_file():
            out[run["seed"]] = (dense, checkpoint.load(path), True)
        elif "profile" in run:
            try:
                out[run["seed"]] = (dense, state.read_reference(run["profile"], run["seed"], dense,
                                                                run["settings"])[1], False)
            except ValueError:  # not kept (a job of before the units), or of other settings
                continue
    return out


#: the seed-to-seed baselines as computed, beside summary.csv: the maps they are computed from are cached beside the
#: checkpoints and go with the machine; a later aggregation reuses a pair whose two dense networks are the same
BASELINES = "agreement_baselines.json"


def stored_pairs(stored: Path | None, echo: Callable[[str], None] = print
                 ) -> dict[str, dict[str, dict[str, list[float]]]]:
    """The pairs of :data:`BASELINES` computed before (empty where there is no file). The file is a cache: one that
    is not such a mapping is named and left out (the pairs whose maps are here are computed again, and it is
    rewritten)."""
    if stored is None or not stored.is_file():
        return {}
    try:
        kept = json.loads(stored.read_text())
        if isinstance(kept, dict) and all(isinstance(pair, dict) and all(
                isinstance(by_measure, dict) and all(isinstance(by_measure.get(m), list) for m in MEASURES)
                for by_measure in pair.values()) for pair in kept.values()):
            return kept
        why = "not a mapping of network pairs to each method's per-image agreement"
    except (OSError, ValueError) as err:
        why = f"not readable: {err}"
    echo(f"{stored} is {why}; rebuilt from the dense networks' maps on this machine (a pair whose maps are not "
         "here is left out of the baselines)")
    return {}


def baselines(runs: list[dict[str, Any]], stored: Path | None = None, echo: Callable[[str], None] = print
              ) -> dict[int, dict[str, dict[str, list[float]]]]:
    """``{seed: {method: {measure: [per image]}}}``: seed's dense network against every other seed's dense network,
    over the images both classify correctly, pooled over the other seeds.

    ``stored``: a JSON file of the pairs computed before (keyed by the two dense networks,
    :func:`prunelib.runs.network_key`). A pair whose maps are on this machine is computed; else it is taken from
    the file when both networks are the ones measured (:func:`stored_pairs`); else it is computed with the compact
    maps git keeps where a network's own are gone (:func:`_dense_maps`); the file is then rewritten with the pairs of
    ``runs``."""
    maps = _dense_maps(runs)
    kept = stored_pairs(stored, echo)
    dense = dense_networks(runs)
    pairs: dict[str, dict[str, dict[str, list[float]]]] = {}
    out: dict[int, dict[str, dict[str, list[float]]]] = {}
    for seed, net in dense.items():
        for other, other_net in dense.items():
            if other == seed or net["images"] != other_net["images"]:
                continue
            key = f"{network_key(net)}|{network_key(other_net)}"
            both = seed in maps and other in maps
            if key in kept and not (both and maps[seed][2] and maps[other][2]):  # full maps are computed again
                pairs[key] = kept[key]
            elif both:
                pairs[key] = _pair(net, other_net, maps[seed][1], maps[other][1])
            else:
                continue
            for method, by_measure in pairs[key].items():
                entry = out.setdefault(seed, {}).setdefault(method, {m: [] for m in MEASURES})
                for measure in MEASURES:
                    entry[measure] += by_measure[measure]
    if stored is not None and pairs:
        checkpoint.save_json(pairs, stored)
    return out


def dropped_by_retraining(runs: list[dict[str, Any]], retrained: set[int]) -> list[tuple[int, int]]:
    """The seed-to-seed baseline pairs ``(retrained seed, other seed)`` that training the dense networks of the
    ``retrained`` seeds again on this machine would lose: a new dense network's pair is computed from both maps
    (the stored pair names the old network, :func:`baselines`), so a pair is lost where the other seed's dense
    maps are not here and that seed is not trained again too."""
    here, dense = set(_dense_maps(runs)) | set(retrained), dense_networks(runs)
    return sorted((seed, other) for seed in retrained if seed in dense for other in dense
                  if other != seed and other not in here and dense[other]["images"] == dense[seed]["images"])


def _pair(net: dict[str, Any], other: dict[str, Any], own: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor]
          ) -> dict[str, dict[str, list[float]]]:
    """Per method, the per-image Spearman and top-10 % IoU of two dense networks' maps over the images both
    classify correctly."""
    both = torch.tensor(net["correct"]) & torch.tensor(other["correct"])
    out = {}
    for method in own:
        if method in theirs:
            a, b = own[method][both].float(), theirs[method][both].float()
            out[method] = {"spearman": spearman(a, b).tolist(), "top10_iou": top_k_iou(a, b, 0.1).tolist()}
    return out


def baseline_rows(base: dict[int, dict[str, dict[str, list[float]]]], n_boot: int, seed: int) -> list[dict[str, Any]]:
    """The summary's rows of the seed-to-seed baseline (``base``: :func:`baselines`): network ``"dense vs other
    seeds"``, one per seed, in one order whichever way ``base`` was filled (maps computed here, or pairs read back)."""
    from .. import metrics
    rows = []
    for s, by_method in sorted(base.items()):
        for method, by_measure in sorted(by_method.items()):
            for measure, values in sorted(by_measure.items()):
                if not values:
                    continue
                ci = metrics.bootstrap_ci(torch.tensor(values, dtype=torch.float64), n_boot=n_boot, seed=seed)
                rows.append({"regime": "dense", "seed": s, "network": BASELINE, "level": 0.0,
                             "metric": f"agreement_{measure}_{method.lower()}", "value": float(ci.estimate),
                             "ci_low": float(ci.low), "ci_high": float(ci.high), "n_images": len(values)})
    return rows


def agreement_verdicts(runs: list[dict[str, Any]], base: dict[int, dict[str, dict[str, list[float]]]]
                       ) -> dict[str, Any]:
    """Per regime, method and measure, one row per pruned level (and the control): the seed-level interval of
    ``agreement(network, parent) - baseline`` (``base``: :func:`baselines`) and its verdict;
    ``{"regimes": ..., "missing_baseline": [seeds]}``."""
    out: dict[str, Any] = {}
    for regime in sorted({r["regime"] for r in runs}):
        for method in sorted({m for r in runs for n in r["networks"] for m in n.get("agreement", {})
                              if m not in ("reference", "images")}):
            for measure in MEASURES:
                by_level: dict[tuple[str, float], dict[int, float]] = {}
                for run in (r for r in runs if r["regime"] == regime and r["seed"] in base):
                    ref = np.mean(base[run["seed"]].get(method, {}).get(measure) or [np.nan])
                    for net in run["networks"]:
                        values = net.get("agreement", {}).get(method, {}).get(measure)
                        if net["network"] == "dense" or net.get("near_chance") or not values or np.isnan(ref):
                            continue
                        key = (net["network"], round(net["target"], 6))
                        by_level.setdefault(key, {})[run["seed"]] = float(np.mean(values)) - float(ref)
                rows = [{"network": k[0], "level": 100 * k[1], "seeds": v, "n": len(v),
                         "estimate": float(np.mean(list(v.values())))}
                        for k, v in sorted(by_level.items(), key=lambda kv: kv[0][1])]
                full = [r for r in rows if r["n"] >= MIN_SEEDS]
                judged = judge_levels([tuple(float(a) for a in seed_moments(np.array(list(r["seeds"].values()))))
                                       for r in full], -1, [None] * len(full))
                for row, verdict in zip(full, judged):
                    row.update(verdict)
                for row in rows:
                    if row["n"] < MIN_SEEDS:
                        row["verdict"] = (f"{NOT_JUDGED} (a seed-to-seed baseline for {row['n']} "
                                          f"seed{'s' if row['n'] != 1 else ''}; the rule needs {MIN_SEEDS})")
                out.setdefault(regime, {}).setdefault(method, {})[measure] = rows
    claim: dict[str, Any] = {"sentence": AGREEMENT_CLAIM[1], "by_regime": {}, "verdicts": {}}
    for regime, by_method in out.items():
        for method, by_measure in by_method.items():
            rows = [r for r in by_measure.get(CLAIM_MEASURE, []) if r["network"] == "pruned"]
            judged = [r for r in rows if not r["verdict"].startswith(NOT_JUDGED)]
            verdict = claim_verdict(judged, -1) if judged else (rows[0]["verdict"] if rows else NOT_JUDGED)
            claim["verdicts"].setdefault(regime, {}).setdefault("dense", {})[method] = verdict
            claim["by_regime"].setdefault(regime, {}).setdefault("dense", {})[method] = (
                describe(verdict, judged, -1) if judged else verdict)
    pairs = sorted({tuple(sorted((s, o))) for s in base for o in base if s != o})
    return {"regimes": out, "missing_baseline": sorted({r["seed"] for r in runs} - set(base)),
            "baseline_pairs": [list(p) for p in pairs], "claim": claim}


#: the file the aggregation writes the side-by-side picture to, beside summary.csv
PICTURE = "agreement_picture.npz"


def picture(runs: list[dict[str, Any]], data: str | None, regime: str = "global") -> dict[str, np.ndarray] | None:
    """One image of the fixed set and, side by side, the maps of a seed's dense network, of its lightest pruned
    level, of its most pruned level not near chance and of another seed's dense network, with each map's agreement
    (Spearman, top-10 % IoU) with the first map; the image is the first of the set that all four networks classify
    correctly. The seeds are the first pair, in the order of their numbers (the first seed's own levels first),
    whose four networks' maps are on this machine (they are cached beside the checkpoints); None when no pair's
    are, or the sweep has no such four networks.

    Returns arrays for ``np.savez``: ``image`` uint8 (S, S, 3), ``maps`` float16 (methods, 4, S, S), ``methods``,
    ``labels`` (4,), ``spearman`` and ``top10_iou`` (methods, 4), ``index`` (the validation index) and ``seeds``."""
    mine = sorted((r for r in runs if r["regime"] == regime), key=lambda r: r["seed"])
    for first in mine:
        for other in mine:
            shown = None if other is first else _picture(first, other, data)
            if shown is not None:
                return shown
    return None


def _picture(first: dict[str, Any], other: dict[str, Any], data: str | None) -> dict[str, np.ndarray] | None:
    """:func:`picture` for one pair of jobs (``first``'s dense network and levels, ``other``'s dense network); None
    where their maps are not all here or no image is classified correctly by all four."""
    from ..data import denormalize, eval_batch
    from ..measure.common import validation_split
    from .measurement import maps_file
    pruned = [n for n in first["networks"] if n["network"] == "pruned" and not n.get("near_chance")]
    if not pruned:
        return None
    light, heavy = min(pruned, key=lambda n: n["target"]), max(pruned, key=lambda n: n["target"])
    chosen = [(f"dense, seed {first['seed']}", first["networks"][0], first),
              (f"{light['level']:.0f} % removed", light, first), (f"{heavy['level']:.0f} % removed", heavy, first),
              (f"dense, seed {other['seed']}", other["networks"][0], other)]
    files = [maps_file(net, run["settings"]) for _, net, run in chosen]
    if any(not f.is_file() for f in files) or any(net["images"] != first["networks"][0]["images"]
                                                  for _, net, _ in chosen):
        return None
    correct = torch.stack([torch.tensor(net["correct"]) for _, net, _ in chosen]).all(0)
    if not correct.any():
        return None
    k = int(correct.nonzero()[0])
    loaded = [checkpoint.load(f) for f in files]
    methods = [m for m in loaded[0] if all(m in maps for maps in loaded)]
    maps = torch.stack([torch.stack([maps[m][k].float() for maps in loaded]) for m in methods])  # (M, 4, S, S)
    index = int(first["networks"][0]["images"][k])
    val = validation_split(data, first["settings"].get("val_per_class", 0), first["seed"])
    image = denormalize(eval_batch(val.images[index:index + 1], maps.shape[-1]))[0].permute(1, 2, 0)
    return {"image": (255 * image).round().clamp(0, 255).to(torch.uint8).numpy(), "maps": maps.to(torch.float16).numpy(),
            "methods": np.array(methods), "labels": np.array([label for label, _, _ in chosen]),
            "spearman": np.array([[float(spearman(m[0:1], m[j:j + 1])[0]) for j in range(4)] for m in maps]),
            "top10_iou": np.array([[float(top_k_iou(m[0:1], m[j:j + 1], 0.1)[0]) for j in range(4)] for m in maps]),
            "index": np.array(index), "seeds": np.array([first["seed"], other["seed"]])}


def save_picture(shown: dict[str, np.ndarray], path: Path) -> None:
    """Write :func:`picture`'s arrays to ``path`` (``.npz``) through a temporary file: never half a file."""
    with checkpoint.writing(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **shown)


def load_picture(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays :func:`save_picture` wrote (no pickled objects are read), or None where there is no file."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
