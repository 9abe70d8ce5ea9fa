"""The noise study's sentences, from a constructed table and verdicts with known answers."""
from __future__ import annotations

import pandas as pd

from prunelib.reference import load_reference
from prunelib.sweep.findings import findings, pending, spread_vs_jump


def _table(gini_vg: dict[int, float]) -> pd.DataFrame:
    rows = [{"regime": "global", "seed": s, "network": "dense", "level": 0.0, "metric": "gini_vg", "value": v}
            for s, v in gini_vg.items()]
    rows += [{"regime": "global", "seed": s, "network": "dense", "level": 0.0, "metric": "top1", "value": 0.8 + s / 100}
             for s in gini_vg]
    return pd.DataFrame(rows)


def _floors(gini_vg: float | None, n_seeds: int = 3) -> dict:
    return {"floors": {"global": {"gini_vg": {"dense_seeds": gini_vg, "n_dense_seeds": n_seeds}}}}


def test_spread_is_set_beside_the_papers_jump() -> None:
    paper = load_reference()["gini"]["VG"]
    jump = paper[1] - paper[0]
    [sentence] = spread_vs_jump(_floors(0.03))
    assert sentence.startswith("Gini VG: dense networks of 3 seeds differ by up to 0.030 on the images both explain;")
    assert f"{jump:+.3f}, {abs(jump) / 0.03:.1f} times that spread" in sentence
    assert spread_vs_jump(_floors(None, 1)) == []  # one seed: no spread to compare
    assert spread_vs_jump({"claims": {}}) == []  # no floors at all (nothing finished)


def test_findings_name_accuracy_verdicts_in_claim_order_and_what_is_missing() -> None:
    verdicts = {"claims": {"gini_aggressive": {"sentence": "B.", "by_regime": {"global": {"IG": "x", "VG": "y"}}},
                           "gini_light": {"sentence": "A", "by_regime": {"global": {"VG": "holds"}}}}}
    said = findings(_table({0: 0.40, 1: 0.41}), verdicts, seeds=(0, 1, 2), lottery_seeds=(0,))
    assert said[0].startswith("2 dense networks of different seeds: 80.0, 81.0 % top-1")
    assert said[-3:] == ["A: global: VG holds.", "B: global: VG y, IG x.", "Not finished yet: global seed 2, lottery seed 0."]
    assert pending(_table({0: 0.4}), (0,), ("global",), ()) is None


def test_one_dense_network_is_singular() -> None:
    assert findings(_table({0: 0.4}), {"claims": {}}, seeds=(0,), lottery_seeds=())[0].startswith("1 dense network of")


def _level(level: float, verdict: str, seeds: int, group: str = "aggressive") -> dict:
    return {"level": level, "group": group, "verdict": verdict, "seeds": {str(s): {} for s in range(seeds)}}


def test_a_verdict_that_holds_says_where_and_on_how_many_seeds() -> None:
    gini_vg = [_level(10, "up", 3, "light"), _level(70, "inconclusive", 3), _level(95, "down", 3),
               _level(98, "down", 1)]
    verdicts = {"claims": {"gini_aggressive": {"sentence": "Gini down", "by_regime": {"global": {"VG": "holds",
                                                                                               "IG": "inconclusive"}}}},
                "levels": {"global": {"gini_vg": gini_vg, "gini_ig": [_level(98, "inconclusive", 1)]}}}
    [said] = findings(_table({0: 0.4}), verdicts, seeds=(0,), lottery_seeds=())[1:]
    assert said == ("Gini down: global: VG holds (at 95 % on 3 of 3 seeds, 98 % on 1 of 3 seeds; the others are near chance "
                    "there), IG inconclusive.")
    verdicts["levels"]["global"]["gini_vg"] = gini_vg[:3]  # the 98 % network of every seed but one near chance
    [said] = findings(_table({0: 0.4}), verdicts, seeds=(0,), lottery_seeds=())[1:]
    assert said == "Gini down: global: VG holds (at 95 %, every seed), IG inconclusive."
