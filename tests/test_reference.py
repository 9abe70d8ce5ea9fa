"""The paper's numbers and settings (prunelib.reference): the shipped copy, the settings table of chapter 6."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from prunelib import reference
from prunelib.reference import load_reference, paper_settings, settings_table

from conftest import SHARED

SHARED_REFERENCE = SHARED / "paper" / "reference_results.json"


@pytest.mark.skipif(not SHARED_REFERENCE.exists(), reason="the project's shared folder is not beside this checkout")
def test_shipped_numbers_are_the_shared_copy() -> None:
    assert json.loads(reference.REFERENCE_FILE.read_text()) == json.loads(SHARED_REFERENCE.read_text())


def test_paper_settings_are_the_paper_profiles_named_keys(tmp_path: Path) -> None:
    settings = paper_settings()
    assert set(settings) == set(reference.PAPER_SETTINGS)
    assert settings["image_size"] == 224 and settings["epochs"] == 30  # the paper's, as profiles.yaml records them
    broken = tmp_path / "profiles.yaml"
    broken.write_text("paper:\n  image_size: 224\n")
    with pytest.raises(ValueError, match=r"paper profile of .*profiles.yaml lacks \['epochs'"):
        paper_settings(broken)


def _run(method: str = "global") -> tuple[dict, dict]:
    recipe = {"image_size": 64, "epochs": 2, "batch_size": 16, "lr": 0.003}
    accuracy = {"config": {"dense": recipe, "finetune": {**recipe, "epochs": 1}}, "method": method,
                "levels": [{"sparsity_target": s} for s in (0.0, 0.5, 0.975)]}
    return accuracy, {"n_images": 20, "n_shared": 18, "ig_steps": 10}


def test_settings_table_reads_every_value_from_its_inputs() -> None:
    paper = {"image_size": 300, "epochs": 7, "batch_size": 32, "lr": 0.1, "n_attribution_images": 99,
             "ig_steps": 5, "craft_images": 1}
    rows = {r["setting"]: (r["paper"], r["ours"]) for r in settings_table(*_run(), paper=paper,
                                                                          reference={"sparsity": [0.0, 0.25]})}
    assert rows["image size (px)"] == (300, 64) and rows["training epochs"] == (7, 2)
    assert rows["batch size"] == (32, 16) and rows["learning rate"] == (0.1, 0.003)
    assert rows["training after each pruning step (epochs)"] == ("7 per round (code)", 1)
    assert rows["pruning levels (% removed)"] == ("0, 25", "0, 50, 98")
    assert rows["images per level (metrics)"] == ("~99", "20 (18 the same at every level not near chance)")
    assert rows["IG steps (metrics)"] == (5, 10)
    assert rows["pruning"][1] == "global magnitude + fine-tuning"
    assert "lottery" in rows["pruning"][0] and "global" in rows["pruning"][0]


def test_settings_table_defaults_to_the_papers_files() -> None:
    rows = {r["setting"]: r["paper"] for r in settings_table(*_run("lottery"))}
    assert rows["image size (px)"] == 224 and rows["training epochs"] == 30
    assert rows["pruning levels (% removed)"] == ", ".join(str(p) for p in
                                                          json.loads(reference.REFERENCE_FILE.read_text())
                                                          ["pruning_percent"])
    assert load_reference()["sparsity"][-1] == pytest.approx(0.7)
