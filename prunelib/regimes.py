"""Pruning regimes: how a run goes from its dense network to its pruned levels (one registry, :data:`REGIMES`).

- ``global`` (the paper's text): global L1 magnitude pruning of all Conv2d + Linear weights to each cumulative
  level, then a short fine-tuning with the masks in force (Han et al., 2015).
- ``lottery`` (the authors' code): iterative magnitude pruning in rounds, each removing ``lottery_rate`` % of the
  weights that remain in every layer (BatchNorm scales included), rewinding the survivors to the run's initial
  weights and retraining with the dense recipe (Frankle & Carbin, 2019). Its levels are labelled by their measured
  global sparsity. Its **unpruned control** rewinds to the initial weights and retrains with no pruning and
  another data order: how far a retrained network lands from the dense one by retraining alone.

Everything that iterates over regimes (the sweep, its jobs, the summary table, the figures) reads this registry.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .training import TrainConfig

#: the unpruned control retrains with data-order seed ``seed + CONTROL_ORDER_OFFSET`` (the lottery rounds use
#: ``seed + 1000 r``, see :data:`prunelib.schedule.LOTTERY_ORDER_STRIDE`)
CONTROL_ORDER_OFFSET = 500


@dataclass(frozen=True)
class Regime:
    """One way of pruning: its schedule's ``method``, a label for figures and whether it has an unpruned control."""

    name: str
    label: str
    method: str
    has_control: bool

    def levels(self, params: dict[str, Any]) -> list[float]:
        """The cumulative target sparsities (fractions) of a profile's ``params``."""
        if self.method == "global":
            from .pipeline import parse_levels
            return parse_levels(params["levels"])
        rate, rounds = float(params["lottery_rate"]) / 100, int(params["lottery_rounds"])
        if not 0 < rate < 1 or rounds < 1:
            raise ValueError(f"lottery_rate must be a percentage in (0, 100) and lottery_rounds >= 1, got "
                             f"{params['lottery_rate']!r} and {params['lottery_rounds']!r}")
        return [1 - (1 - rate) ** r for r in range(1, rounds + 1)]

    def recipe(self, dense: TrainConfig, params: dict[str, Any]) -> TrainConfig:
        """The training after each pruning step: a short fine-tuning (global) or the dense recipe (lottery)."""
        if self.method == "global":
            return dataclasses.replace(dense, epochs=int(params["finetune_epochs"]), lr=float(params["finetune_lr"]),
                                       flat_fraction=0.0)
        return dense

    def control_recipe(self, dense: TrainConfig) -> TrainConfig:
        """The unpruned control's recipe: the dense recipe with another data order."""
        return dataclasses.replace(dense, data_seed=dense.seed + CONTROL_ORDER_OFFSET)


REGIMES: dict[str, Regime] = {
    "global": Regime("global", "global magnitude + fine-tuning", "global", has_control=False),
    "lottery": Regime("lottery", "lottery ticket (rewind + retrain)", "lottery", has_control=True),
}


def get(name: str) -> Regime:
    """The regime called ``name``, or a ValueError listing the known ones."""
    if name not in REGIMES:
        raise ValueError(f"unknown regime {name!r}; expected one of {', '.join(REGIMES)}")
    return REGIMES[name]
