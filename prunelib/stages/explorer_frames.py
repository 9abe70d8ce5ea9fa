"""Section 5: the explorer's pictures, pre-rendered from the saliency stage so the slider needs no kernel."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt

import torch

from .. import data as imagenette
from .. import paths
from ..metrics import gini
from ..saliency import METHODS, in_order
from ..models import device_of
from .faithfulness import level_key
from .common import inputs, load_models, validation_split
from ..figures.explorer import level_label, plot_saliency_frame, save_explorer_frames
from ..figures.saliency import load_maps

def _frame(maps: dict, k: int, level_index: int, method: str):
    s = level_key(maps["levels"][level_index])
    pred = maps["predictions"][s]
    info = {method: f"Gini {maps['gini'][method][s][k]:.3f}"}
    title = (f"{maps['classes'][k]}: {level_label(maps['levels'][level_index])}\n"
             f"predicted {pred['class'][k]} ({pred['probability'][k]:.0%})")
    image = maps["images"][k] / 255.0
    return plot_saliency_frame(image, {method: maps[method][level_index, k]}, title=title, info=info)


def run_explorer_stage(*, profile: str, out_dir: Path, n_images: int = 3, caption: str = "",
                       dpi: int = 60) -> list[Path]:
    """Render one frame per (image, level, method) from ``results/<profile>/saliency`` into ``out_dir/image_K/``.

    Frames are saved at a low ``dpi``: they are embedded in the executed notebook (10 levels x 2 methods x 3 images
    at 100 dpi would make it about 8 MB).
    """
    maps = load_maps(paths.results_dir(profile) / "saliency")
    methods = maps.get("methods") or in_order(maps["gini"])  # the profile's order (older files: the registry's)
    written = []
    for k in range(min(n_images, len(maps["classes"]))):
        frames = {}
        for j, level in enumerate(maps["levels"]):
            for method in methods:
                frames[(float(level), method)] = _frame(maps, k, j, method)
        written.append(save_explorer_frames(Path(out_dir) / f"image_{k}", [float(s) for s in maps["levels"]],
                                            methods, frames, caption=caption, dpi=dpi))
        plt.close("all")
    return [p.parent for p in written]


def live_renderer(profile: str, data: str | None, image_size: int, device: str = "auto",
                  val_per_class: int = 0, seed: int = 0) -> tuple[Callable, list[str], list[float]]:
    """For a running kernel: ``render(image_index, method, level_index) -> (Figure, info)`` computing maps live.

    Returns the render function, the image names (one per validation image of the saliency stage's classes) and
    the levels. Needs the profile's checkpoints.
    """
    models = load_models(profile, device)
    levels = list(models)
    val = validation_split(data, val_per_class, seed)
    chosen = load_maps(paths.results_dir(profile) / "saliency")["val_index"]
    names = [f"{imagenette.CLASSES[int(val.labels[i])]} (val #{i})" for i in chosen]

    def render(image_index: int, method: str, level_index: int):
        model = models[levels[level_index]]
        x, y = inputs(val, torch.tensor([chosen[image_index]]), image_size, device_of(model))
        m = METHODS[method].figure(model, x, y)
        with torch.no_grad():
            prob = model(x).softmax(1)[0]
        image = imagenette.denormalize(x)[0].permute(1, 2, 0).cpu().numpy()
        fig = plot_saliency_frame(image, {method: m[0].cpu().numpy()}, title=level_label(levels[level_index]))
        info = {"prediction": imagenette.CLASSES[int(prob.argmax())], "probability": float(prob.max()),
                "Gini": float(gini(m)[0])}
        return fig, info

    return render, names, levels

