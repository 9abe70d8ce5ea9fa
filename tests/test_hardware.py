"""A long bf16 training is refused, before any work, on a machine that would emulate bf16 (prunelib/hardware.py);
small ones and allowed ones pass. The machine is simulated: these tests pass on any CPU."""
from __future__ import annotations

from pathlib import Path

import pytest

from prunelib import hardware
from prunelib.__main__ import main as cli
from prunelib.provenance import cpu

AVX2 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse avx avx2 fma\n"
AVX512_BF16 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
AMX = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum\nflags\t\t: fpu avx512f amx_tile amx_bf16\n"


@pytest.mark.parametrize("cpuinfo, native", [(AVX2, False), (AVX512_BF16, True), (AMX, True)])
def test_native_bf16_reads_the_cpu_flags(cpuinfo: str, native: bool) -> None:
    assert hardware.native_bf16("cpu", cpuinfo) is native


@pytest.fixture
def emulating(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CPU without bf16 instructions, emulation not allowed (the variable is restored after the test)."""
    monkeypatch.setattr(hardware, "native_bf16", lambda *args, **kwargs: False)
    monkeypatch.setenv(hardware.ALLOW_VARIABLE, "0")


def test_a_long_bf16_training_is_refused_with_its_cost_and_the_ways_out(emulating) -> None:
    # 72,000 images at 128 px at the ~2 images/s of emulated bf16: 10 hours; 18,000 at 256 px are as many pixels
    for images, size in ((72_000, 128), (18_000, 256)):
        with pytest.raises(hardware.EmulatedBf16Error) as refused:
            hardware.check_bf16("This training", images=images, image_size=size, fp32_option="--no-bf16")
        said = str(refused.value)
        assert f"this CPU ({cpu()}) has no bf16 instructions" in said and "about 10 h" in said
        assert "--allow-emulated-bf16" in said and hardware.ALLOW_VARIABLE in said and "--no-bf16" in said


def test_small_allowed_or_native_trainings_pass(emulating, monkeypatch: pytest.MonkeyPatch) -> None:
    hardware.check_bf16("A smoke run", images=hardware.EMULATED_LIMIT, image_size=128)  # at the limit
    hardware.check_bf16("A smoke run", images=4 * hardware.EMULATED_LIMIT, image_size=64)  # 4x the images, 1/4 the pixels
    monkeypatch.setenv(hardware.ALLOW_VARIABLE, "1")
    hardware.check_bf16("An allowed run", images=10**6, image_size=224)
    monkeypatch.setenv(hardware.ALLOW_VARIABLE, "0")
    monkeypatch.setattr(hardware, "native_bf16", lambda *args, **kwargs: True)
    hardware.check_bf16("A run on AVX512-BF16", images=10**6, image_size=224)


def test_cli_train_is_refused_before_any_work_and_offers_fp32(emulating, synthetic_root: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(hardware, "EMULATED_LIMIT", 0)  # the synthetic data is small: any training is "long"
    # the noise profile trains under bf16 autocast (the smoke profile says bf16: false, which the CLI keeps)
    common = ["train", "--profile", "noise", "--data", str(synthetic_root), "--image-size", "32", "--batch-size", "8",
              "--epochs", "1", "--subset-per-class", "0", "--val-per-class", "0", "--out", str(tmp_path / "dense")]
    assert cli(common) == 2
    said = capsys.readouterr().err
    assert "`python -m prunelib train` trains under bf16 autocast" in said and "--no-bf16" in said
    assert said.count("\n") == 1 and not (tmp_path / "dense" / "last.pt").exists()
    assert cli([*common, "--allow-emulated-bf16"]) == 0  # allowed: it trains, in bf16 as asked
    assert (tmp_path / "dense" / "best.pt").is_file()
