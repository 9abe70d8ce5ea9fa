"""Every figure says in its caption which function drew it and from which results file: a notebook shows a figure
with :func:`prunelib.figures.captions.show`, which glues the figure and that line beside it. The hand-made results
here draw every ``plot_…`` function of the book's figure modules (``tests/test_figure_style.py`` reuses them)."""
from __future__ import annotations

import inspect

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")

from prunelib import data, paths  # noqa: E402
from prunelib.figures import accuracy, comparison, concepts, faithfulness, jump, noise, saliency  # noqa: E402
from prunelib.figures.captions import show  # noqa: E402
from prunelib.provenance import Source, figure_caption, published  # noqa: E402
from prunelib.reference import load_reference  # noqa: E402
from test_figure_jump import PARTS as JUMP_PARTS, VERDICTS as JUMP_VERDICTS  # noqa: E402

#: the modules whose figures the notebooks 01-04, 06 and 07 show (the explorer's are drawn elsewhere)
MODULES = (accuracy, saliency, faithfulness, concepts, comparison, noise, jump)
LEVELS = ("0.0", "0.5")


def ci(x: float) -> dict:
    return {"estimate": x, "low": x - 0.01, "high": x + 0.01}


def _accuracy() -> dict:
    return {"classes": list(data.CLASSES), "levels": [
        {"sparsity_target": float(s), "sparsity": float(s), "val_top1": 0.8 - float(s) / 2,
         "val_top1_before_finetune": None if s == "0.0" else 0.5, "val_per_class": [0.7] * 10,
         "layers": {"conv1": float(s) / 2, "fc": float(s)}} for s in LEVELS],
        "dense_history": [{"epoch": e, "val_top1": 0.3 + 0.1 * e, "train_loss": 2.0 - 0.3 * e} for e in range(3)]}


def _metrics() -> dict:
    curve = {"estimate": [0.9, 0.5], "low": [0.8, 0.4], "high": [1.0, 0.6]}
    entry = {"gini": [0.4, 0.5], "gini_mean": ci(0.45),
             "road": {o: {"curve": curve, "aopc_authors": ci(0.3)} for o in ("morf", "lerf")}}
    return {"levels": [float(s) for s in LEVELS], "percentages": [1, 11],
            "methods": {"VG": {s: entry for s in LEVELS}, "IG": {s: entry for s in LEVELS}}}


def _maps() -> dict:
    return {"levels": np.array([0.0, 0.5]), "images": np.zeros((2, 8, 8, 3), np.uint8), "methods": ["VG"],
            "VG": np.random.default_rng(0).random((2, 2, 8, 8), dtype=np.float32), "classes": ["church", "tench"],
            "predictions": {s: {"class": ["church", "tench"]} for s in LEVELS}, "gini": {"VG": {s: [0.4, 0.5] for s in LEVELS}}}


def _coherence() -> dict:
    view = {"coherence": {"gain": 0.1}, "concept_similarity": 0.2, "importance_entropy": 0.5, "reconstruction_error": 0.3}
    return {"levels": [0.0, 0.5], "classes": ["church"], "metrics": {"church": {s: view for s in LEVELS}}}


def _gallery() -> dict:
    return {"crops": np.zeros((2, 2, 4, 4, 3), np.uint8), "concept_ids": np.array([3, 1]),
            "importances": np.array([0.5, 0.2]), "meta": {"class_name": "church", "pruning": "50 %"}}


def _noise() -> pd.DataFrame:
    rows = [{"regime": "global", "seed": 0, "network": net, "level": lvl, "metric": metric, "value": v,
             "ci_low": v - 0.01, "ci_high": v + 0.01, "n_images": 10}
            for net, lvl in (("dense", 0.0), ("pruned", 50.0)) for metric, v in (("top1", 0.8), ("gini_vg", 0.45))]
    return pd.DataFrame(rows)


def _comparison() -> dict:
    return {"differences": {q: {"VG": {"0.5": ci(0.02)}} for q in ("gini", "aopc")}, "at_chance": []}


#: how to draw each plot function from hand-made results
DRAW = {
    "plot_accuracy": lambda: accuracy.plot_accuracy(_accuracy(), reference=load_reference()),
    "plot_per_class": lambda: accuracy.plot_per_class(_accuracy()),
    "plot_training": lambda: accuracy.plot_training(_accuracy()),
    "plot_layer_sparsity": lambda: accuracy.plot_layer_sparsity(_accuracy()),
    "plot_saliency_grid": lambda: saliency.plot_saliency_grid(_maps(), "VG"),
    "plot_saliency_pair": lambda: saliency.plot_saliency_pair(_maps(), 0.5, n_images=2),
    "plot_gini": lambda: faithfulness.plot_gini(_metrics(), reference=load_reference()),
    "plot_aopc": lambda: faithfulness.plot_aopc(_metrics(), order="lerf"),
    "plot_road_curves": lambda: faithfulness.plot_road_curves(_metrics(), reference=load_reference()),
    "plot_concept_gallery": lambda: concepts.plot_concept_gallery(_gallery()),
    "plot_gallery_pair": lambda: concepts.plot_gallery_pair(_gallery(), _gallery()),
    "plot_concept_metrics": lambda: concepts.plot_concept_metrics(_coherence()),
    "plot_headline": lambda: comparison.plot_headline(_accuracy(), _metrics(), load_reference()),
    "plot_differences": lambda: comparison.plot_differences(_comparison()),
    "plot_noise": lambda: noise.plot_noise(_noise(), reference=load_reference()),
    "plot_jump": lambda: jump.plot_jump(jump.jump_rows(JUMP_PARTS, JUMP_VERDICTS)),
}


def plot_functions() -> dict:
    return {name: f for module in MODULES for name, f in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("plot_") and f.__module__ == module.__name__}


def test_every_plot_function_is_drawn_here() -> None:
    assert set(plot_functions()) == set(DRAW), "a plot function without a case here: add it to DRAW"


def test_a_shown_figure_is_glued_with_a_caption_naming_the_function_and_the_results_file(monkeypatch) -> None:
    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display=True: glued.setdefault(name, (value, display)))
    results = paths.ROOT / "results" / "smoke" / ".staging" / "faithfulness" / "metrics.json"  # as the runner writes
    source = Source((results,), "ImageNette · profile smoke · seed 0 · commit 0123456789")
    fig = show("fig-gini", source, faithfulness.plot_gini, _metrics())
    assert glued["fig-gini"] == (fig, True)  # shown in Jupyter; the book shows it as a numbered MyST figure
    line, display = glued["fig-gini-source"]
    assert not display
    assert line == ("Drawn by prunelib.figures.faithfulness.plot_gini from results/smoke/faithfulness/metrics.json"
                    " · ImageNette · profile smoke · seed 0 · commit 0123456789.")
    assert not any(t.get_text().startswith("Drawn by") for t in fig.texts), "the provenance is in the caption only"


def test_the_caption_names_where_a_file_lands_and_every_file() -> None:
    staged = paths.ROOT / "results" / "cpu" / ".staging" / "comparison" / "comparison.json"
    assert published(staged) == "results/cpu/comparison/comparison.json"
    assert published(paths.ROOT / "results" / "noise" / "summary.csv") == "results/noise/summary.csv"
    two = Source((paths.ROOT / "results/cpu/training/accuracy.json", paths.ROOT / "results/cpu/faithfulness/metrics.json"))
    assert figure_caption(comparison.plot_headline, two) == (
        "Drawn by prunelib.figures.comparison.plot_headline from results/cpu/training/accuracy.json, "
        "results/cpu/faithfulness/metrics.json")
