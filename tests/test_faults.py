"""Faults lose nothing and name themselves (issue 54): integrity records that fail safe, a job done only with
every network of its regime, full disks, broken caches and records, and reproduce's own state. Each test failed on
the code before its fix."""
from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from prunelib import checkpoint
from prunelib.sweep.aggregate import aggregate, aggregation_stale
from prunelib.sweep import runner
from prunelib.sweep.job import run_job
from prunelib.sweep.records import Job, missing

from test_sweep_current import finished, finished_once, project  # noqa: F401 (fixtures)


# finding 3: a checkpoint with no digest record ------------------------------------------------------------------
def test_a_checkpoint_whose_digest_record_is_gone_is_refused(finished) -> None:
    job = finished["job"]
    level = job.checkpoints / "global" / "level_50"
    measured = json.loads(job.result_file.read_text())["networks"][1]["checkpoint_sha256"]
    (level / checkpoint.DIGESTS).unlink()
    checkpoint.verify(level / "final.pt", expected=measured)  # the result's record vouches for the file
    with pytest.raises(ValueError, match=r"level_50/final.pt has no digest record"):
        checkpoint.verify(level / "final.pt")
    shutil.copy(job.checkpoints / "dense" / "best.pt", level / "final.pt")  # another network's weights
    with pytest.raises(ValueError, match=r"level_50/final.pt is not the file written there .*result's record"):
        checkpoint.verify(level / "final.pt", expected=measured)
    job.result_file.unlink()
    with pytest.raises(ValueError, match=r"level_50/final.pt has no digest record"):
        run_job(job, progress=False)  # measured as the 50 % network before: now refused
    assert not runner.is_done(job)


def test_a_digest_record_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    checkpoint.save({"x": torch.ones(2)}, tmp_path / "a.pt")
    (tmp_path / checkpoint.DIGESTS).write_text("[]")
    with pytest.raises(ValueError, match=r"digests.json is not a record of digests"):
        checkpoint.load(tmp_path / "a.pt")


# finding 4: a result file with one network removed ----------------------------------------------------------------
def test_a_result_without_one_of_its_levels_is_not_done(finished) -> None:
    job = finished["job"]
    done = json.loads(job.result_file.read_text())
    assert runner.is_done(job) and missing(job, done, _params()) == []
    job.result_file.write_text(json.dumps({**done, "networks": done["networks"][:1]}))
    assert not runner.is_done(job)
    assert missing(job, json.loads(job.result_file.read_text()), _params()) == [
        "it has no measurement of the network level_50"]
    job.result_file.write_text(json.dumps({**done, "networks": done["networks"] + done["networks"][1:]}))
    assert not runner.is_done(job)
    run_job(job, progress=False)  # measures what is missing
    assert runner.is_done(job)


def _params():
    from prunelib.profiles import load_settings
    return load_settings("tiny")


