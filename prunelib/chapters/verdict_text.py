"""The comparison's verdicts as sentences, each with its evidence (the book's landing page glues them)."""
from __future__ import annotations

from ..saliency import in_order


def evidence(diffs: dict[str, dict], group: list[str]) -> str:
    """The paired differences of ``group`` levels as text: ``"10 %: +0.012 [+0.008, +0.016]; ..."``."""
    return "; ".join(f"{100 * float(s):.0f} %: {diffs[s]['estimate']:+.3f} [{diffs[s]['low']:+.3f}, {diffs[s]['high']:+.3f}]"
                     for s in group) or "no level"


def _pct(levels: list) -> str:
    return ", ".join(f"{100 * float(s):.0f} %" for s in levels)


def _claim(c: dict, quantity: str, group: list[str], verdicts: dict) -> str:
    return "; ".join(f"{meth} *{verdicts[meth]}* within one run (level − dense: "
                     f"{evidence(c['differences'][quantity][meth], group)})" for meth in in_order(verdicts))


def _concepts(c: dict) -> str:
    aggressive, gain, sim = c["aggressive"], c["coherence_gain"], c["concept_similarity"]
    if not aggressive:
        return "No aggressive level is above chance in this run."
    last, before = aggressive[-1], ["0.0", *c["light"]]
    per_class = "; ".join(f"{k} {min(gain[k][s] for s in aggressive):.3f} against {min(gain[k][s] for s in before):.3f}"
                          for k in c["verdicts"]["coherence_aggressive"])
    distinct = "; ".join(f"{k} {sim[k]['0.0']:.2f} → {sim[k][last]:.2f}" for k in sim)
    return (f"*Not judged* within one run: the judging rule judges concept coherence over seeds (the table of "
            f"claims). Described, per class, the lowest coherence gain of its concepts at the aggressive levels "
            f"({_pct(aggressive)}) against the lowest at the dense and light levels ({_pct(before)}): {per_class}. "
            f"Concept similarity (mean cosine between concept directions), dense → {100 * float(last):.0f} %: "
            f"{distinct}")


def _gap(g: dict) -> str:
    return f"{g['mean']:+.3f} (from {g['range'][0]:+.3f} to {g['range'][1]:+.3f})"


def verdict_texts(c: dict) -> dict[str, str]:
    """``{glue key: sentence}`` for a comparison dict as written by ``run_comparison_stage``."""
    v, g = c["verdicts"], c["paper_gaps"]
    held = [s for s, ok in v["accuracy_holds"].items() if ok]
    return {
        "verdict_gini": "pruning sharpens saliency maps (higher Gini at light-to-moderate levels): "
                        + _claim(c, "gini", c["light"], v["gini_light"]),
        "verdict_aopc": "light-to-moderate pruning improves faithfulness (higher AOPC): "
                        + _claim(c, "aopc", c["light"], v["aopc_light"]),
        "verdict_aggressive": "aggressive pruning (70 % and more) lowers saliency sparsity: "
                              + _claim(c, "gini", c["aggressive"], v["gini_aggressive"]),
        "verdict_concepts": "aggressive pruning lowers concept coherence: " + _concepts(c),
        "verdict_accuracy": "accuracy within 2 points of the dense network at: " + (_pct(held) or "no level"),
        "verdict_excluded": "levels left out of the verdicts because the network is near chance (top-1 below 2 x "
                            f"chance): {_pct(c['at_chance']) or 'none'}",
        "verdict_gaps": (f"dense top-1 {100 * g['top1_dense'][0]:.1f} % against the paper's {100 * g['top1_dense'][1]:.1f} % "
                         f"({g['top1']['dense']:+.1f} points); ours minus the paper's, averaged over the levels both "
                         f"have ({', '.join(f'{100 * s:.0f}' for s in g['levels'])} %): Gini VG {_gap(g['gini_VG'])}, "
                         f"Gini IG {_gap(g['gini_IG'])}, AOPC VG {_gap(g['aopc_VG'])}, AOPC IG {_gap(g['aopc_IG'])}"),
    }
