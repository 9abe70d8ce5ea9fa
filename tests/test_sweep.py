"""The sweep: its input checks, jobs of seeds x regimes on submitit's local executor, the authors' regimes, the
summary table (tiny known answers). The other executors (SLURM, several jobs on one GPU) are in
test_sweep_executors.py, what is current in test_sweep_current.py, the seed-level rule in test_seed_rule.py."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from prunelib.sweep.aggregate import aggregate
from prunelib.sweep import summary
from tiny_sweep import TINY_BF16, read_rows, run_sweep


# --------------------------------------------------------------------------------- known answers
def test_wilson_interval_known_value() -> None:
    low, high = summary.wilson(0.5, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)


def _network(kind: str, level: float, gini: list[float], morf: list[list[int]], lerf: list[list[int]]) -> dict:
    road = lambda c: {"correct": c, "aopc_authors": {"estimate": 0.0, "low": 0.0, "high": 0.0}}  # noqa: E731
    return {"network": kind, "level": level, "top1": 0.9, "n_val": 100, "near_chance": False,
            "checkpoint": "nowhere/final.pt", "images": list(range(len(gini))),
            "methods": {"VG": {"gini": gini, "gini_mean": {"estimate": sum(gini) / len(gini), "low": 0, "high": 1},
                               "road": {"morf": road(morf), "lerf": road(lerf)}}}}


def test_summary_gap_is_morf_minus_lerf_per_image() -> None:
    # AOPC (authors) of a 3-point curve c: (c0 - c1 + c0 - c2) / 4
    net = _network("dense", 0.0, [0.5, 0.5], morf=[[1, 0, 0], [1, 1, 0]], lerf=[[1, 1, 1], [1, 1, 1]])
    run = {"regime": "global", "seed": 0, "settings": {"n_bootstrap": 50, "image_seed": 0}}
    rows = {r["metric"]: r for r in summary.network_rows(run, net)}
    assert rows["aopc_gap_vg"]["value"] == pytest.approx((0.5 + 0.25) / 2)  # per image 2/4 and 1/4, LeRF 0
    assert rows["top1"]["ci_low"] < 0.9 < rows["top1"]["ci_high"] and rows["top1"]["n_images"] == 100
    assert set(rows) == {"top1", "gini_vg", "aopc_morf_vg", "aopc_lerf_vg", "aopc_gap_vg"}


def test_concept_rows_average_the_defined_classes() -> None:
    entry = lambda gain, entropy: {"coherence": {"gain": gain}, "concept_similarity": 0.5,  # noqa: E731
                                   "importance_entropy": entropy, "reconstruction_error": 0.1, "n_images": 10}
    job = {"regime": "global", "seed": 0}
    network = {"network": "pruned", "level": 50.0, "classes": {"a": entry(0.2, None), "b": entry(0.4, 0.9)}}
    rows = {r["metric"]: r for r in summary.concept_rows(job, network)}
    assert rows["coherence_gain"]["value"] == pytest.approx(0.3) and rows["coherence_gain"]["n_images"] == 20
    assert rows["importance_entropy"]["value"] == pytest.approx(0.9)  # class a's is undefined: left out
    assert rows["coherence_gain"]["ci_low"] is None and rows["coherence_gain"]["level"] == 50.0
    network["classes"]["b"]["importance_entropy"] = None
    assert "importance_entropy" not in {r["metric"] for r in summary.concept_rows(job, network)}


# ----------------------------------------------------------------------------- bad input, early
@pytest.mark.parametrize("args, expected", [
    (["--seeds", "0,x"], "--seeds must be comma-separated integers"),
    (["--regimes", "global,random"],
     "--regimes must name regimes among global, global_finetuned, lottery, authors_code"),
    (["--gpus-per-job", "1", "--executor", "local"], "this machine has 0 CUDA devices"),
    (["--parallel", "0"], "argument --parallel: expected an integer >= 1, got '0'"),
])
def test_bad_sweep_input_is_one_line(sweep_env, capsys, args, expected) -> None:
    if torch.cuda.is_available() and "--gpus-per-job" in args:
        pytest.skip("this machine has a GPU")
    code, out = run_sweep(sweep_env, capsys, *args)
    assert code == 2 and expected in out and out.count("\n") == 1
    assert not (sweep_env["root"] / "logs").exists()  # nothing started


def test_parallel_is_for_the_local_executor(sweep_env, capsys, monkeypatch) -> None:
    from prunelib.sweep import runner
    monkeypatch.setattr(runner.shutil, "which", lambda name: f"/usr/bin/{name}")  # sbatch "on the PATH"
    code, out = run_sweep(sweep_env, capsys, "--parallel", "2", "--executor", "slurm")
    assert code == 2 and "--parallel is for the local executor" in out and out.count("\n") == 1


def test_parallel_slots_deal_jobs_round_the_gpus_and_share_the_cores() -> None:
    from prunelib.sweep.executors import job_slots
    from prunelib.sweep.runner import threads_per_job
    assert job_slots(None, 0, 0) == [()] and job_slots(3, 0, 0) == [(), (), ()]  # the CPU: 1 slot, or K
    assert job_slots(None, 1, 4) == [(0,), (1,), (2,), (3,)]  # one job per GPU, as before
    assert job_slots(5, 1, 2) == [(0,), (1,), (0,), (1,), (0,)]  # several jobs on one GPU
    assert job_slots(None, 2, 5) == [(0, 1), (2, 3)] and job_slots(3, 2, 4) == [(0, 1), (2, 3), (0, 1)]
    assert threads_per_job(None, None, 16) is None and threads_per_job(1, None, 16) is None  # torch's default
    assert threads_per_job(4, None, 16) == 4 and threads_per_job(15, None, 16) == 1 and threads_per_job(3, None, 2) == 1
    assert threads_per_job(4, 2, 16) == 2  # --cpus-per-job wins


def test_slurm_executor_without_slurm_is_refused(sweep_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    code, out = run_sweep(sweep_env, capsys, "--executor", "slurm")
    assert code == 2 and "no SLURM here (sbatch is not on the PATH)" in out


def test_a_sweep_that_would_emulate_bf16_is_refused_before_any_job(sweep_env, capsys, monkeypatch) -> None:
    """On a CPU without bf16 instructions (simulated) a long bf16 training is one line, before any job; each job
    checks its own machine too (a SLURM node), before it trains anything (prunelib/hardware.py)."""
    from prunelib import hardware
    from prunelib.sweep.job import run_job
    from prunelib.sweep.records import Job
    (sweep_env["root"] / "profiles.yaml").write_text(TINY_BF16)
    monkeypatch.setattr(hardware, "native_bf16", lambda *args, **kwargs: False)
    monkeypatch.setattr(hardware, "EMULATED_LIMIT", 0)  # the tiny profile's training counts as long
    monkeypatch.setenv(hardware.ALLOW_VARIABLE, "0")
    code, out = run_sweep(sweep_env, capsys, "--executor", "local")
    assert code == 2 and "Job global-seed0 of profile 'tiny' (2 networks left to train) trains under bf16" in out, out
    assert "--allow-emulated-bf16" in out and out.count("\n") == 1
    with pytest.raises(hardware.EmulatedBf16Error, match="Job global-seed0"):
        run_job(Job("tiny", 0, "global", data=sweep_env["data"]), progress=False)
    assert not list((sweep_env["root"] / "checkpoints").rglob("*.pt"))
    assert not (sweep_env["root"] / "results" / "tiny" / "runs").exists()


def test_what_a_job_has_left_to_train_is_what_the_bf16_check_judges(sweep_env, capsys, monkeypatch) -> None:
    """A job counts the networks whose final files are missing on this machine, each with its recipe; one with
    nothing left to train is not refused on a CPU that emulates bf16 (only measuring is left), and is told that
    ROAD in emulated bf16 will be slower where the profile classifies in bf16. No network is trained here: the
    final files are empty stand-ins, and only their presence is read."""
    from prunelib import hardware
    from prunelib.sweep.job import check_machine, networks_to_train
    from prunelib.sweep.records import Job
    (sweep_env["root"] / "profiles.yaml").write_text(TINY_BF16)
    monkeypatch.setattr(hardware, "native_bf16", lambda *args, **kwargs: False)
    monkeypatch.setattr(hardware, "EMULATED_LIMIT", 0)
    monkeypatch.setenv(hardware.ALLOW_VARIABLE, "0")
    seed = sweep_env["root"] / "checkpoints" / "tiny" / "seed0"
    lottery = Job("tiny", 0, "lottery", data=sweep_env["data"])
    assert [(f, c.epochs, c.lr) for f, c in networks_to_train(Job("tiny", 0, "global"))] == [
        ("dense", 3, 0.003), ("global/level_50", 1, 0.0003)]  # the fine-tuning's own recipe
    assert [f for f, _ in networks_to_train(lottery)] == ["dense", "lottery/control", "lottery/level_50"]
    assert [f for f, _ in networks_to_train(Job("tiny", 0, "authors_code"))] == ["dense", "authors_code/round_1"]
    for folder, content in (("dense/report.json", "{}"), ("lottery/level_50/final.pt", ""),
                            ("lottery/control/history.json", json.dumps([{"epoch": 0}, {"epoch": 1}]))):
        (seed / folder).parent.mkdir(parents=True, exist_ok=True)
        (seed / folder).write_text(content)
    assert [f for f, _ in networks_to_train(lottery)] == ["lottery/control"]  # 2 of its 3 epochs
    with pytest.raises(hardware.EmulatedBf16Error, match=r"lottery-seed0 of profile 'tiny' \(1 network left"):
        check_machine(lottery)
    (seed / "lottery" / "control" / "history.json").write_text(json.dumps([{"epoch": e} for e in range(3)]))
    assert networks_to_train(lottery) == [] and check_machine(lottery) is None  # ROAD in fp32: nothing to say
    profiles = Path(os.environ["PRUNELIB_PROFILES"])
    profiles.write_text(profiles.read_text().replace("road_precision: fp32", "road_precision: bf16"))
    assert "classifies ROAD in bf16, which this CPU emulates" in check_machine(lottery)
    monkeypatch.setattr(hardware, "native_bf16", lambda *args, **kwargs: True)
    assert check_machine(lottery) is None


# ------------------------------------------------------------------------------ local executor
def test_local_sweep_runs_skips_and_retries_only_the_failed(sweep_env, capsys) -> None:
    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--seeds", "0", "--regimes", "global")
    assert code == 0, out
    assert "[global-seed0] DONE" in out and "summary: " in out
    table = sweep_env["root"] / "results" / "tiny" / "summary.csv"
    metrics_ = {(r["network"], r["metric"]) for r in read_rows(table)}
    assert ("dense", "top1") in metrics_ and ("pruned", "aopc_gap_ig") in metrics_ and ("dense", "aopc_random") in metrics_
    assert {("dense", "coherence_gain"), ("pruned", "coherence_gain"), ("pruned", "reconstruction_error")} <= metrics_
    # concept metrics missing (e.g. a profile that asks for them later): only they are computed, the rest is reused
    concept_file = sweep_env["root"] / "results" / "tiny" / "runs" / "concepts" / "global-seed0.json"
    result_file = sweep_env["root"] / "results" / "tiny" / "runs" / "global-seed0.json"
    before = result_file.read_text()
    concept_file.unlink()
    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--seeds", "0", "--regimes", "global")
    assert code == 0 and "[global-seed0] DONE" in out and concept_file.is_file() and result_file.read_text() == before

    # the pictures of seed 0 (picture_seeds): saliency grid, explorer frames and galleries of the dense and pruned
    # networks; a setting that only says which pictures are drawn re-draws them and measures nothing again
    pictures = sweep_env["root"] / "results" / "tiny" / "runs" / "pictures" / "global-seed0"
    record = json.loads((pictures / "pictures.json").read_text())
    measured = json.loads(before)["networks"]
    assert record["identities"] == [n["identity"] for n in measured] and record["levels"] == [0.0, 0.5]
    assert record["checkpoints"] == [n["checkpoint_sha256"] for n in measured]
    maps = json.loads((pictures / "saliency" / "maps.json").read_text())
    assert maps["classes"] == ["church", "tench"] and maps["levels"] == [0.0, 0.5]
    frames = json.loads((pictures / "explorer" / "index.json").read_text())
    assert len(frames["images"]) == 2 and frames["percentages"] == [0.0, 50.0]
    assert {p.name for p in (pictures / "concepts").glob("*.json")} == {"church_00.json", "church_50.json"}
    profiles = Path(os.environ["PRUNELIB_PROFILES"])
    profiles.write_text(profiles.read_text().replace('saliency_classes: "church,tench"', 'saliency_classes: "tench"'))
    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--seeds", "0", "--regimes", "global")
    assert code == 0 and "[global-seed0] DONE" in out and result_file.read_text() == before
    assert json.loads((pictures / "saliency" / "maps.json").read_text())["classes"] == ["tench"]
    assert not list((sweep_env["root"] / "results" / "tiny").glob(".staging/*"))

    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--seeds", "0", "--regimes", "global")
    assert code == 0 and "[global-seed0] done earlier, skipped" in out and "RUNNING" not in out
    # the summary alone, redrawn from what is measured so far while no job runs (nor starts: lottery is not done)
    summary_before = table.read_text()
    table.unlink()
    code, out = run_sweep(sweep_env, capsys, "--summary-only", "--regimes", "global,lottery")
    assert code == 0 and "(no job run)" in out and "RUNNING" not in out and table.read_text() == summary_before

    # a job that fails (its control's folder holds a foreign run) names its log; the finished job stays
    foreign = sweep_env["root"] / "checkpoints" / "tiny" / "seed0" / "lottery" / "control"
    foreign.mkdir(parents=True)
    (foreign / "run.json").write_text('{"foreign": true}')
    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--regimes", "global,lottery")
    assert code == 1 and "[lottery-seed0] FAILED" in out and "holds a run of other inputs" in out
    log = Path(out.split("[lottery-seed0] FAILED")[1].split("log ")[1].split()[0])
    assert log.is_file() and "RunMismatch" in log.read_text()
    assert (sweep_env["root"] / "results" / "tiny" / "runs" / "global-seed0.json").is_file()
    shutil.rmtree(foreign)
    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--regimes", "global,lottery")
    assert code == 0 and "[global-seed0] done earlier, skipped" in out and "[lottery-seed0] DONE" in out, out
    assert {r["network"] for r in read_rows(table)} == {"dense", "pruned", "control"}
    # protocol v2: one fixed image set, so the same dense network measured by two jobs gets identical values
    runs = {name: json.loads((sweep_env["root"] / "results" / "tiny" / "runs" / f"{name}-seed0.json").read_text())
            for name in ("global", "lottery")}
    dense = {name: next(n for n in run["networks"] if n["network"] == "dense") for name, run in runs.items()}
    assert dense["global"]["images"] == dense["lottery"]["images"] and len(dense["global"]["images"]) == 10
    assert dense["global"]["methods"] == dense["lottery"]["methods"]
    metrics_ = {(r["network"], r["metric"]) for r in read_rows(table)}
    assert {("pruned", "agreement_spearman_vg"), ("control", "agreement_top10_iou_ig"),
            ("pruned", "aopc_above_random_vg")} <= metrics_
    # the lottery regime's pictures show the dense and the pruned network, not the unpruned control
    lottery = sweep_env["root"] / "results" / "tiny" / "runs" / "pictures" / "lottery-seed0" / "pictures.json"
    assert json.loads(lottery.read_text())["levels"] == [0.0, 0.5]


def test_the_authors_regimes_take_their_loop_apart(sweep_env, capsys) -> None:
    """Two of the authors' regimes share the seed's dense network (trained once) and give the decomposition."""
    import json
    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--regimes", "authors_code,authors_unpruned",
                       "--parallel", "2")  # side by side: the second waits for the dense network, then reuses it
    assert code == 0, out
    results = sweep_env["root"] / "results" / "tiny"
    assert (results / "decomposition.json").is_file()
    # what a 3-epoch network at 32 px learns depends on the CPU: judge every network on every image, so that what
    # is tested is which networks of which jobs the decomposition pairs, not their accuracy
    for f in (results / "runs").glob("authors_*.json"):
        run = json.loads(f.read_text())
        for n in run["networks"]:
            n.update(near_chance=False, correct=[True] * len(n["images"]))
        f.write_text(json.dumps(run))
    assert aggregate("tiny", sweep_env["data"], print) == []
    parts = {c["contrast"]: c["metrics"] for c in json.loads((results / "decomposition.json").read_text())["contrasts"]}
    assert {"gini_vg", "aopc_morf_ig"} <= set(parts["A1 - D"]) and parts["A1 - D"]["gini_vg"]["unit"] == "image"
    assert set(parts["A1 - S"]) and parts["M1 - A1"] == {}
    code_run = json.loads((results / "runs" / "authors_code-seed0.json").read_text())
    (a1,) = [n for n in code_run["networks"] if n["network"] == "pruned"]
    assert a1["round"] == 1 and a1["mask_sparsity"] > a1["level"] / 100  # the mask was not held: weights grew back
    logs = "".join(p.read_text() for p in (sweep_env["root"] / "logs").rglob("*_log.out"))
    assert logs.count("resuming") + logs.count("reused") >= 1  # the second job reused the first one's dense run


def test_a_profile_without_lottery_rounds_is_refused_before_any_job(sweep_env, capsys) -> None:
    profiles = Path(os.environ["PRUNELIB_PROFILES"])
    profiles.write_text(profiles.read_text().replace("lottery_rounds: 1", "lottery_rounds: 0"))
    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--regimes", "lottery")
    assert code == 2 and "setting 'lottery_rounds' must be an integer >= 1, got 0" in out and out.count("\n") == 1


def test_the_caption_names_a_gpu_and_where_a_job_stopped(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PRUNELIB_RESULTS", str(tmp_path))
    folder = tmp_path / "demo" / "runs"
    folder.mkdir(parents=True)
    prov = {"data": "../shared/data/imagenette2-224", "git_commit": "0123456789abcdef", "git_dirty": False}
    for seed, gpu, complete in ((0, None, True), (1, "NVIDIA H200", False)):
        nets = [{"network": "dense", "level": 0.0}, {"network": "pruned", "level": 10.0},
                {"network": "pruned", "level": 30.0}]
        run = {"profile": "demo", "regime": "global", "seed": seed, "networks": nets, "complete": complete,
               "settings": {"image_size": 128, "road_precision": "bf16", "n_images": 5},
               "provenance": {**prov, **({"gpu": gpu} if gpu else {})}}
        (folder / f"global-seed{seed}.json").write_text(json.dumps(run))
    line = summary.caption("demo")
    assert line.endswith("jobs: global seed 0 @ 0123456789; global seed 1 @ 0123456789 on NVIDIA H200 "
                         "(stopped at 30 %)")
    # the authors' code path: its round 1 grows back to ~2.5 % measured sparsity, so the caption names the round
    nets = [{"network": "dense", "level": 0.0}, {"network": "pruned", "level": 2.45, "round": 1}]
    run = {**run, "regime": "authors_code", "seed": 0, "networks": nets}
    (folder / "authors_code-seed0.json").write_text(json.dumps(run))
    assert "authors_code seed 0 @ 0123456789 on NVIDIA H200 (stopped after round 1)" in summary.caption("demo")


def test_the_fine_tuned_control_is_the_dense_network_given_a_level_s_fine_tuning(sweep_env, capsys) -> None:
    """global_finetuned: beside the seed's dense network (shared with global, trained once), one network at 0 %: the
    dense weights with nothing removed, fine-tuned with the global levels' recipe from the dense network; it draws
    no pictures (its one network sits at 0 % beside the dense one) and the aggregation judges it as global pruning's
    control."""
    import json

    from prunelib import checkpoint, regimes
    from prunelib.profiles import load_settings
    from prunelib.sweep.records import Job, missing
    from prunelib.training import TrainConfig

    control, settings = regimes.get("global_finetuned"), load_settings("tiny")
    assert control.levels(settings) == [0.0] and not control.shows_levels and regimes.get("global").shows_levels
    dense_recipe = TrainConfig.from_params(settings)
    assert control.recipe(dense_recipe, settings) == regimes.get("global").recipe(dense_recipe, settings)
    code, out = run_sweep(sweep_env, capsys, "--executor", "local", "--seeds", "0", "--regimes",
                          "global,global_finetuned")
    assert code == 0 and "[global_finetuned-seed0] DONE" in out, out
    results = sweep_env["root"] / "results" / "tiny"
    runs = {name: json.loads((results / "runs" / f"{name}-seed0.json").read_text())
            for name in ("global", "global_finetuned")}
    job = Job("tiny", 0, "global_finetuned", data=sweep_env["data"])
    assert missing(job, runs["global_finetuned"], settings) == []
    dense, tuned = runs["global_finetuned"]["networks"]
    assert dense["checkpoint_sha256"] == runs["global"]["networks"][0]["checkpoint_sha256"]  # one dense network
    assert (tuned["network"], tuned["target"], tuned["level"]) == ("pruned", 0.0, 0.0)  # nothing removed
    assert tuned["checkpoint_sha256"] != dense["checkpoint_sha256"]  # but fine-tuned
    record = json.loads((sweep_env["root"] / "checkpoints" / "tiny" / "seed0" / "global_finetuned" / "level_00"
                         / "run.json").read_text())
    assert record["parent"] == checkpoint.file_sha256(sweep_env["root"] / "checkpoints" / "tiny" / "seed0" / "dense"
                                                      / "best.pt") and record["recipe"]["epochs"] == 1
    assert not (results / "runs" / "pictures" / "global_finetuned-seed0").exists()
    rows = read_rows(results / "summary.csv")  # the aggregation takes it in as global pruning's control
    assert {(r["regime"], r["network"]) for r in rows} == {("global", "dense"), ("global", "pruned"), ("global", "control")}
    verdicts = json.loads((results / "seed_verdicts.json").read_text())
    assert set(verdicts["levels"]["global"]) == {"dense", "control"} and "global" in verdicts["control_effects"]
