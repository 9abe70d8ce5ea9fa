"""Training throughput on this machine: images/s of a full training step vs the bare forward+backward floor.

For each image size (128, 160, 224 px) and precision (fp32, bf16 autocast + channels_last), times

- the floor: forward + backward of a ResNet-18 on one prepared batch (no data, no optimiser), and
- our step: ``prunelib.data.train_batch`` augmentation from the cached uint8 images + forward + backward +
  Ranger step + cosine schedule, exactly as ``prunelib.training.train`` runs it,

and prints images/s for both and their ratio (our step / floor, 1.0 = no overhead), then for each size how many
times faster the bf16 step runs than the fp32 one on this CPU (below 1: bf16 is emulated, as on a CPU with AVX2
alone; ``prunelib/hardware.py`` refuses long bf16 trainings there). Both are measured in the same run, alternating
after the same warm-up, so load from other processes and kernel compilation affect both alike.

    python benchmarks/train_throughput.py [--data PATH] [--batch-size 64] [--steps 5] [--warmup 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from prunelib import data
from prunelib.hardware import native_bf16
from prunelib.models import resnet18
from prunelib.optim import Ranger
from prunelib.provenance import cpu
from prunelib.training import autocast


def timed_pair(floor, step, steps: int, warmup: int = 3) -> tuple[float, float]:
    """Median seconds per call of ``floor`` and ``step``, warmed up alike and then timed alternately.

    oneDNN creates (and on AMX CPUs JIT-compiles) its kernels over the first calls of each shape, forward and
    backward; a floor timed after one warm-up call measured that compilation, not the kernels, and came out
    7 times slower than the step it bounds (Intel Xeon with AMX-BF16). Several warm-up calls of both, then
    interleaved timings, give both the same kernels in the same state."""
    for _ in range(warmup):
        floor()
        step()
    times: dict[str, list[float]] = {"floor": [], "step": []}
    for _ in range(steps):
        for name, fn in (("floor", floor), ("step", step)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return statistics.median(times["floor"]), statistics.median(times["step"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls of each before timing")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 160, 224])
    args = parser.parse_args()
    train = data.load_split(data.locate(args.data), "train")
    images, labels = train.images[: args.batch_size], train.labels[: args.batch_size]
    loss_fn = nn.CrossEntropyLoss()
    print(f"{cpu()} ({'bf16 instructions' if native_bf16('cpu') else 'no bf16 instructions: bf16 is emulated'})")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}, "
          f"{args.steps} timed steps each, alternating (after {args.warmup} warm-up calls of each)")
    print(f"{'size':>5} {'precision':>10} {'floor img/s':>12} {'step img/s':>11} {'step/floor':>11}")
    for size in args.sizes:
        steps: dict[bool, float] = {}
        for bf16 in (False, True):
            model = resnet18(seed=0)
            fmt = torch.channels_last if bf16 else torch.contiguous_format
            model = model.to(memory_format=fmt).train()
            opt = Ranger(model.parameters(), lr=1e-3, weight_decay=1e-4)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
            fixed = data.train_batch(images, size, torch.Generator().manual_seed(0)).contiguous(memory_format=fmt)
            dev = torch.device("cpu")

            def floor() -> None:  # the same loss and kernels as the step, without data, optimiser or schedule
                with autocast(dev, bf16):
                    loss = loss_fn(model(fixed).float(), labels)
                loss.backward()
                model.zero_grad(set_to_none=True)

            gen = torch.Generator().manual_seed(1)

            def step() -> None:
                x = data.train_batch(images, size, gen).contiguous(memory_format=fmt)
                with autocast(dev, bf16):
                    loss = loss_fn(model(x).float(), labels)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()

            t_floor, t_step = timed_pair(floor, step, args.steps, args.warmup)
            n = args.batch_size
            print(f"{size:>5} {'bf16' if bf16 else 'fp32':>10} {n / t_floor:>12.1f} {n / t_step:>11.1f} "
                  f"{t_step / t_floor:>11.2f}" + ("  (floor slower than the step: raise --warmup)"
                                                  if t_floor > t_step else ""))
            steps[bf16] = t_step
        print(f"{size:>5} bf16 step / fp32 step speed: {steps[False] / steps[True]:.2f}x")


if __name__ == "__main__":
    main()