# findings 8, smaller defects: full disks, killed saves ------------------------------------------------------------
def test_a_full_disk_names_the_file_and_leaves_no_temporary(tmp_path: Path, monkeypatch) -> None:
    def full(obj, fh):
        raise RuntimeError("[enforce fail at inline_container.cc:595] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OSError, match=r"cannot write .*/a.pt: \[enforce fail.* MB free on its disk"):
        checkpoint.save({"x": 1}, tmp_path / "a.pt")
    monkeypatch.undo()

    def no_space(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", no_space)
    with pytest.raises(OSError, match=r"cannot write .*/b.json: No space left on device") as err:
        checkpoint.save_json({"y": 1}, tmp_path / "b.json")
    assert err.value.errno == errno.ENOSPC
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_killed_save_s_temporary_is_removed_by_the_next(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f".a.pt.{int(gone.stdout)}@{checkpoint.HOST}.0123abcd.tmp"  # killed while writing a.pt
    orphan.write_bytes(b"half")
    elsewhere = tmp_path / f".a.pt.{int(gone.stdout)}@another-node.0123abcd.tmp"  # its pid means nothing here
    elsewhere.write_bytes(b"being written")
    live = checkpoint.temporary(tmp_path / "a.pt")  # this process's: a writer still at work
    live.write_bytes(b"being written")
    checkpoint.save({"x": 1}, tmp_path / "a.pt")
    assert not orphan.exists() and live.exists() and elsewhere.exists()


# finding 8: a full disk during the aggregation; the smaller defect "a new summary.csv beside old verdicts" -------
def test_a_full_disk_fails_the_aggregation_alone_and_writes_none_of_its_files(finished, monkeypatch) -> None:
    job, results = finished["job"], finished["root"] / "results" / "tiny"
    before = {name: (results / name).read_bytes() for name in ("summary.csv", "seed_verdicts.json")}
    write_json = checkpoint.write_json

    def full(obj, path):
        if "seed_verdicts" in path.name:
            raise OSError(errno.ENOSPC, "No space left on device")
        write_json(obj, path)

    monkeypatch.setattr(checkpoint, "write_json", full)
    (results / "summary.csv").write_text((results / "summary.csv").read_text() + "\n")  # so a rewrite would show
    before["summary.csv"] = (results / "summary.csv").read_bytes()
    lines: list[str] = []
    assert aggregate("tiny", job.data, lines.append) == ["aggregation"]
    assert "cannot write" in lines[-1] and "seed_verdicts.json: No space left on device" in lines[-1]
    assert {name: (results / name).read_bytes() for name in before} == before  # both or neither
    assert not list(results.glob(".*.tmp"))


# finding 10: a broken cache is rebuilt and named, a broken record refused and named -------------------------------
def test_a_truncated_baselines_cache_is_named_and_rebuilt(finished) -> None:
    job, results = finished["job"], finished["root"] / "results" / "tiny"
    (results / "agreement_baselines.json").write_text('{"a')
    lines: list[str] = []
    assert aggregate("tiny", job.data, lines.append) == []
    assert any("agreement_baselines.json is not readable" in line and "rebuilt" in line for line in lines)


@pytest.mark.parametrize("content", ['{"identities": [', "[]"])
def test_a_broken_record_of_pictures_or_concepts_is_named_and_made_again(project, capsys, content) -> None:
    from prunelib.sweep import concepts, pictures
    job = project["job"]
    params = {"saliency_classes": "church", "craft_classes": "church", "craft_images": 2, "image_size": 32}
    record = pictures.pictures_dir(job) / pictures.RECORD
    record.parent.mkdir(parents=True)
    record.write_text(content)
    assert not pictures.is_current(job, params, [])
    assert "pictures.json is not" in capsys.readouterr().out
    concepts.concepts_file(job).parent.mkdir(parents=True)
    concepts.concepts_file(job).write_text(content)
    assert not concepts.is_current(job, params, [])
    assert "global-seed0.json is not" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"concepts/global-seed0.json is not a (readable|job's) concept file"):
        concepts.load_concepts("tiny")


# finding 1: reproduce after a profile change re-aggregates ---------------------------------------------------------
def test_the_summary_is_aggregated_again_when_a_job_it_reads_changed(finished, tmp_path) -> None:
    from prunelib.reproduce import reproduce
    from test_reproduce import WRITE, _notebook

    job, profiles, results = finished["job"], finished["profiles"], finished["root"] / "results" / "tiny"
    assert aggregation_stale("tiny", job.data) is None
    summary = (results / "summary.csv").read_text()
    profiles.write_text(profiles.read_text() + "  image_set_per_class: 2\n")  # 20 images, not 10
    assert aggregation_stale("tiny", job.data) == "a job's result, the settings or the data changed"
    (tmp_path / "nb").mkdir()
    _notebook(tmp_path / "nb" / "a.ipynb", WRITE)
    assert reproduce("tiny", data=job.data, device="cpu", stages=(("training", "a.ipynb"),),
                     notebooks=tmp_path / "nb", book_notebooks=tmp_path / "book") == 0
    assert aggregation_stale("tiny", job.data) is None
    assert json.loads(job.result_file.read_text())["n_images"] == 20
    assert (results / "summary.csv").read_text() != summary and ",20\n" in (results / "summary.csv").read_text()
    (results / "summary.csv").unlink()
    assert aggregation_stale("tiny", job.data) == "summary.csv missing"


# smaller defect: reproduce while a sweep runs the chapters' job ---------------------------------------------------
def test_reproduce_while_a_sweep_runs_its_job_is_one_line(project, tmp_path, monkeypatch, capsys) -> None:
    from prunelib import reproduce as module, runs
    from prunelib.__main__ import main as cli
    from test_reproduce import WRITE, _notebook

    job = project["job"]
    (tmp_path / "nb").mkdir()
    _notebook(tmp_path / "nb" / "a.ipynb", WRITE)
    with runs.locked(job.lock_folder, wait=False):  # the sweep's copy of the job
        with pytest.raises(runs.Busy, match=r"the chapters' job \(global-seed0\) is being run by another process"):
            module.reproduce("tiny", data=job.data, device="cpu", stages=(("training", "a.ipynb"),),
                             notebooks=tmp_path / "nb", book_notebooks=tmp_path / "book")

    def busy(*args, **kwargs):
        raise runs.Busy("the chapters' job (global-seed0) is being run by another process")

    monkeypatch.setattr(module, "reproduce", busy)
    capsys.readouterr()
    assert cli(["reproduce", "--profile", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "being run by another process" in err and "Traceback" not in err


# smaller defect: a NaN planted in a metric ------------------------------------------------------------------------
def test_a_measurement_that_is_not_a_number_is_reported_by_the_aggregation(finished) -> None:
    job = finished["job"]
    done = json.loads(job.result_file.read_text())
    done["networks"][1]["methods"]["VG"]["gini"][2] = float("nan")
    job.result_file.write_text(json.dumps(done))
    lines: list[str] = []
    assert aggregate("tiny", job.data, lines.append) == []
    assert any("global-seed0.json holds 1 value(s) that are not finite numbers (networks[1] methods.VG.gini[2])"
               in line for line in lines)
