"""Whether this machine computes bf16 natively, and the check that keeps a long bf16 training off one that would
emulate it.

The study trains under bf16 autocast (:mod:`prunelib.training`). A CPU with AVX512-BF16 or AMX-BF16 runs it faster
than fp32; a CPU without them emulates it. On an AMD EPYC with AVX2 alone (2 cores, 128 px) a training step ran
2.2 images/s in bf16 against 25.8 in fp32, 12x slower (``python benchmarks/train_throughput.py --sizes 128``): a
30-epoch network of the study would take about 36 hours instead of one or two. :func:`check_bf16` refuses such a
training before any work, unless it is small (the smoke profile, the tests) or allowed (``--allow-emulated-bf16``,
or ``PRUNELIB_ALLOW_EMULATED_BF16=1``, which the sweep's jobs inherit). The recipe is never changed behind the
user's back: a profile with ``bf16: false`` (or ``train --no-bf16``) trains in fp32, which is another recipe.
"""
from __future__ import annotations

import os

import torch

from .provenance import bf16_features, cpu, cpu_fields

#: set to 1 to train under bf16 autocast on a CPU that emulates it (the flag --allow-emulated-bf16 sets it)
ALLOW_VARIABLE = "PRUNELIB_ALLOW_EMULATED_BF16"
#: what the limit's hour assumes: images per second of a bf16 training step at 128 px on 2 AVX2 cores (2.2 measured)
EMULATED_IMAGES_PER_S = 2.0
#: the training images (at 128 px; an image of s px counts (s/128)^2) one network may see under emulated bf16 before
#: a training is refused: about an hour on 2 AVX2 cores
EMULATED_LIMIT = 7200


class EmulatedBf16Error(ValueError):
    """A long bf16 training asked of a machine that has no bf16 instructions; the message says what to do."""


def native_bf16(device: torch.device | str = "cpu", cpuinfo: str | None = None) -> bool:
    """Whether ``device`` computes bf16 in hardware: a CUDA device that supports it, a CPU whose flags name
    AVX512-BF16 or AMX-BF16 (``cpuinfo``: the text of ``/proc/cpuinfo``, read when None; where there is none, torch's
    own test of the CPU). Other devices are not judged (True)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return True
    fields = cpu_fields(cpuinfo)
    if fields is None:
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return bool(bf16_features(fields))


def allowed() -> bool:
    """Whether emulated bf16 was allowed (``PRUNELIB_ALLOW_EMULATED_BF16=1``)."""
    return os.environ.get(ALLOW_VARIABLE, "") == "1"


def allow() -> None:
    """Allow emulated bf16 in this process and the jobs it starts (what ``--allow-emulated-bf16`` does)."""
    os.environ[ALLOW_VARIABLE] = "1"


def check_bf16(what: str, *, images: int, image_size: int, device: torch.device | str = "cpu",
               fp32_option: str | None = None) -> None:
    """Refuse (:class:`EmulatedBf16Error`) a bf16 training of ``images`` training images (epochs x images per epoch)
    at ``image_size`` px on a ``device`` that would emulate bf16, unless it stays within :data:`EMULATED_LIMIT` or
    emulation is :func:`allowed`. ``what`` names the training in the message; ``fp32_option`` (e.g. ``--no-bf16``)
    is offered where the command has one."""
    if allowed() or native_bf16(device):
        return
    work = images * (image_size / 128) ** 2
    if work <= EMULATED_LIMIT:
        return
    hours = work / EMULATED_IMAGES_PER_S / 3600
    fp32 = f"; train in fp32 instead with {fp32_option} (another recipe)" if fp32_option else ""
    raise EmulatedBf16Error(
        f"{what} trains under bf16 autocast, and this CPU ({cpu()}) has no bf16 instructions (neither AVX512-BF16 "
        f"nor AMX-BF16): emulated, bf16 ran 12x slower than fp32 on such a CPU, so a network that trains on "
        f"{images:,} images (epochs x images) at {image_size} px would take about {hours:,.0f} h on 2 cores. Run it "
        f"on a CPU with AVX512-BF16 or AMX-BF16, or on a GPU{fp32}; or run it here all the same with "
        f"--allow-emulated-bf16 ({ALLOW_VARIABLE}=1)")
