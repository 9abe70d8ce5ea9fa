"""ROAD: prunelib.metrics.road vs quantus 0.5.3 ROAD on the same ResNet-18, images and VG maps (a benchmark).

    .venv/bin/python benchmarks/road_vs_quantus.py [--n 32] [--checkpoint PATH] [--threads 2]

Prints seconds per image for Quantus and for ours in both precisions (fp32, the default, and bf16 forward passes,
see ``benchmarks/road_bf16_agreement.py`` for what bf16 changes), their ratios, the load average at start and end,
and the floors: the bare forward passes ROAD needs (one per percentage and image, batched, no_grad), timed the
way each ROAD runs them (fp32 NCHW as Quantus; fp32 and bf16 channels_last as ours); and the imputation alone
with the numba CG kernel (CPU default) against the batched torch loop (the CUDA path).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image

from prunelib.metrics import noisy_linear_imputation, removal_masks, road
from prunelib.saliency import vanilla_gradient

PCTS = list(range(1, 100, 10))


def load_images(n: int, size: int) -> torch.Tensor:
    try:
        from prunelib import data

        root = data.locate(os.environ.get("PRUNELIB_DATA") or "../shared/data/imagenette2-224")
        files = sorted(Path(root).glob("val/*/*.JPEG"))
        norm = lambda u8: data.eval_batch(u8, size)  # noqa: E731
    except Exception:
        files = sorted(Path(os.environ.get("PRUNELIB_DATA") or "../shared/data/imagenette2-224").glob("val/*/*.JPEG"))
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        norm = lambda u8: (u8.float() / 255 - mean) / std  # noqa: E731
    step = max(1, len(files) // n)
    pick = files[::step][:n]
    u8 = torch.stack([torch.from_numpy(np.array(Image.open(f).convert("RGB").resize((size, size)))).permute(2, 0, 1) for f in pick])
    return norm(u8)


def load_model(checkpoint: str | None) -> torch.nn.Module:
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None, num_classes=10)
    if checkpoint:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        for key in ("model", "state_dict", "model_state"):
            if isinstance(state, dict) and key in state and isinstance(state[key], dict):
                state = state[key]
        model.load_state_dict(state)
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quantus-n", type=int, default=None, help="images for quantus (default: all)")
    args = ap.parse_args()
    load_start = os.getloadavg()
    torch.set_num_threads(args.threads)
    model = load_model(args.checkpoint)
    x = load_images(args.n, args.size)
    with torch.no_grad():
        y = model(x).argmax(1)  # ROAD on 'correctly classified' images: use the model's own predictions
    a = vanilla_gradient(model, x, y)
    n = len(x)

    def floor(layout: torch.memory_format, bf16: bool) -> float:
        xf = x.contiguous(memory_format=layout)
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(xf[:2])  # warm-up (oneDNN picks its kernels on the first call)
            t = time.perf_counter()
            for _ in PCTS:
                model(xf).argmax(1)
        return (time.perf_counter() - t) / n

    floor_q = floor(torch.contiguous_format, False)
    floors = {"fp32": floor(torch.channels_last, False), "bf16": floor(torch.channels_last, True)}
    t_ours, curves = {}, {}
    for prec in floors:
        road(model, x[:2], y[:2], a[:2], PCTS, precision=prec)  # warm-up (and numba's compile, cached on disk)
        t = time.perf_counter()
        curves[prec] = road(model, x, y, a, PCTS, noise=0.01, seed=0, precision=prec).curve.numpy()
        t_ours[prec] = (time.perf_counter() - t) / n

    solves = {}  # the imputation alone: the ten nested MoRF solves, warm-started as ROAD runs them
    masks = [removal_masks(a, p, "morf") for p in PCTS]
    for engine in ("numba", "torch"):
        clean, t = None, time.perf_counter()
        for m in masks:
            clean = noisy_linear_imputation(x, m, noise=0.0, tol=1e-5, initial=clean, engine=engine)
        solves[engine] = (time.perf_counter() - t) / n

    import quantus

    nq = args.quantus_n or n
    q = quantus.ROAD(percentages=PCTS, noise=0.01, disable_warnings=True, display_progressbar=False)
    np.random.seed(0)
    t = time.perf_counter()
    q(model=model, x_batch=x[:nq].numpy(), y_batch=y[:nq].numpy(), a_batch=a[:nq, None].numpy(), device="cpu", softmax=False, batch_size=nq)
    t_q = (time.perf_counter() - t) / nq
    q_curve = np.array([q.evaluation_scores[p] for p in PCTS])
    ours_q = road(model, x[:nq], y[:nq], a[:nq], PCTS, noise=0.01, seed=0).curve.numpy()

    print(f"images: {n} x {args.size}px, ResNet-18 ({'checkpoint' if args.checkpoint else 'random init, seed 0'}), "
          f"VG maps, percentages {PCTS}, threads {torch.get_num_threads()}")
    print(f"{'':36s}{'s/image':>10s}")
    print(f"{'quantus 0.5.3 ROAD':36s}{t_q:10.3f}   ({nq} images)")
    print(f"{'forward floor, fp32 NCHW (quantus)':36s}{floor_q:10.3f}")
    for prec in floors:
        print(f"{'prunelib road, ' + prec:36s}{t_ours[prec]:10.3f}")
        print(f"{'forward floor, ' + prec + ' channels_last':36s}{floors[prec]:10.3f}")
    for prec in floors:
        print(f"{prec}: quantus / ours {t_q / t_ours[prec]:5.1f}x (target >= 15x)   ours / its floor "
              f"{t_ours[prec] / floors[prec]:4.2f}x (target <= 2x)   ours / fp32 NCHW floor {t_ours[prec] / floor_q:4.2f}x")
    print(f"quantus / its floor {t_q / floor_q:.1f}x")
    print(f"imputation alone (ten MoRF solves), s/image: numba {solves['numba']:.4f}, torch loop {solves['torch']:.4f} "
          f"-> {solves['torch'] / solves['numba']:.1f}x")
    print(f"load average (1, 5, 15 min) at start {tuple(round(v, 2) for v in load_start)}, "
          f"at end {tuple(round(v, 2) for v in os.getloadavg())}, on {os.cpu_count()} CPUs")
    print("curve quantus    :", np.round(q_curve.astype(float), 3).tolist())
    print("curve ours (fp32):", np.round(ours_q.astype(float), 3).tolist(), f" max |diff| {np.abs(q_curve - ours_q).max():.3f} "
          "(noise draws differ)")
    for prec in floors:
        print(f"curve ours ({prec}, all images):", np.round(curves[prec].astype(float), 3).tolist())


if __name__ == "__main__":
    main()
