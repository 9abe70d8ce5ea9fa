"""The 8-neighbour weights of ROAD's linear imputation (Rong et al., 2022), shared by both CG engines.

An edge neighbour weighs 1/6, a diagonal neighbour 1/12 (so the weights of an interior pixel sum to 1). This leaf
module imports nothing of prunelib, so the torch engine (:mod:`.imputation`) and the numba engine
(:mod:`.imputation_cpu`) both read the weights from here: the numba engine imports nothing else of prunelib, and
the torch module imports the numba engine only where it runs it.
"""
from __future__ import annotations

import torch

EDGE, DIAG = 1.0 / 6.0, 1.0 / 12.0


def neighbour_kernel(dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """The 3x3 neighbour weights w (diagonals 1/12, edges 1/6, centre 0) as a (1, 1, 3, 3) conv kernel."""
    k = torch.tensor([[DIAG, EDGE, DIAG], [EDGE, 0.0, EDGE], [DIAG, EDGE, DIAG]], dtype=dtype, device=device)
    return k.view(1, 1, 3, 3)
