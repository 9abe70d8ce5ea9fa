"""ROAD: prunelib.metrics.road vs quantus 0.5.3 ROAD on the same ResNet-18, images and VG maps (a benchmark).

    .venv/bin/python benchmarks/road_vs_quantus.py [--n 32] [--checkpoint PATH] [--threads 2]

Prints seconds per image for both, their ratio, the load average at start and end, and the floor: the bare forward passes ROAD needs (one per
percentage and image, batched, fp32, no_grad).
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

from prunelib.metrics import road
from prunelib.saliency import vanilla_gradient

PCTS = list(range(1, 100, 10))


def load_images(n: int, size: int) -> torch.Tensor:
    try:
        from prunelib import data

        root = data.locate("/work/shared/data/imagenette2-224")
        files = sorted(Path(root).glob("val/*/*.JPEG"))
        norm = lambda u8: data.eval_batch(u8, size)  # noqa: E731
    except Exception:
        files = sorted(Path("/work/shared/data/imagenette2-224").glob("val/*/*.JPEG"))
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

    t = time.perf_counter()
    with torch.no_grad():
        for _ in PCTS:
            model(x).argmax(1)
    floor = (time.perf_counter() - t) / n

    t = time.perf_counter()
    ours = road(model, x, y, a, PCTS, noise=0.01, seed=0)
    t_ours = (time.perf_counter() - t) / n

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
    print(f"{'':28s}{'s/image':>10s}")
    print(f"{'quantus 0.5.3 ROAD':28s}{t_q:10.3f}   ({nq} images)")
    print(f"{'prunelib.metrics.road':28s}{t_ours:10.3f}")
    print(f"{'forward-pass floor (10x)':28s}{floor:10.3f}")
    print(f"{'quantus / ours':28s}{t_q / t_ours:10.1f}x   (target >= 15x)")
    print(f"{'ours / floor':28s}{t_ours / floor:10.2f}x   (target <= 2x)")
    print(f"{'quantus / floor':28s}{t_q / floor:10.1f}x   (the most any fp32 ROAD can gain over quantus here)")
    print(f"load average (1, 5, 15 min) at start {tuple(round(v, 2) for v in load_start)}, "
          f"at end {tuple(round(v, 2) for v in os.getloadavg())}, on {os.cpu_count()} CPUs")
    print("curve quantus:", np.round(q_curve.astype(float), 3).tolist())
    print("curve ours   :", np.round(ours_q.astype(float), 3).tolist(), f" max |diff| {np.abs(q_curve - ours_q).max():.3f} "
          "(noise draws differ)")
    print("curve ours (all images):", np.round(ours.curve.numpy().astype(float), 3).tolist())


if __name__ == "__main__":
    main()
