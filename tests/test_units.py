"""Units of the study and the state git keeps between them: masks as packed bits, the agreement reference as rank
bins, the initial weights checked against their digest, and a lottery round run as a unit on a clean checkout."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from prunelib import checkpoint, state
from prunelib.metrics.agreement import spearman, top_k_iou
from prunelib.sweep.job import Job, run_job
from prunelib.sweep.units import plan, run_unit
from tiny_sweep import LIGHT


def test_masks_pack_to_bits_and_back(tmp_path) -> None:
    masks = {"conv.weight": torch.tensor([[True, False, True], [False, False, True]]),
             "fc.weight": torch.ones(9, dtype=torch.bool)}
    packed = state.pack_masks(masks)
    assert packed["conv.weight".join(["mask:", ""])].tolist() == [0b10100100]  # 6 bits, padded with zeros
    assert len(packed["mask:fc.weight"]) == 2
    size = state.write_round(tmp_path / "r.bin", masks, {"parent": "p"}, buffers={"bn.running_mean": torch.ones(2)})
    back, buffers, meta = state.read_round(tmp_path / "r.bin", {"conv.weight": (2, 3), "fc.weight": (9,)})
    assert {k: v.tolist() for k, v in back.items()} == {k: v.tolist() for k, v in masks.items()}
    assert buffers["bn.running_mean"].tolist() == [1.0, 1.0] and meta == {"parent": "p"}
    assert size == (tmp_path / "r.bin").stat().st_size
    state.write_round(tmp_path / "again.bin", masks, {"parent": "p"}, buffers={"bn.running_mean": torch.ones(2)})
    assert (tmp_path / "again.bin").read_bytes() == (tmp_path / "r.bin").read_bytes()  # one blob in git


def test_the_reference_keeps_each_pixels_rank_in_bins() -> None:
    maps = {"VG": torch.tensor([[[0.5, 0.1], [0.9, 0.1]]])}
    assert state.compact_maps(maps, bits=2)["VG"].tolist() == [[[2, 0], [3, 1]]]  # ties ranked by pixel order
    exact = state.restore_maps(state.compact_maps(maps, bits=8))["VG"]
    assert spearman(exact, maps["VG"]).item() == pytest.approx(spearman(maps["VG"], maps["VG"]).item(), abs=0.06)
    assert top_k_iou(exact, maps["VG"], 0.25).item() == 1.0


def test_initial_weights_are_checked_against_their_digest() -> None:
    weights = state.initial_weights(3)
    digest = checkpoint.tensors_digest(weights)
    assert checkpoint.tensors_digest(state.initial_weights(3, digest)) == digest
    with pytest.raises(ValueError, match="draws other weights"):
        state.initial_weights(4, digest)


def test_a_lottery_round_runs_as_a_unit_from_the_state_in_git(sweep_env, monkeypatch) -> None:
    root = sweep_env["root"]
    (root / "profiles.yaml").write_text(LIGHT.replace("lottery_rounds: 1", "lottery_rounds: 3")
                                        + '  study: "0: lottery"\n')
    run_job(Job("tiny", 0, "lottery", data=sweep_env["data"]), progress=False)  # the unbroken chain
    chain = json.loads((root / "results/tiny/runs/lottery-seed0.json").read_text())
    assert [n["network"] for n in chain["networks"]] == ["dense", "control", "pruned", "pruned", "pruned"]

    # a clean checkout as git holds it once round 1 is measured: the results so far and the state they wrote
    clean = root / "clean"
    shutil.copytree(root / "results/tiny/state", clean / "results/tiny/state")
    (clean / "results/tiny/state/seed0/lottery/round_3.bin").unlink()
    checkpoint.save_json({**chain, "networks": chain["networks"][:3], "complete": False},
                         clean / "results/tiny/runs/lottery-seed0.json")
    monkeypatch.setenv("PRUNELIB_RESULTS", str(clean / "results"))
    monkeypatch.setenv("PRUNELIB_CHECKPOINTS", str(clean / "checkpoints"))
    assert [(r["unit"].name, r["ready"]) for r in plan("tiny")] == [("lottery-seed0-round2", True),
                                                                    ("lottery-seed0-round3", False)]

    run_unit("tiny", "lottery-seed0-round2", data=sweep_env["data"], progress=False)
    unit = json.loads((clean / "results/tiny/runs/lottery-seed0.json").read_text())
    assert not (clean / "checkpoints/seed0/dense").exists()  # nothing but the round was trained
    assert unit["complete"] is False and len(unit["networks"]) == 4

    def same(network: dict) -> dict:  # what does not depend on the machine's clock or folders
        out = {k: v for k, v in network.items() if k not in ("seconds", "measure_seconds", "checkpoint", "history")}
        return {**out, "history": [{k: v for k, v in h.items() if k != "seconds"} for h in network["history"]]}

    assert same(unit["networks"][3]) == same(chain["networks"][3])  # identity, weights' digest, every measurement
    assert unit["networks"][:3] == chain["networks"][:3]
    assert ((clean / "results/tiny/state/seed0/lottery/round_3.bin").read_bytes()
            == (root / "results/tiny/state/seed0/lottery/round_3.bin").read_bytes())  # the next round's masks
    assert [(r["unit"].name, r["ready"]) for r in plan("tiny")] == [("lottery-seed0-round3", True)]
