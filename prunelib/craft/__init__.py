"""CRAFT concept extraction (Fel et al., CVPR 2023) with torch + scikit-learn + SciPy only, and measured coherence.

- :func:`split_resnet` -> ``(g, h)``; :class:`Craft` (fit / transform / importance / top_crops);
- :func:`total_sobol_indices`, the sampler + Jansen estimator that :meth:`Craft.importance` uses;
- coherence views: :func:`concept_similarity`, :func:`concept_coherence`, :func:`importance_entropy`;
- :func:`concept_metrics` and :func:`gallery_data` for the book's figures (:mod:`prunelib.figures.concepts`).
"""
from .coherence import coherence_baseline, concept_coherence, concept_similarity, crop_coherence, importance_entropy
from .crops import batched_features, crop_starts, crop_stride, extract_crops
from .extractor import Craft, top_crops
from .factorization import fit_nmf, project
from .gallery import concept_metrics, gallery_data
from .sobol import jansen_total, replicated_design, total_sobol_indices
from .split import split_resnet

__all__ = ["Craft", "split_resnet", "total_sobol_indices", "replicated_design", "jansen_total", "fit_nmf",
           "project", "extract_crops", "crop_starts", "crop_stride", "batched_features", "top_crops",
           "concept_similarity", "crop_coherence", "coherence_baseline", "concept_coherence", "importance_entropy",
           "concept_metrics", "gallery_data"]
