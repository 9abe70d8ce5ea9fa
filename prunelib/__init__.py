"""prunelib: prune a ResNet-18 on ImageNette and measure what happens to its explanations.

Modules, each named for what it holds:

- :mod:`prunelib.data`     ImageNette: locate, verify, decode once into a cache, augment in memory.
- :mod:`prunelib.models`   the torchvision ResNet-18, trained from scratch.
- :mod:`prunelib.optim`    Ranger (RAdam + gradient centralisation + Lookahead).
- :mod:`prunelib.training` resumable training loop and evaluation.
- :mod:`prunelib.pruning`  global magnitude pruning, the lottery-ticket variant, sparsity reports.
- :mod:`prunelib.saliency` Vanilla Gradients and Integrated Gradients (captum).
- :mod:`prunelib.metrics`  Gini sparseness, ROAD with noisy linear imputation, AOPC, bootstrap CIs.
- :mod:`prunelib.craft`    CRAFT concept extraction and coherence metrics (torch + scikit-learn only).
"""
__version__ = "0.1.0"
