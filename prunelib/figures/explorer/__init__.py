"""The saliency explorer of section 5, one module per job.

- :mod:`.drawing`: the pictures themselves, as pixel arrays (a map laid over its image);
- :mod:`.encoding`: pictures as the JPEG/PNG/WebP bytes a notebook embeds;
- :mod:`.frames`: what the explorer shows for each image and level, and its folder (``index.json`` + pictures);
- :mod:`.panels`: the pictures of one image at one level with their numbers, as HTML;
- :mod:`.widgets`: the kernel-free explorer over saved frames, and the live one for a running kernel.

The frames are computed by :mod:`prunelib.stages.explorer_frames` (it needs the networks: predictions on
the images with pixels removed) and, live, by :mod:`prunelib.stages.explorer_live`.
"""
from .drawing import overlay
from .encoding import encode, format_of
from .frames import ExplorerFrames, ImageFrames, LevelFrames, MethodFrames, Prediction, load_frames, save_frames
from .panels import level_label, map_panel, removal_panel


def __getattr__(name: str):
    """The widgets load ipywidgets, which a batch job that only computes frames does not need: imported on use."""
    if name in ("live_explorer", "static_explorer"):
        from . import widgets
        return getattr(widgets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["overlay", "encode", "format_of", "ExplorerFrames", "ImageFrames", "LevelFrames", "MethodFrames",
           "Prediction", "load_frames", "save_frames", "level_label", "map_panel", "removal_panel", "live_explorer",
           "static_explorer"]
