"""The registry refactor changed no number: VG and IG metrics of a fixed network on fixed images, bit for bit equal
to those written by the code before it (tests/reference/saliency_regression.json, from commit f3b6fbc's measure())."""
import json
import sys
from pathlib import Path

DATA = Path(__file__).with_name("reference")
sys.path.insert(0, str(DATA))

from make_saliency_regression import case, numbers  # noqa: E402

from prunelib.stages.faithfulness import measure  # noqa: E402


def test_vg_and_ig_numbers_are_bit_identical_to_before_the_registry():
    model, x, y = case()
    now = numbers(measure(model, x, y, methods=("VG", "IG"), ig_steps=4, n_bootstrap=20, seed=0))
    assert now == json.loads((DATA / "saliency_regression.json").read_text())
