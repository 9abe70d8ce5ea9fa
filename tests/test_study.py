"""The chapters' view of a sweep job (prunelib.chapters.study): a hand-made job result of three images with known
answers, rearranged into the forms the figure modules read, and drawn by them."""
from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

from prunelib.figures import accuracy as accuracy_fig  # noqa: E402
from prunelib.figures import concepts as concepts_fig  # noqa: E402
from prunelib.figures import faithfulness as faithfulness_fig  # noqa: E402
from prunelib.chapters import study  # noqa: E402


def ci(x: float) -> dict:
    return {"estimate": x, "low": x - 0.1, "high": x + 0.1}


def network(kind: str, target: float, level: float, correct: list[bool], gini: list[float], near_chance=False) -> dict:
    road = {"correct": [[1, 0]] * 3, "curve": {k: [0.9, 0.1] for k in ("estimate", "low", "high")},
            "aopc_authors": ci(0.4), "aopc_standard": ci(0.3)}
    mean = sum(g for g, ok in zip(gini, correct) if ok) / sum(correct)
    return {"network": kind, "target": target, "level": level, "top1": round(0.8 - target / 2, 6),
            "identity": f"id-{kind}-{target}",
            "top1_per_class": [0.7] * 10, "top1_before_finetune": None if kind == "dense" else 0.5,
            "layers": {"conv1": level / 2, "fc": level}, "seconds": 12.0, "n_val": 3925, "near_chance": near_chance,
            "history": [{"epoch": 0, "lr": 1e-3, "val_top1": 0.5, "train_loss": 2.0}],
            "images": [5, 9, 42], "correct": correct,
            "methods": {"VG": {"gini": gini, "gini_mean": ci(mean), "road": {"morf": road, "lerf": road}},
                        "random": {"road": {"morf": road, "lerf": road}}}}


RESULT = {"regime": "lottery", "seed": 0, "n_images": 3,
          "inputs": {"params": {"image_size": 128, "epochs": 18, "batch_size": 128, "lr": 0.008}},
          "settings": {"methods": ["VG", "random"], "ig_steps": 10, "image_size": 128},
          "networks": [network("dense", 0.0, 0.0, [True, True, False], [0.1, 0.2, 0.3]),
                       network("control", 0.0, 0.0, [True, True, True], [0.9, 0.9, 0.9]),
                       network("pruned", 0.2, 20.0, [True, False, True], [0.4, 0.5, 0.6]),
                       network("pruned", 0.36, 36.0, [False, False, True], [0.7, 0.8, 0.9], near_chance=True)]}


def test_accuracy_keeps_the_levels_in_fractions_without_the_control() -> None:
    acc = study.accuracy(RESULT)
    assert [r["sparsity_target"] for r in acc["levels"]] == [0.0, 0.2, 0.36]
    assert [r["sparsity"] for r in acc["levels"]] == [0.0, 0.2, 0.36]
    assert acc["levels"][1]["layers"] == {"conv1": 0.1, "fc": 0.2} and acc["levels"][1]["val_top1"] == 0.7
    assert acc["levels"][0]["finetune_seconds"] is None and acc["levels"][1]["finetune_seconds"] == 12.0
    # the recipes the job trained with: the lottery regime retrains with the dense recipe
    assert acc["config"]["dense"]["epochs"] == acc["config"]["finetune"]["epochs"] == 18
    ours = accuracy_fig.plot_accuracy(acc).axes[0].get_lines()[0]  # top-1 after fine-tuning, in %
    assert list(ours.get_xdata()) == [0.0, 20.0, 36.0]
    assert list(ours.get_ydata()) == pytest.approx([80.0, 70.0, 62.0])


def test_metrics_keep_each_networks_correct_images_and_share_only_those_not_at_chance() -> None:
    m = study.metrics(RESULT)
    assert m["levels"] == [0.0, 0.2, 0.36] and m["shared_levels"] == [0.0, 0.2] and list(m["methods"]) == ["VG"]
    assert m["images"] == {"0.0": [5, 9], "0.2": [5, 42], "0.36": [42]}
    assert m["n_shared"] == 1  # image 5: correct at 0 and 20 %; the network at chance does not restrict
    assert m["methods"]["VG"]["0.2"]["gini"] == [0.4, 0.6]
    assert len(m["methods"]["VG"]["0.36"]["road"]["morf"]["correct"]) == 1
    rows = faithfulness_fig.summary_rows(m)
    assert [(r["images"]) for r in rows] == [2, 2, 1]


def test_coherence_follows_the_jobs_levels_by_identity() -> None:
    views = lambda gain: {"coherence": {"gain": gain}, "concept_similarity": 0.5,  # noqa: E731
                          "importance_entropy": 1.0, "reconstruction_error": 0.1}
    concepts = {"settings": {"classes": ["church"], "patch_size": 37, "n_concepts": 10, "image_size": 128},
                "networks": [{"network": n["network"], "identity": n["identity"],
                              "classes": {"church": {**views(n["target"]), "n_images": 4, "n_correct_dense": 3}}}
                             for n in reversed(RESULT["networks"])]}  # in any order: matched by identity
    c = study.coherence(concepts, RESULT)
    assert c["levels"] == [0.0, 0.2, 0.36] and c["metrics"]["church"]["n_correct"] == 3
    assert [c["metrics"]["church"][str(s)]["coherence"]["gain"] for s in c["levels"]] == [0.0, 0.2, 0.36]
    assert c["at_chance"] == [0.36]
    gain = concepts_fig.plot_concept_metrics(c).axes[0].get_lines()  # the first view: coherence gain
    assert list(gain[0].get_ydata()) == [0.0, 0.2]  # the network at chance is a grey cross of its own
    assert list(gain[1].get_xdata()) == [36.0]
    with pytest.raises(ValueError, match="do not cover"):
        study.coherence({**concepts, "networks": concepts["networks"][:1]}, RESULT)


def test_the_networks_at_chance_and_the_most_pruned_one_that_is_not() -> None:
    assert study.at_chance(RESULT) == [0.36] and study.most_pruned(RESULT) == 0.2
    every = {**RESULT, "networks": [{**n, "near_chance": True} for n in RESULT["networks"]]}
    assert study.at_chance(every) == [0.2, 0.36]  # the dense network is the reference, always shown
    assert study.most_pruned(every) == 0.0


def test_job_result_only_reads_and_names_the_command_that_makes_a_missing_or_stale_result(tmp_path, monkeypatch
                                                                                           ) -> None:
    monkeypatch.setenv("PRUNELIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("PRUNELIB_CHECKPOINTS", str(tmp_path / "checkpoints"))
    command = "python -m prunelib sweep --profile smoke --seeds 0 --regimes global"
    with pytest.raises(FileNotFoundError, match=r"runs/global-seed0.json is not a current result .*" + command):
        study.job_result("smoke", 0, "global")
    file = tmp_path / "results" / "smoke" / "runs" / "global-seed0.json"
    file.parent.mkdir(parents=True)
    file.write_text('{"profile": "smoke", "seed": 0, "regime": "global", "networks": []}')  # no network: not done
    with pytest.raises(FileNotFoundError, match=command):
        study.job_result("smoke", 0, "global")
    assert not (tmp_path / "checkpoints").exists()  # nothing was trained
    with pytest.raises(ValueError, match="nonsense"):
        study.job_result("smoke", 0, "nonsense")
