"""Time VG and IG (10 and 50 steps) per image against the bare forward+backward cost (a benchmark).

    .venv/bin/python benchmarks/attribution_speed.py [--n 8] [--size 224] [--threads 2]
"""
from __future__ import annotations

import argparse
import time

import torch
import torchvision

from prunelib.saliency import IG_FIGURE, IG_METRIC, integrated_gradients, vanilla_gradient


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    x = torch.randn(args.n, 3, args.size, args.size)
    y = torch.arange(args.n) % 10

    def fwd_bwd():  # the least any input gradient costs: one forward, one backward to the input (no weight grads)
        xr = x.clone().requires_grad_(True)
        torch.autograd.grad(model(xr).gather(1, y[:, None]).sum(), xr)

    fwd_bwd()  # warm-up (allocator, oneDNN primitives)
    rows = []
    for name, steps, fn in [
        ("forward+backward (floor)", 1, fwd_bwd),
        ("VG (captum Saliency)", 1, lambda: vanilla_gradient(model, x, y)),
        ("IG 10 steps (metric preset)", 10, lambda: integrated_gradients(model, x, y, **IG_METRIC, internal_batch_size=32)),
        ("IG 50 steps (figure preset)", 50, lambda: integrated_gradients(model, x, y, **IG_FIGURE, internal_batch_size=32)),
    ]:
        times = []
        for _ in range(2):  # the faster of two calls
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) / args.n)
        rows.append((name, steps, min(times)))
    floor = rows[0][2]
    print(f"ResNet-18, {args.n} images x {args.size}px, fp32, threads {torch.get_num_threads()}")
    print(f"{'':30s}{'s/image':>10s}{'x floor':>10s}{'x (steps x floor)':>19s}")
    for name, steps, s in rows:
        print(f"{name:30s}{s:10.3f}{s / floor:10.2f}{s / (steps * floor):19.2f}")


if __name__ == "__main__":
    main()
