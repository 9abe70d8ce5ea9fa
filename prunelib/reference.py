"""The paper's own numbers (``reference_results.json``, from the authors' public code and outputs) and settings.

The numbers file is a verbatim copy of the project's shared copy, shipped inside the package so that the
comparison can be drawn without the shared folder; a test checks that the copy still matches the shared one when
it is there. These are the only numbers in the project that are not computed by it. The paper's settings are the
keys of the ``paper`` profile in ``profiles.yaml`` named in :data:`PAPER_SETTINGS` (its other keys are ours).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .regimes import REGIMES

REFERENCE_FILE = Path(__file__).with_name("reference_results.json")
METHODS = {"vanilla_gradient": "VG", "integrated_gradients": "IG"}
#: the shipped profiles (not ``$PRUNELIB_PROFILES``: the paper's settings are the shipped ``paper`` profile's)
PROFILES_FILE = Path(__file__).with_name("profiles.yaml")
#: the keys of the ``paper`` profile that are the paper's own settings (the others, e.g. the fine-tuning epochs,
#: the levels beyond 70 % and the bootstrap resamples, are this reproduction's choices)
PAPER_SETTINGS = ("image_size", "epochs", "batch_size", "lr", "n_attribution_images", "ig_steps", "craft_images")


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


def paper_settings(profiles_file: str | Path = PROFILES_FILE) -> dict[str, Any]:
    """The paper's settings: the :data:`PAPER_SETTINGS` keys of the ``paper`` profile."""
    paper = yaml.safe_load(Path(profiles_file).read_text())["paper"]
    missing = [k for k in PAPER_SETTINGS if k not in paper]
    if missing:
        raise ValueError(f"the paper profile of {profiles_file} lacks {missing}")
    return {k: paper[k] for k in PAPER_SETTINGS}


def settings_table(accuracy: dict, metrics: dict, paper: dict[str, Any] | None = None,
                   reference: dict | None = None) -> list[dict[str, Any]]:
    """Rows ``{"setting", "paper", "ours"}`` comparing the paper's protocol with a run's.

    Args:
        accuracy: the training stage's ``accuracy.json`` (``config.dense``, ``config.finetune``, ``method``,
            ``levels``), as :func:`prunelib.figures.accuracy.load_accuracy` returns it.
        metrics: the faithfulness stage's ``metrics.json`` (``n_images``, ``n_shared``, ``ig_steps``).
        paper: the paper's settings (default :func:`paper_settings`).
        reference: the paper's numbers (default :func:`load_reference`), for its pruning levels.
    """
    paper = paper_settings() if paper is None else paper
    reference = load_reference() if reference is None else reference
    dense, finetune = accuracy["config"]["dense"], accuracy["config"]["finetune"]
    regime = REGIMES[accuracy["method"]].label if accuracy["method"] in REGIMES else accuracy["method"]
    percent = lambda levels: ", ".join(f"{100 * s:.0f}" for s in levels)  # noqa: E731
    return [
        {"setting": "image size (px)", "paper": paper["image_size"], "ours": dense["image_size"]},
        {"setting": "training epochs", "paper": paper["epochs"], "ours": dense["epochs"]},
        {"setting": "batch size", "paper": paper["batch_size"], "ours": dense["batch_size"]},
        {"setting": "learning rate", "paper": paper["lr"], "ours": dense["lr"]},
        {"setting": "pruning", "paper": f"{REGIMES['lottery'].label} in the code, {REGIMES['global'].label} in the text",
         "ours": regime},
        {"setting": "training after each pruning step (epochs)",
         "paper": f"{paper['epochs']} per round (code)", "ours": finetune["epochs"]},
        {"setting": "pruning levels (% removed)", "paper": percent(reference["sparsity"]),
         "ours": percent(r["sparsity_target"] for r in accuracy["levels"])},
        {"setting": "images per level (metrics)", "paper": f"~{paper['n_attribution_images']}",
         "ours": f"{metrics['n_images']} ({metrics['n_shared']} the same at every level not near chance)"},
        {"setting": "IG steps (metrics)", "paper": paper["ig_steps"], "ours": metrics["ig_steps"]},
    ]
