"""One training epoch's data cost: JPEG decoding every epoch vs the decoded uint8 cache.

(a) torchvision ``ImageFolder`` + the paper's PIL transforms (RandomResizedCrop + flip + Normalize) through a
    ``DataLoader(num_workers=2, batch_size=128)``, as the paper's code does;
(b) ``prunelib.data.load_split`` (decoded once, cached) + ``prunelib.data.train_batch`` on in-memory batches.

Only the first ``--max-batches`` batches are timed and the epoch time is extrapolated to the full train split
(the output says so). The one-off cost of building the cache is reported separately.

    python benchmarks/data_cache.py --data ../shared/data/imagenette2-224 --sizes 128 --max-batches 20
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

from prunelib import data


def time_torchvision(root, size: int, batch_size: int, max_batches: int) -> tuple[float, int]:
    train_tf, _ = data.paper_transforms(size)
    dataset = ImageFolder(str(root / "train"), transform=train_tf)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=2, drop_last=True,
                        generator=torch.Generator().manual_seed(0))
    start, n = time.perf_counter(), 0
    for n, (x, _) in enumerate(loader, 1):  # worker start-up is part of an epoch's cost
        if n >= max_batches:
            break
    return time.perf_counter() - start, n


def time_cached(split: data.Split, size: int, batch_size: int, max_batches: int) -> tuple[float, int]:
    start, n = time.perf_counter(), 0
    for n, (x, _) in enumerate(data.batches(split, batch_size, train=True, size=size, seed=0, epoch=0), 1):
        if n >= max_batches:
            break
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="ImageNette root (default: $PRUNELIB_DATA, else ./data)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--max-batches", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(2)
    root = data.locate(args.data)
    print(f"data: {root}   torch threads: {torch.get_num_threads()}   batch: {args.batch_size}")
    for size in args.sizes:
        start = time.perf_counter()
        split = data.load_split(root, "train", size=size)
        load = time.perf_counter() - start
        epoch_batches = len(split) // args.batch_size
        print(f"\n[{size} px] train split: {len(split)} images = {epoch_batches} batches/epoch; "
              f"load_split (cache build or hit) {load:.1f} s, cache {split.images.numel() / 2**20:.0f} MiB")
        rows = []
        for name, fn in (("(a) ImageFolder + paper transforms, DataLoader(num_workers=2)",
                          lambda: time_torchvision(root, size, args.batch_size, args.max_batches)),
                         ("(b) cached uint8 tensor + train_batch (main process)",
                          lambda: time_cached(split, size, args.batch_size, args.max_batches))):
            seconds, n = fn()
            rows.append(seconds / n * epoch_batches)
            print(f"  {name:<64} {seconds:6.2f} s for {n} batches -> {rows[-1]:7.1f} s/epoch (extrapolated)")
        print(f"  ratio (a)/(b): {rows[0] / rows[1]:.2f}x")
    print(f"\nEpoch times are extrapolated from the first {args.max_batches} batches; the machine's cores may be "
          "shared with other jobs, so compare the two rows of one run, not across runs.")


if __name__ == "__main__":
    main()
