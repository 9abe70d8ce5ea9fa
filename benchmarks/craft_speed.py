"""CRAFT speed: fit + importance for 100 images of one class at 224 px, against the bare cost of g on the crops.

Prints, side by side: seconds per crop for our CRAFT in float32 and bfloat16, the floor (one batched forward
of g on the same resized crops, nothing else), the ratios, and the measured anchor of the official package
(0.022 s per crop, fp32, this machine). Also checks that bfloat16 leaves the NMF result unchanged within
tolerance (concepts matched by cosine, reconstruction error, importances).

    .venv/bin/python benchmarks/craft_speed.py [--images 100] [--class-id 4] [--checkpoint path.pt]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from prunelib import checkpoint, data
from prunelib.craft import Craft, extract_crops, split_resnet
from prunelib.models import resnet18

OFFICIAL_S_PER_CROP = 0.022  # deel-ai/Craft craft_torch.py, fp32, measured on this 2-core machine


def load_images(n: int, class_id: int, size: int = 224) -> torch.Tensor:
    root = data.locate(os.environ.get("PRUNELIB_DATA") or "../shared/data/imagenette2-224")
    val = data.load_split(root, "val", size=size, verify=False)
    idx = torch.nonzero(val.labels == class_id).squeeze(1)[:n]
    return data.eval_batch(val.images[idx], size=size)


def floor_seconds(g: torch.nn.Module, crops: torch.Tensor, size: int, batch_size: int, dtype: torch.dtype) -> float:
    """One pass of resize + g over the crops in batches (after one warm-up batch): what any CRAFT must pay."""
    bf16 = dtype == torch.bfloat16
    with torch.inference_mode(), torch.autocast(crops.device.type, dtype=torch.bfloat16, enabled=bf16):
        g(F.interpolate(crops[:batch_size], size=(size, size), mode="bilinear", align_corners=False))
        t = time.perf_counter()
        for s in range(0, crops.shape[0], batch_size):
            g(F.interpolate(crops[s:s + batch_size], size=(size, size), mode="bilinear", align_corners=False))
    return time.perf_counter() - t


def run(g, h, images, class_id, dtype, batch_size) -> tuple[Craft, np.ndarray, float, float]:
    craft = Craft(g, h, n_concepts=10, patch_size=64, batch_size=batch_size, dtype=dtype, progress=True)
    t0 = time.perf_counter()
    craft.fit(images)
    t1 = time.perf_counter()
    imp = craft.importance(images, class_id)
    return craft, imp, t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--class-id", type=int, default=4, help="4 = church")
    ap.add_argument("--checkpoint", default=None, help="state dict of a trained ResNet-18 (default: random init)")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = resnet18(num_classes=10, seed=0)
    if args.checkpoint:
        state = checkpoint.load(args.checkpoint)
        state = state.get("model", state.get("state_dict", state))
        checkpoint.load_model_state(model, state)
    model = model.eval().to(device)
    g, h = split_resnet(model)
    images = load_images(args.images, args.class_id).to(device)
    crops = extract_crops(images, 64)
    n = crops.shape[0]
    print(f"device={device} threads={torch.get_num_threads()} images={images.shape[0]} crops={n} "
          f"class={data.CLASSES[args.class_id]} model={'checkpoint ' + args.checkpoint if args.checkpoint else 'random init (seed 0)'}")

    rows, results = [], {}
    dtypes = [torch.float32, torch.bfloat16]
    for dtype in dtypes:
        floor = floor_seconds(g, crops, images.shape[-1], args.batch_size, dtype)
        craft, imp, t_fit, t_imp = run(g, h, images, args.class_id, dtype, args.batch_size)
        results[dtype] = (craft, imp)
        rows.append((str(dtype).replace("torch.", ""), floor / n, t_fit, t_imp, (t_fit + t_imp) / n))
    print(f"\n{'dtype':9s} {'floor s/crop':>13s} {'fit s':>8s} {'importance s':>13s} {'CRAFT s/crop':>13s} "
          f"{'/ floor':>8s} {'/ official':>10s}")
    for name, fl, tf, ti, per in rows:
        print(f"{name:9s} {fl:13.4f} {tf:8.1f} {ti:13.1f} {per:13.4f} {per / fl:8.2f} {per / OFFICIAL_S_PER_CROP:10.2f}")
    print(f"official  (anchor, fp32)                                  {OFFICIAL_S_PER_CROP:13.4f}")

    (c32, i32), (c16, i16) = results[torch.float32], results[torch.bfloat16]
    a_rel = float((c16.activations - c32.activations).norm() / c32.activations.norm())
    cos = F.normalize(c32.W, dim=1) @ F.normalize(c16.W, dim=1).T
    rows_, cols = linear_sum_assignment(-cos.cpu().numpy())
    matched = cos[rows_, cols].cpu().numpy()
    print(f"\nbf16 vs fp32: ||A16 - A32|| / ||A32|| = {a_rel:.4f}; matched concept cosine min {matched.min():.4f} "
          f"mean {matched.mean():.4f}; NMF rel. error {c32.reconstruction_error:.4f} (fp32) vs "
          f"{c16.reconstruction_error:.4f} (bf16)")
    print(f"importances fp32: {np.round(i32, 3).tolist()}")
    print(f"importances bf16 (matched order): {np.round(i16[cols], 3).tolist()}")
    print(f"top-3 concepts fp32 {np.argsort(-i32)[:3].tolist()} vs bf16 (mapped to fp32 ids) "
          f"{np.argsort(cols)[np.argsort(-i16)[:3]].tolist()}")


if __name__ == "__main__":
    main()
