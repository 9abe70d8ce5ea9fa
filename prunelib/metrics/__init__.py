"""Saliency metrics: Gini sparseness, ROAD faithfulness with noisy linear imputation, AOPC, bootstrap CIs."""
from prunelib.metrics.aopc import aopc_authors, aopc_standard
from prunelib.metrics.bootstrap import BootstrapCI, bootstrap_ci
from prunelib.metrics.gini import gini
from prunelib.metrics.imputation import noisy_linear_imputation
from prunelib.metrics.road import RoadResult, removal_masks, road, road_images

__all__ = [
    "gini",
    "noisy_linear_imputation",
    "road",
    "road_images",
    "removal_masks",
    "RoadResult",
    "aopc_authors",
    "aopc_standard",
    "bootstrap_ci",
    "BootstrapCI",
]
