"""Writes saliency_regression.json: VG and IG metrics of a fixed network on fixed images (run with the code that
the regression test guards; the test recomputes them with today's code and compares bit for bit).

    python tests/reference/make_saliency_regression.py
"""
import json
from pathlib import Path

import torch

from prunelib.models import resnet18
from prunelib.measure.faithfulness import measure


def case() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    torch.set_num_threads(1)
    model = resnet18(num_classes=10, seed=0).eval()
    x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x).argmax(1)  # the network's own decisions: every image starts "correct"
    return model, x, y


def numbers(result: dict) -> dict:
    return {m: {"gini": e["gini"], "road": {o: r["correct"] for o, r in e["road"].items()},
                "aopc": {o: r["aopc_authors"]["estimate"] for o, r in e["road"].items()}} for m, e in result.items()}


if __name__ == "__main__":
    model, x, y = case()
    result = measure(model, x, y, methods=("VG", "IG"), ig_steps=4, n_bootstrap=20, seed=0)
    out = Path(__file__).with_name("saliency_regression.json")
    out.write_text(json.dumps(numbers(result), indent=1) + "\n")
    print(out)
