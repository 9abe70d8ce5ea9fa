"""Units of the study and the state git keeps between them: masks as packed bits, the agreement reference as rank
bins, the initial weights checked against their digest, and a lottery round run as a unit on a clean checkout."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from prunelib import checkpoint, state
from prunelib.metrics.agreement import spearman, top_k_iou
from prunelib.provenance import cpu
from prunelib.sweep.job import run_job
from prunelib.sweep.records import Job
from prunelib.sweep.units import plan, run_unit
from tiny_sweep import LIGHT, run_sweep


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


def test_the_reference_gives_the_agreement_of_the_full_maps(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PRUNELIB_RESULTS", str(tmp_path))
    generator = torch.Generator().manual_seed(0)
    dense, other = (torch.rand(3, 20, 20, generator=generator) for _ in range(2))
    correct = torch.tensor([True, False, True])
    network = {"checkpoint_sha256": "d" * 64}
    state.write_reference("p", 0, network, {"s": 1}, correct, {"VG": dense.half()})
    back_correct, back = state.read_reference("p", 0, network, {"s": 1})
    assert back_correct.tolist() == correct.tolist() and back["VG"][1].abs().sum() == 0  # no map where misclassified
    kept = correct.nonzero().flatten()
    assert top_k_iou(other[kept], back["VG"][kept]).tolist() == top_k_iou(other[kept], dense.half()[kept]).tolist()
    assert (spearman(other[kept], back["VG"][kept]) - spearman(other[kept], dense.half()[kept])).abs().max() < 0.01
    assert state.maps_file("p", 0, "d" * 64).stat().st_size < 2 * 400 * state.MAP_BITS / 8 + 1000
    with pytest.raises(ValueError, match="another dense network or settings"):
        state.read_reference("p", 0, network, {"s": 2})


def test_initial_weights_are_checked_against_their_digest() -> None:
    weights = state.initial_weights(3)
    digest = checkpoint.tensors_digest(weights)
    assert checkpoint.tensors_digest(state.initial_weights(3, digest)) == digest
    with pytest.raises(ValueError, match="draws other weights"):
        state.initial_weights(4, digest)


@pytest.mark.parametrize("regime, earlier", [("lottery", ["dense", "control", "pruned"]),
                                              ("authors_code", ["dense", "pruned"])])
def test_a_round_runs_as_a_unit_from_the_state_in_git(sweep_env, monkeypatch, regime, earlier) -> None:
    root = sweep_env["root"]
    (root / "profiles.yaml").write_text(LIGHT.replace("lottery_rounds: 1", "lottery_rounds: 3")
                                        .replace("authors_rounds: 1", "authors_rounds: 3") + f'  study: "0: {regime}"\n')
    run_job(Job("tiny", 0, regime, data=sweep_env["data"]), progress=False)  # the unbroken chain
    chain = json.loads((root / f"results/tiny/runs/{regime}-seed0.json").read_text())
    assert [n["network"] for n in chain["networks"]] == earlier + ["pruned", "pruned"]

    # a clean checkout as git holds it once round 1 is measured: the results so far and the state they wrote
    clean, kept = root / "clean", len(earlier)
    shutil.copytree(root / "results/tiny/state", clean / "results/tiny/state")
    (clean / f"results/tiny/state/seed0/{regime}/round_3.bin").unlink()
    checkpoint.save_json({**chain, "networks": chain["networks"][:kept], "complete": False},
                         clean / f"results/tiny/runs/{regime}-seed0.json")
    monkeypatch.setenv("PRUNELIB_RESULTS", str(clean / "results"))
    monkeypatch.setenv("PRUNELIB_CHECKPOINTS", str(clean / "checkpoints"))
    assert [(r["unit"].name, r["ready"]) for r in plan("tiny")] == [(f"{regime}-seed0-round2", True),
                                                                    (f"{regime}-seed0-round3", False)]

    run_unit("tiny", f"{regime}-seed0-round2", data=sweep_env["data"], progress=False)
    unit = json.loads((clean / f"results/tiny/runs/{regime}-seed0.json").read_text())
    assert not (clean / "checkpoints/seed0/dense").exists()  # nothing but the round was trained
    assert unit["complete"] is False and len(unit["networks"]) == kept + 1

    def same(network: dict) -> dict:  # what does not depend on the machine's clock or folders
        out = {k: v for k, v in network.items() if k not in ("seconds", "measure_seconds", "checkpoint", "history")}
        return {**out, "history": [{k: v for k, v in h.items() if k != "seconds"} for h in network["history"]]}

    assert same(unit["networks"][kept]) == same(chain["networks"][kept])  # identity, weights, every measurement
    assert unit["networks"][kept]["machine"] == cpu()  # what trained and measured it
    assert unit["networks"][:kept] == chain["networks"][:kept]
    assert ((clean / f"results/tiny/state/seed0/{regime}/round_3.bin").read_bytes()
            == (root / f"results/tiny/state/seed0/{regime}/round_3.bin").read_bytes())  # where round 3 starts
    assert [(r["unit"].name, r["ready"]) for r in plan("tiny")] == [(f"{regime}-seed0-round3", True)]


def test_units_measure_the_concepts_a_whole_job_measures(sweep_env, monkeypatch) -> None:
    """A lottery job run unit by unit, each on a clean machine (no checkpoint of the unit before it), writes the
    concept metrics of the unbroken job: the dense unit keeps its features of the crops in git, the later units are
    judged in them; a reference made from other settings is refused before a unit trains."""
    root = sweep_env["root"]
    concepts = '  concept_seeds: "0"\n  craft_classes: "church"\n  craft_images: 4\n  n_concepts: 2\n'
    (root / "profiles.yaml").write_text(LIGHT + '  study: "0: lottery"\n' + concepts)
    run_job(Job("tiny", 0, "lottery", data=sweep_env["data"]), progress=False)  # the unbroken job
    whole = json.loads((root / "results/tiny/runs/concepts/lottery-seed0.json").read_text())

    clean = root / "clean"
    monkeypatch.setenv("PRUNELIB_RESULTS", str(clean / "results"))
    for name in ["lottery-seed0-dense", "lottery-seed0-control", "lottery-seed0-round1"]:
        assert plan("tiny")[0]["unit"].name == name
        shutil.rmtree(clean / "checkpoints", ignore_errors=True)  # each unit on another machine
        monkeypatch.setenv("PRUNELIB_CHECKPOINTS", str(clean / "checkpoints"))
        run_unit("tiny", name, data=sweep_env["data"], progress=False)
    assert plan("tiny") == []
    done = json.loads((clean / "results/tiny/runs/concepts/lottery-seed0.json").read_text())

    def same(entry: dict) -> dict:  # what does not depend on the machine's clock
        return {k: v for k, v in entry.items() if k != "seconds"}

    assert done["settings"] == whole["settings"]
    assert [n["network"] for n in done["networks"]] == ["dense", "control", "pruned"]
    assert [same(n) for n in done["networks"]] == [same(n) for n in whole["networks"]]
    assert len({n["classes"]["church"]["coherence"]["gain"] for n in done["networks"]}) == 3  # each judged

    (root / "profiles.yaml").write_text(LIGHT + '  study: "0: lottery"\n' + concepts.replace("4", "5"))
    assert [r["unit"].name for r in plan("tiny")] == ["lottery-seed0-dense", "lottery-seed0-control",
                                                      "lottery-seed0-round1"]  # no concepts of today's settings
    shutil.rmtree(clean / "checkpoints")
    with pytest.raises(ValueError, match="concept reference of another dense network or settings"):
        run_unit("tiny", "lottery-seed0-control", data=sweep_env["data"], progress=False)
    assert not (clean / "checkpoints").exists()


def test_a_unit_not_left_is_refused_naming_those_left(sweep_env, capsys) -> None:
    (sweep_env["root"] / "profiles.yaml").write_text(LIGHT + '  study: "0: lottery"\n')
    code, out = run_sweep(sweep_env, capsys, "--unit", "lottery-seed0-round9")
    assert code == 2 and "no unit 'lottery-seed0-round9' is left on the tiny profile; left: lottery-seed0-dense, " \
                         "lottery-seed0-control, lottery-seed0-round1" in out
    code, out = run_sweep(sweep_env, capsys, "--unit", "lottery-seed0-round1")
    assert code == 2 and "starts from state that git lacks: run lottery-seed0-dense first" in out
    code, out = run_sweep(sweep_env, capsys, "--remaining")
    assert code == 0 and "  lottery-seed0-round1: not timed yet; after lottery-seed0-dense" in out


def test_which_seeds_get_concepts_is_no_input_of_a_job_s_measurements(sweep_env) -> None:
    """Asking for concept metrics of a seed (concept_seeds, CRAFT's settings) leaves the job's measurements current
    (the concept metrics record their own inputs); the job is not done until they are measured, and is a unit left."""
    from prunelib.sweep.compute import remaining_rows, remaining_said
    from prunelib.sweep.records import is_done, read_result, stale

    root = sweep_env["root"]
    (root / "profiles.yaml").write_text(LIGHT + '  study: "0: global"\n')
    job = Job("tiny", 0, "global", data=sweep_env["data"])
    run_job(job, progress=False)
    assert plan("tiny") == [] and is_done(job)
    done = read_result(job.result_file)
    (root / "profiles.yaml").write_text(LIGHT + '  study: "0: global"\n  concept_seeds: "0"\n  craft_classes: "church"'
                                        '\n  craft_images: 4\n  n_concepts: 3\n')
    assert stale(job, done) == []
    assert not is_done(job) and [r["unit"].name for r in plan("tiny")] == ["global-seed0"]
    (row,) = remaining_rows("tiny")
    assert row["derived missing"] == ["concept metrics"] and row["networks left"] == 0
    assert "global seed 0 (its concept metrics)" in remaining_said(["tiny"])
    (root / "profiles.yaml").write_text(LIGHT.replace("epochs: 1", "epochs: 2") + '  study: "0: global"\n')
    assert any(why.startswith("params.epochs: was 1, now 2") for why in stale(job, done))  # a job input


def test_a_unit_that_cannot_make_the_measured_dense_network_stops_at_its_first_epoch(sweep_env, capsys,
                                                                                       monkeypatch) -> None:
    """lottery-seed0-dense trains seed 0's dense network, which global-seed0 measured: it must make that one. With its
    recorded first epoch doctored, the unit stops after that epoch with exit status 4; with the record as measured,
    it makes the same network."""
    from prunelib.sweep.units import measured_dense
    root = sweep_env["root"]
    (root / "profiles.yaml").write_text(LIGHT.replace("epochs: 1", "epochs: 2") + '  study: "0: global,lottery"\n')
    threads = torch.get_num_threads()
    run_job(Job("tiny", 0, "global", data=sweep_env["data"]), progress=False)
    assert torch.get_num_threads() == threads  # measuring leaves the count the next training runs with
    measured = json.loads((root / "results/tiny/runs/global-seed0.json").read_text())
    dense = measured["networks"][0]
    assert measured_dense("tiny", 0, sweep_env["data"]) == dense
    assert measured_dense("tiny", 1, sweep_env["data"]) is None
    rows = {r["unit"].name: r for r in plan("tiny")}
    assert rows["lottery-seed0-dense"]["other_machine"] is None  # this machine's kind trained seed 0's dense network
    rows = {r["unit"].name: r for r in plan("tiny", machine="Another CPU (amx_bf16)")}
    assert rows["lottery-seed0-dense"]["other_machine"] == dense["machine"] == cpu()
    assert rows["lottery-seed0-control"]["other_machine"] is None  # it makes no network measured before
    from prunelib.sweep.units import plan_report
    said = plan_report("tiny", machine="Another CPU (amx_bf16)")
    assert any(line.startswith("  lottery-seed0-dense: ") and f"; on {cpu()} alone, the kind that trained" in line
               for line in said)
    assert said[-1] == (f"3 of them make again networks trained on {cpu()}, or wait for units that do: they run "
                        "there alone")
    doctored = [{**h, "val_top1": h["val_top1"] + 0.1 * (h["epoch"] == 0)} for h in dense["history"]]
    checkpoint.save_json({**measured, "networks": [{**dense, "history": doctored}, *measured["networks"][1:]]},
                         root / "results/tiny/runs/global-seed0.json")
    monkeypatch.setenv("PRUNELIB_CHECKPOINTS", str(root / "elsewhere"))  # a machine without the dense network

    code, out = run_sweep(sweep_env, capsys, "--unit", "lottery-seed0-dense")
    said = out.splitlines()[-1]  # one line, after the training's progress
    assert code == 4 and said.startswith("python -m prunelib sweep: not reproduced: ")
    assert "epoch 1 reaches" in said and "this machine does not train the network the results measured" in said
    assert len(json.loads((root / "elsewhere/tiny/seed0/dense/history.json").read_text())) == 1  # not both epochs
    assert not (root / "results/tiny/runs/lottery-seed0.json").exists()

    checkpoint.save_json(measured, root / "results/tiny/runs/global-seed0.json")
    code, out = run_sweep(sweep_env, capsys, "--unit", "lottery-seed0-dense")  # resumes at epoch 2
    assert code == 0, out
    lottery = json.loads((root / "results/tiny/runs/lottery-seed0.json").read_text())
    assert lottery["networks"][0]["checkpoint_sha256"] == dense["checkpoint_sha256"]
