"""Map agreement in the book (prunelib.figures.agreement) and the side-by-side picture the aggregation draws
(prunelib.sweep.agreement.picture): known maps give known agreement numbers, and near-chance networks are shown
apart and never judged."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from prunelib import checkpoint  # noqa: E402
from prunelib.figures import agreement as fig  # noqa: E402
from prunelib.sweep import agreement  # noqa: E402
from prunelib.sweep.measurement import maps_file  # noqa: E402

SETTINGS = {"image_size": 8, "val_per_class": 0}


def _row(regime: str, seed: int, network: str, level: float, metric: str, value: float) -> dict:
    return {"regime": regime, "seed": seed, "network": network, "level": level, "metric": metric, "value": value,
            "ci_low": value - 0.01, "ci_high": value + 0.01, "n_images": 10}


def _summary() -> pd.DataFrame:
    rows = []
    for seed in (0, 1, 2):
        rows.append(_row("dense", seed, agreement.BASELINE, 0.0, "agreement_spearman_vg", 0.50 + 0.01 * seed))
        for level, value, top1 in ((10.0, 0.80 + 0.01 * seed, 0.8), (98.0, 0.05, 0.11)):
            rows += [_row("global", seed, "pruned", level, "agreement_spearman_vg", value),
                     _row("global", seed, "pruned", level, "top1", top1)]
    return pd.DataFrame(rows)


def test_the_table_gives_the_mean_over_seeds_and_leaves_networks_at_chance_out() -> None:
    verdicts = {"regimes": {"global": {"VG": {"spearman": [
        {"network": "pruned", "level": 10.0, "verdict": "closer than a second seed"}]}}}}
    rows = fig.agreement_rows(_summary(), verdicts)
    assert [(r["regime"], r["network"], r["level (%)"]) for r in rows] == [("dense", agreement.BASELINE, "0"),
                                                                            ("global", "pruned", "10")]
    ten = rows[1]
    assert ten["Spearman ρ, VG"].startswith("0.810 [") and ten["Spearman ρ, VG"].endswith("(3 seeds)")
    assert ten["verdict, Spearman ρ, VG"] == "closer than a second seed"
    # the baseline pools each seed's pairs with the others: 3 seeds are 3 pairs, and no t-interval is drawn
    assert rows[0]["Spearman ρ, VG"] == "0.510, range 0.500-0.520 (3 pairs of seeds)"
    two = fig.agreement_rows(_summary()[lambda d: d.seed < 2], verdicts)[0]["Spearman ρ, VG"]
    assert two == "0.505, range 0.500-0.510 (1 pair of seeds)"


def test_the_figure_draws_the_baseline_band_and_keeps_networks_at_chance_off_the_axis() -> None:
    figure = fig.plot_agreement(_summary())
    ax = figure.axes[0]  # Spearman, VG
    band = next(p for p in ax.patches)
    assert band.get_y() == pytest.approx(0.50) and band.get_y() + band.get_height() == pytest.approx(0.52)
    low = ax.get_ylim()[0]
    assert low > 0.3, "a network at chance set the axis"
    at_chance = next(line for line in ax.get_lines() if line.get_marker() == "v")
    assert list(at_chance.get_ydata()) == pytest.approx([low] * 3)  # on the axis' edge, and said so
    assert figure.get_figwidth() <= fig.COLUMN_IN


def _network(tmp_path, seed: int, name: str, target: float, correct: list[bool]) -> dict:
    folder = tmp_path / f"seed{seed}" / name
    folder.mkdir(parents=True)
    return {"network": "dense" if target == 0 else "pruned", "target": target, "level": 100 * target,
            "near_chance": False, "checkpoint": str(folder / "best.pt"), "checkpoint_sha256": f"{seed}{name}",
            "images": [0, 1, 2], "correct": correct}


def test_the_picture_takes_the_first_image_all_four_classify_correctly_and_measures_agreement(
        tmp_path, synthetic_root) -> None:
    torch.manual_seed(0)
    base = torch.rand(3, 8, 8)
    first = [_network(tmp_path, 0, "dense", 0.0, [True, True, True]),
             _network(tmp_path, 0, "light", 0.1, [False, True, True]),
             _network(tmp_path, 0, "heavy", 0.9, [True, True, True])]
    other = [_network(tmp_path, 1, "dense", 0.0, [True, True, False])]
    maps = {"dense0": base, "light": base, "heavy": 1 - base, "dense1": base.flip(-1)}
    for net, key in zip(first + other, ("dense0", "light", "heavy", "dense1")):
        checkpoint.save({"VG": maps[key].to(torch.float16)}, maps_file(net, SETTINGS))
    runs = [{"regime": "global", "seed": 0, "settings": SETTINGS, "networks": first},
            {"regime": "global", "seed": 1, "settings": SETTINGS, "networks": other}]
    shown = agreement.picture(runs, str(synthetic_root))
    assert int(shown["index"]) == 1  # image 0: the light level is wrong; image 1: all four are right
    assert list(shown["labels"]) == ["dense, seed 0", "10 % removed", "90 % removed", "dense, seed 1"]
    assert shown["spearman"][0, :2] == pytest.approx([1.0, 1.0], abs=1e-3)  # itself, an identical map
    assert shown["spearman"][0, 2] == pytest.approx(-1.0, abs=1e-3)  # its negation's ranks, reversed
    assert shown["image"].shape == (8, 8, 3) and shown["image"].dtype == np.uint8
    agreement.save_picture(shown, tmp_path / "picture.npz")
    back = agreement.load_picture(tmp_path / "picture.npz")
    assert np.array_equal(back["maps"], shown["maps"]) and list(back["labels"]) == list(shown["labels"])
    figure = fig.plot_agreement_picture(back)
    assert "ρ -1.00" in " ".join(ax.get_title() for ax in figure.axes)


def test_the_picture_takes_the_first_seeds_whose_maps_are_here(tmp_path, synthetic_root) -> None:
    """Seed 0's maps are gone (its networks were trained on another machine): seeds 1 and 2 are shown instead."""
    runs = []
    for seed in (0, 1, 2):
        nets = [_network(tmp_path, seed, "dense", 0.0, [True] * 3), _network(tmp_path, seed, "light", 0.1, [True] * 3)]
        if seed:
            for net in nets:
                checkpoint.save({"VG": torch.rand(3, 8, 8).to(torch.float16)}, maps_file(net, SETTINGS))
        runs.append({"regime": "global", "seed": seed, "settings": SETTINGS, "networks": nets})
    shown = agreement.picture(runs, str(synthetic_root))
    assert list(shown["seeds"]) == [1, 2]
    assert list(shown["labels"]) == ["dense, seed 1", "10 % removed", "10 % removed", "dense, seed 2"]


def test_no_picture_without_the_maps(tmp_path, synthetic_root) -> None:
    first = [_network(tmp_path, 0, "dense", 0.0, [True] * 3), _network(tmp_path, 0, "light", 0.1, [True] * 3)]
    other = [_network(tmp_path, 1, "dense", 0.0, [True] * 3)]
    runs = [{"regime": "global", "seed": 0, "settings": SETTINGS, "networks": first},
            {"regime": "global", "seed": 1, "settings": SETTINGS, "networks": other}]
    assert agreement.picture(runs, str(synthetic_root)) is None
    assert agreement.load_picture(tmp_path / "none.npz") is None


def test_a_sweep_without_agreement_gets_a_row_saying_so() -> None:
    rows = fig.agreement_rows(_summary()[lambda d: d.metric == "top1"], None)
    assert rows == [{"regime": "none", "network": "none", "level (%)": "",
                     "agreement": "not measured yet (it needs measurement protocol v2)"}]
