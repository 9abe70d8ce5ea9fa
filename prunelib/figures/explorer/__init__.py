"""The saliency explorer of section 5, one module per job.

- :mod:`.panels`: the pictures of one image at one level with their numbers, as HTML;
- :mod:`.widgets`: the kernel-free explorer over saved frames, and the live one for a running kernel.

The frames are computed by :mod:`prunelib.measure.explorer_frames` (it needs the networks: predictions on the
images with pixels removed) and stored in the form of :mod:`prunelib.measure.frames` (what the explorer shows for
each image and level, and its folder: ``index.json`` + pictures), its pictures drawn by
:mod:`prunelib.measure.drawing` and encoded by :mod:`prunelib.measure.encoding`; live, they are computed by
:mod:`prunelib.chapters.explorer_live`.
"""
from ...measure.drawing import overlay
from ...measure.encoding import encode, format_of
from ...measure.frames import (ExplorerFrames, ImageFrames, LevelFrames, MethodFrames, Prediction, load_frames,
                               save_frames)
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
