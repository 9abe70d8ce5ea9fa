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

    def fwd_bwd():
        xr = x.clone().requires_grad_(True)
        model(xr).gather(1, y[:, None]).sum().backward()

    fwd_bwd()  # warm-up (allocator, oneDNN primitives)
    rows = []
    for name, fn in [
        ("forward+backward (floor)", fwd_bwd),
        ("VG (captum Saliency)", lambda: vanilla_gradient(model, x, y)),
        ("IG 10 steps (metric preset)", lambda: integrated_gradients(model, x, y, **IG_METRIC, internal_batch_size=32)),
        ("IG 50 steps (figure preset)", lambda: integrated_gradients(model, x, y, **IG_FIGURE, internal_batch_size=32)),
    ]:
        t = time.perf_counter()
        fn()
        rows.append((name, (time.perf_counter() - t) / args.n))
    floor = rows[0][1]
    print(f"ResNet-18, {args.n} images x {args.size}px, fp32, threads {torch.get_num_threads()}")
    print(f"{'':30s}{'s/image':>10s}{'x floor':>10s}")
    for name, s in rows:
        print(f"{name:30s}{s:10.3f}{s / floor:10.2f}")


if __name__ == "__main__":
    main()
