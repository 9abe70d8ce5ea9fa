"""The registry refactor changed no number: VG and IG metrics of a fixed network on fixed images equal those written
by the code before it (tests/reference/saliency_regression.json, from commit f3b6fbc's measure()).

ROAD's decisions and AOPC are compared exactly; Gini to fp32 rounding (a relative 1e-6), because the last bits of an
fp32 gradient differ between CPU models (AVX2 against AVX-512 kernels move the Gini of these maps by up to 4e-8)."""
import json
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).with_name("reference")
sys.path.insert(0, str(DATA))

from make_saliency_regression import case, numbers  # noqa: E402

from prunelib.measure.faithfulness import measure  # noqa: E402


def test_vg_and_ig_numbers_equal_those_from_before_the_registry():
    model, x, y = case()
    now = numbers(measure(model, x, y, methods=("VG", "IG"), ig_steps=4, n_bootstrap=20, seed=0))
    before = json.loads((DATA / "saliency_regression.json").read_text())
    assert now.keys() == before.keys()
    for method in before:
        assert now[method]["road"] == before[method]["road"], method
        assert now[method]["aopc"] == before[method]["aopc"], method
        assert now[method]["gini"] == pytest.approx(before[method]["gini"], rel=1e-6, abs=0), method
