"""One source of defaults: profiles.yaml. The notebooks' parameters cells and TrainConfig's defaults are checked copies."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from prunelib import parameters
from prunelib.profiles import load_profile
from prunelib.training import TrainConfig

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_holds_the_smoke_profiles_settings(notebook: Path) -> None:
    assert parameters.differences(notebook) == {}, \
        f"{notebook.name}: the parameters cell differs from profiles.yaml's smoke profile; run tools/sync_parameters.py"


def test_sync_rewrites_only_what_differs_and_keeps_comments(tmp_path: Path) -> None:
    notebook = tmp_path / "nb.ipynb"
    shutil.copy(NOTEBOOKS[2], notebook)  # 03_faithfulness: has commented parameters
    nb = json.loads(notebook.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = ["profile = \"smoke\"\n", "ig_steps = 99                # steps\n", "n_bootstrap = 200\n",
                      "methods = \"SG\""]
    notebook.write_text(json.dumps(nb))
    smoke = load_profile("smoke")
    assert parameters.sync(notebook) == {"ig_steps": (99, smoke["ig_steps"]), "methods": ("SG", smoke["methods"])}
    cell = next(c for c in json.loads(notebook.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert cell["source"] == ["profile = \"smoke\"\n", f"ig_steps = {smoke['ig_steps']}".ljust(29) + "# steps\n",
                              "n_bootstrap = 200\n", f"methods = \"{smoke['methods']}\"\n"]
    assert parameters.differences(notebook) == {}


def test_a_parameters_cell_must_hold_literals(tmp_path: Path) -> None:
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                                               "source": ["import os\n", "x = 1\n"]}]}))
    with pytest.raises(ValueError, match=r"nb.ipynb: the parameters cell may hold only .*import os"):
        parameters.defaults(notebook)
    notebook.write_text(json.dumps({"cells": []}))
    with pytest.raises(ValueError, match="expected one cell tagged 'parameters', found 0"):
        parameters.defaults(notebook)


def test_train_config_defaults_are_the_paper_profiles_recipe() -> None:
    paper, default = load_profile("paper"), TrainConfig()
    shared = [f.name for f in dataclasses.fields(TrainConfig) if f.name in paper]
    assert {"epochs", "lr", "image_size", "batch_size"} <= set(shared)
    assert {k: getattr(default, k) for k in shared} == {k: paper[k] for k in shared}


def test_every_profile_sets_what_its_notebooks_declare() -> None:
    """Otherwise a setting the profile leaves out would silently take the smoke value of the parameters cell."""
    import yaml

    from prunelib import reproduce
    runner_keys = {"profile", "data", "device", "out_dir", "live", "regime"}  # regime: reproduce's CHAPTER_REGIME
    missing = {}
    for name, settings in yaml.safe_load(reproduce.PROFILES_FILE.read_text()).items():
        wanted = str(settings.get("stages", ",".join(reproduce.DEFAULT_STAGES))).split(",")
        for stage, notebook in reproduce.STAGES:
            if stage in wanted:
                keys = set(parameters.defaults(reproduce.NOTEBOOKS / notebook)) - runner_keys - set(settings)
                missing.update({f"{name}/{notebook}": sorted(keys)} if keys else {})
    assert missing == {}, f"profiles.yaml: profiles leave out settings their notebooks declare: {missing}"
