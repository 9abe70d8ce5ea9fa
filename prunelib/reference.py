"""The paper's own numbers (``reference_results.json``, from the authors' public code and outputs).

The file is a verbatim copy of ``shared/paper/reference_results.json`` shipped inside the package so that the
comparison can be drawn without the shared folder; a test checks that the copy still matches the original.
These are the only numbers in the project that are not computed by it.
"""
from __future__ import annotations

import json
from pathlib import Path

REFERENCE_FILE = Path(__file__).with_name("reference_results.json")
METHODS = {"vanilla_gradient": "VG", "integrated_gradients": "IG"}


def load_reference(path: str | Path = REFERENCE_FILE) -> dict:
    """The paper's numbers as a dict; pruning levels as fractions under ``"sparsity"``.

    Keys: ``sparsity`` (6 levels, 0-0.7), ``top1`` (fractions), ``gini[VG|IG]``, ``aopc[VG|IG]``,
    ``road_percentages`` (1..91) and ``road[VG|IG][level]`` (accuracy curves, level as a fraction).
    """
    raw = json.loads(Path(path).read_text())
    levels = [p / 100 for p in raw["pruning_percent"]]
    return {
        "sparsity": levels,
        "top1": [a / 100 for a in raw["top1_accuracy_percent"]],
        "gini": {short: raw["gini_sparseness"][long] for long, short in METHODS.items()},
        "aopc": {short: raw["aopc_morf"][long] for long, short in METHODS.items()},
        "road_percentages": raw["road_morf"]["percent_removed"],
        "road": {short: {int(k) / 100: v for k, v in raw["road_morf"][long].items()}
                 for long, short in METHODS.items()},
        "source": raw["source"],
    }
