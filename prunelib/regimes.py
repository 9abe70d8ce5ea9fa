"""Pruning regimes: how a run goes from its dense network to its pruned levels (one registry, :data:`REGIMES`).

- ``global`` (the paper's text): global L1 magnitude pruning of all Conv2d + Linear weights to each cumulative
  level, then a short fine-tuning with the masks in force (Han et al., 2015).
- ``lottery`` (the authors' code): iterative magnitude pruning in rounds, each removing ``lottery_rate`` % of the
  weights that remain in every layer (BatchNorm scales included), rewinding the survivors to the run's initial
  weights and retraining with the dense recipe (Frankle & Carbin, 2019). Its levels are labelled by their measured
  global sparsity. Its **unpruned control** rewinds to the initial weights and retrains with no pruning and
  another data order: how far a retrained network lands from the dense one by retraining alone.
- ``global_finetuned``: the **fine-tuned unpruned control** of global pruning, the seed's dense network given one
  level's fine-tuning with nothing removed (its own job; the judging rule reads it as the ``global`` regime's
  control, :attr:`Regime.control_regime`): what the extra epoch does alone.
- ``authors_*`` (the authors' training loop taken apart, :func:`prunelib.schedule.authors_schedule`): their
  per-tensor pruning of every ``weight`` (BatchNorm scales included) with an accumulating mask, their rewind
  (BatchNorm statistics kept), and a retraining that differs in two switches: whether the mask is enforced while
  the network retrains, and whether the rate is annealed (the dense recipe's cosine) or constant. ``authors_code``
  is their code as written (neither; rounds 1 and 2 are their "20 %" and "30 %" networks), ``authors_unpruned``
  the same loop with nothing pruned (the rewind and the constant rate alone), ``authors_masked``,
  ``authors_annealed`` and ``authors_lottery`` switch one or both on (round 1 only).

Everything that iterates over regimes (the sweep, its jobs, the summary table, the figures) reads this registry.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .training import TrainConfig

from .typed_settings import Settings

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
    #: authors_*: whether the mask is held while the network retrains, and whether the retraining is annealed
    enforce_mask: bool = True
    annealed: bool = True
    #: authors_*: a fixed number of rounds (None: the profile's ``authors_rounds``), and whether anything is pruned
    rounds: int | None = None
    prunes: bool = True
    #: global: levels of its own (None: the profile's ``levels``); ``(0.0,)`` is the control of the fine-tuning
    fixed_levels: tuple[float, ...] | None = None
    #: the regime whose job trains this regime's unpruned control (its one network, from the same dense network)
    control_regime: str | None = None
    #: what its unpruned control is, as a legend names it
    control_label: str = ""

    @property
    def shows_levels(self) -> bool:
        """Whether its networks are levels that a picture shows side by side (the authors' rounds and the fine-tuned
        control, whose one network sits at 0 % beside the dense one, are not)."""
        return self.method != "authors" and self.fixed_levels is None

    def rate(self, settings: Settings) -> float:
        """The share of each layer's remaining weights a round removes (lottery, authors_*): a fraction."""
        if not self.prunes:
            return 0.0
        lottery_rate = settings.need("lottery_rate")
        rate = float(lottery_rate) / 100
        if not 0 < rate < 1:
            raise ValueError(f"lottery_rate must be a percentage in (0, 100), got {lottery_rate!r}")
        return rate

    def n_rounds(self, settings: Settings) -> int:
        """How many rounds of pruning and retraining (lottery, authors_*)."""
        key = "lottery_rounds" if self.method == "lottery" else "authors_rounds"
        rounds = self.rounds if self.rounds is not None else int(settings.need(key))
        if rounds < 1:
            raise ValueError(f"expected {key} >= 1, got {rounds!r}")
        return rounds

    def levels(self, settings: Settings) -> list[float]:
        """The cumulative target sparsities (fractions) of a profile's settings (authors_*: what the mask would
        remove if it were enforced, ``1 - (1 - rate)^r``); a ValueError names a setting the profile lacks."""
        needs = {"global": ("levels",) if self.fixed_levels is None else (), "lottery": ("lottery_rate", "lottery_rounds"),
                 "authors": ("lottery_rate",) + (() if self.rounds is not None else ("authors_rounds",))}
        missing = [key for key in needs[self.method] if getattr(settings, key) is None]
        if missing:
            raise ValueError(f"regime {self.name!r} needs the profile setting(s) {', '.join(missing)}, which this "
                             "profile does not have; choose its regimes with --regimes")
        if self.method == "global":
            return list(settings.levels if self.fixed_levels is None else self.fixed_levels)
        rate = self.rate(settings)
        return [1 - (1 - rate) ** r for r in range(1, self.n_rounds(settings) + 1)]

    def recipe(self, dense: TrainConfig, settings: Settings) -> TrainConfig:
        """The training after each pruning step: a short fine-tuning (global), the dense recipe (lottery), the dense
        recipe at a constant rate unless annealed (authors_*)."""
        if self.method == "global":
                return dataclasses.replace(dense, epochs=int(settings.need("finetune_epochs")),
                                       lr=float(settings.need("finetune_lr")), flat_fraction=0.0)
        if self.method == "authors" and not self.annealed:
            return dataclasses.replace(dense, schedule="constant")
        return dense

    def control_recipe(self, dense: TrainConfig) -> TrainConfig:
        """The unpruned control's recipe: the dense recipe with another data order."""
        return dataclasses.replace(dense, data_seed=dense.seed + CONTROL_ORDER_OFFSET)


REGIMES: dict[str, Regime] = {
    "global": Regime("global", "global magnitude + fine-tuning", "global", has_control=False,
                     control_regime="global_finetuned", control_label="fine-tuned control (nothing removed)"),
    "global_finetuned": Regime("global_finetuned", "dense + the fine-tuning of a global level, nothing removed",
                               "global", has_control=False, fixed_levels=(0.0,)),
    "lottery": Regime("lottery", "lottery ticket (rewind + retrain)", "lottery", has_control=True,
                      control_label="unpruned control (rewound, retrained)"),
    "authors_code": Regime("authors_code", "the authors' code (mask not held, constant rate)", "authors",
                           has_control=False, enforce_mask=False, annealed=False),
    "authors_unpruned": Regime("authors_unpruned", "the authors' loop, nothing pruned (rewind, constant rate)",
                               "authors", has_control=False, enforce_mask=False, annealed=False, rounds=1,
                               prunes=False),
    "authors_masked": Regime("authors_masked", "round 1, mask held, constant rate", "authors", has_control=False,
                             enforce_mask=True, annealed=False, rounds=1),
    "authors_annealed": Regime("authors_annealed", "round 1, mask not held, annealed", "authors",
                               has_control=False, enforce_mask=False, annealed=True, rounds=1),
    "authors_lottery": Regime("authors_lottery", "round 1, mask held, annealed (a lottery ticket)", "authors",
                              has_control=False, enforce_mask=True, annealed=True, rounds=1),
}


def control_of(name: str) -> str | None:
    """The regime whose unpruned control the job of regime ``name`` trains (``global_finetuned`` -> ``global``), or
    None where its networks are a regime's own."""
    return next((r.name for r in REGIMES.values() if r.control_regime == name), None)


def get(name: str) -> Regime:
    """The regime called ``name``, or a ValueError listing the known ones."""
    if name not in REGIMES:
        raise ValueError(f"unknown regime {name!r}; expected one of {', '.join(REGIMES)}")
    return REGIMES[name]
