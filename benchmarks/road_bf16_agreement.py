"""What bf16 forward passes change in ROAD: fp32 vs bf16 on the trained networks, same images, maps and noise.

    .venv/bin/python benchmarks/road_bf16_agreement.py --profile cpu [--levels 0,0.5,0.9] [--methods VG,IG]

For every level (default: the levels the faithfulness stage shares images across, i.e. not near chance) and
method, it takes the images that level was evaluated on (``results/<profile>/faithfulness/metrics.json``),
recomputes the maps (the registry's metric setting, as the stage computes them) and runs ``prunelib.metrics.road`` twice, with
``precision="fp32"`` and ``"bf16"`` and the same seed (hence the same imputations and noise). Per level, method
and order it reports

- the fraction of (image, percentage) decisions that flip,
- each curve point and both AOPCs: whether bf16's value lies outside fp32's bootstrap 95 % interval, and
  |bf16 - fp32| divided by that interval's half-width (a stricter view where the interval is lopsided, e.g. a
  curve point near 1; below 1: bf16 moves the metric less than its own uncertainty),
- and, as a check of the current code against the committed results, how many fp32 decisions differ from
  the stored ones (computed before the numba CG engine and the channels_last layout).

Writes ``results/<profile>/checks/road_bf16_agreement.json`` and prints one line per level, method and order.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from prunelib import metrics, paths
from prunelib.checkpoint import save_json
from prunelib.chapters import study
from prunelib.measure.common import inputs, validation_split
from prunelib.saliency import METHODS
from prunelib.reproduce import load_profile


def compare(fp32: torch.Tensor, bf16: torch.Tensor, stored: torch.Tensor, n_boot: int, seed: int) -> dict:
    """fp32, bf16, stored: (N, P) 0/1 decisions of one level, method and order."""
    stats = {"curve": lambda m: m.mean(0), "aopc_authors": lambda m: metrics.aopc_authors(m.mean(0)),
             "aopc_standard": lambda m: metrics.aopc_standard(m.mean(0))}
    row = {"n_images": fp32.shape[0], "flipped": (fp32 != bf16).float().mean().item(),
           "fp32_vs_stored_flipped": (fp32 != stored).float().mean().item()}
    for name, est in stats.items():
        diff = (est(bf16) - est(fp32)).abs()
        ci = metrics.bootstrap_ci(fp32, statistic=est, n_boot=n_boot, seed=seed)
        hw = (ci.high - ci.low) / 2
        outside = (est(bf16) < ci.low) | (est(bf16) > ci.high)
        row[name] = {"fp32": est(fp32).tolist(), "bf16": est(bf16).tolist(), "abs_diff": diff.tolist(),
                     "fp32_ci": [ci.low.tolist(), ci.high.tolist()], "ci_half_width": hw.tolist(),
                     "max_ratio": (diff / hw.clamp_min(1e-12)).max().item(), "outside_ci": int(outside.sum())}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--data", default=None, help="ImageNette root (default: PRUNELIB_DATA or ../shared)")
    ap.add_argument("--levels", default=None, help="comma-separated sparsities, e.g. 0,0.5,0.9 (default: shared levels)")
    ap.add_argument("--methods", default="VG,IG")
    args = ap.parse_args()
    prof = load_profile(args.profile)
    stored = json.loads((paths.results_dir(args.profile) / "faithfulness" / "metrics.json").read_text())
    levels = [float(s) for s in args.levels.split(",")] if args.levels else [float(s) for s in stored["shared_levels"]]
    models = study.networks(study.job_result(args.profile, prof["seed"], "global", args.data))
    val = validation_split(args.data, prof["val_per_class"], prof["seed"])
    seed, n_boot = prof["seed"], prof["n_bootstrap"]
    out = {"profile": args.profile, "image_size": stored["image_size"], "percentages": stored["percentages"],
           "noise": stored["noise"], "threads": torch.get_num_threads(), "rows": []}
    print(f"{'level':>6s} {'method':>6s} {'order':>5s} {'flipped':>8s} {'outside CI':>10s} "
          f"{'max |diff|/CI half-width: curve':>32s} {'AOPC':>6s} {'AOPC std':>8s} {'fp32 vs stored':>14s} "
          f"{'s fp32':>7s} {'s bf16':>7s}")
    for level in levels:
        model = models[level]
        x, y = inputs(val, torch.tensor(stored["images"][str(level)]), stored["image_size"], torch.device("cpu"))
        for method in args.methods.split(","):
            maps = METHODS[method](model, x, y, **METHODS[method].options(ig_steps=stored["ig_steps"]))
            for order in ("morf", "lerf"):
                res, secs = {}, {}
                for prec in ("fp32", "bf16"):
                    t = time.perf_counter()
                    res[prec] = metrics.road(model, x, y, maps, stored["percentages"], order=order,
                                             noise=stored["noise"], seed=seed, precision=prec).correct.float()
                    secs[prec] = time.perf_counter() - t
                kept = torch.tensor(stored["methods"][method][str(level)]["road"][order]["correct"]).float()
                row = {"level": level, "method": method, "order": order, "seconds": secs,
                       **compare(res["fp32"], res["bf16"], kept, n_boot, seed)}
                out["rows"].append(row)
                outside = sum(row[k]["outside_ci"] for k in ("curve", "aopc_authors", "aopc_standard"))
                print(f"{level:6.2f} {method:>6s} {order:>5s} {row['flipped']:8.4f} {outside:10d} {row['curve']['max_ratio']:32.2f} "
                      f"{row['aopc_authors']['max_ratio']:6.2f} {row['aopc_standard']['max_ratio']:8.2f} "
                      f"{row['fp32_vs_stored_flipped']:14.4f} {secs['fp32']:7.1f} {secs['bf16']:7.1f}", flush=True)
    rows = out["rows"]
    out["summary"] = {"flipped_max": max(r["flipped"] for r in rows),
                      "flipped_mean": sum(r["flipped"] for r in rows) / len(rows),
                      "max_ratio": max(r[k]["max_ratio"] for r in rows for k in ("curve", "aopc_authors", "aopc_standard")),
                      "max_ratio_aopc": max(r[k]["max_ratio"] for r in rows for k in ("aopc_authors", "aopc_standard")),
                      "outside_ci": sum(r[k]["outside_ci"] for r in rows for k in ("curve", "aopc_authors", "aopc_standard")),
                      "values_compared": sum(len(r["curve"]["fp32"]) + 2 for r in rows),
                      "fp32_vs_stored_flipped_max": max(r["fp32_vs_stored_flipped"] for r in rows)}
    target = paths.results_dir(args.profile) / "checks" / "road_bf16_agreement.json"
    save_json(out, target)
    print("summary:", {k: round(v, 4) for k, v in out["summary"].items()}, "->", target)


if __name__ == "__main__":
    main()
