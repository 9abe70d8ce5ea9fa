"""Results cannot lie about where they came from: one test per defect of the provenance issue.

1. a finished run is never reused for other data; 2. a pruning level is never reused from another parent, and
near levels get folders of their own; 3. provenance is written only on success; 4. executed notebooks are kept
per profile (reproduce's tests); 5. strict data checks; 6. user errors are one line, exit 2, early.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import papermill
import pytest
import torch

from prunelib import data, pipeline
from prunelib.__main__ import main as cli
from prunelib.data import DataError
from prunelib.schedule import level_tag
from prunelib.synthetic import make_imagenette
from prunelib.training import TrainConfig

CFG = TrainConfig(epochs=1, batch_size=8, lr=3e-3, image_size=32, seed=0, bf16=False)  # fp32: quick on any CPU
COMMON = ["--image-size", "32", "--batch-size", "8", "--subset-per-class", "0", "--val-per-class", "0"]


def _cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    code = cli(list(argv))
    return code, capsys.readouterr().err


@pytest.fixture
def two_datasets(tmp_path: Path) -> tuple[Path, Path]:
    a = make_imagenette(tmp_path / "a", n_train=2, n_val=1, size=32, seed=0)
    b = make_imagenette(tmp_path / "b", n_train=2, n_val=1, size=32, seed=1)  # same layout, other pixels
    return a, b


# ------------------------------------------------------------------------- 1. runs keyed by their data
def test_a_finished_run_is_not_reused_for_other_data(two_datasets, tmp_path, capsys) -> None:
    a, b = two_datasets
    out = str(tmp_path / "dense")
    assert cli(["train", "--data", str(a), *COMMON, "--epochs", "1", "--out", out]) == 0
    capsys.readouterr()
    code, err = _cli(capsys, "train", "--data", str(b), *COMMON, "--epochs", "1", "--out", out)
    assert code == 2 and err.count("\n") == 1
    assert "holds a run of other inputs" in err and "data.train: was" in err and out in err
    # another subset of the same data is other data too
    code, err = _cli(capsys, "train", "--data", str(a), *COMMON[:4], "--subset-per-class", "1",
                     "--val-per-class", "0", "--epochs", "1", "--out", out)
    assert code == 2 and "data.n_train: was 20, now 10" in err


def test_checkpoints_without_identity_are_refused(tmp_path: Path) -> None:
    from prunelib import runs  # (imported here so that the other tests also run against older code)
    (tmp_path / "last.pt").write_bytes(b"")
    with pytest.raises(runs.RunMismatch, match="no run.json"):
        runs.claim(tmp_path, {"recipe": {}})


# ------------------------------------------------------------------- 2. levels keyed by their parent
def test_a_level_is_not_reused_from_another_dense_network(synthetic_root, tmp_path, capsys) -> None:
    args = ["--data", str(synthetic_root), *COMMON, "--finetune-epochs", "1", "--levels", "50",
            "--dense", str(tmp_path / "dense"), "--out", str(tmp_path / "global")]
    assert cli(["train", "--data", str(synthetic_root), *COMMON, "--epochs", "1", "--out", str(tmp_path / "dense")]) == 0
    assert cli(["prune", *args]) == 0
    shutil.rmtree(tmp_path / "dense")  # retrain the dense network with another seed: the level's parent changes
    assert cli(["train", "--data", str(synthetic_root), *COMMON, "--epochs", "1", "--seed", "1",
                "--out", str(tmp_path / "dense")]) == 0
    capsys.readouterr()
    code, err = _cli(capsys, "prune", *args, "--seed", "1")
    assert code == 2 and "level_50 holds a run of other inputs" in err and "parent: was" in err


def test_near_levels_get_folders_of_their_own() -> None:
    assert [level_tag(s) for s in (0.1, 0.104, 0.05, 0.5904, 0.0)] == ["10", "10.4", "05", "59.04", "00"]
    assert pipeline.parse_levels("10,10.4,50") == pytest.approx([0.1, 0.104, 0.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        pipeline.parse_levels("50,10")


# -------------------------------------------------------------- 3. provenance only after success
def test_a_failing_notebook_writes_no_provenance(synthetic_root, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PRUNELIB_RESULTS", str(tmp_path / "results"))
    out = tmp_path / "results" / "smoke" / "training"
    notebook = Path(__file__).parent.parent / "notebooks" / "01_training.ipynb"
    with pytest.raises(papermill.PapermillExecutionError, match="unknown regime 'prune-everything'"):
        papermill.execute_notebook(str(notebook), str(tmp_path / "run.ipynb"), progress_bar=False,
                                   parameters={"regime": "prune-everything", "data": str(synthetic_root),
                                               "out_dir": str(out)},
                                   cwd=str(notebook.parent), kernel_name="python3")
    assert not (out / "provenance.json").exists() and not (out / "accuracy.json").exists()


def test_provenance_names_the_data_folder_the_stage_read_wherever_it_runs(tmp_path, monkeypatch) -> None:
    # a notebook runs in notebooks/ with the data path the runner injected relative to the project: the record names
    # that folder, not the same words resolved against the notebook's folder
    from prunelib import paths
    from prunelib.provenance import describe

    data_dir = paths.ROOT / ".cache" / "provenance-probe" / "imagenette"
    data_dir.mkdir(parents=True, exist_ok=True)
    injected = os.path.relpath(data_dir, paths.ROOT)
    monkeypatch.chdir(paths.ROOT / "notebooks")
    assert describe("smoke", injected, "cpu", 0)["data"] == injected
    monkeypatch.chdir(tmp_path)
    assert describe("smoke", str(data_dir), "cpu", 0)["data"] == injected  # an absolute path is written relative


# ------------------------------------------------------------------------------- 5. strict data
def test_an_unlisted_image_is_an_error(tmp_path: Path) -> None:
    root = make_imagenette(tmp_path / "ds", n_train=2, n_val=1, size=16)
    intruder = root / "train" / data.WNIDS[0] / "parachute.JPEG"
    shutil.copy(root / "val" / data.WNIDS[9] / os.listdir(root / "val" / data.WNIDS[9])[0], intruder)
    with pytest.raises(DataError, match=r"1 image\(s\) .* not listed in .*SHA256SUMS: train/n01440764/parachute.JPEG"):
        data.load_split(root, "train", size=16)


def test_a_malformed_checksum_line_is_named(tmp_path: Path) -> None:
    root = make_imagenette(tmp_path / "ds", n_train=1, n_val=1, size=16)
    sums = root / "SHA256SUMS"
    lines = sums.read_text().splitlines()
    sums.write_text("\n".join(lines[:2] + ["deadbeef"] + lines[2:]) + "\n")
    with pytest.raises(DataError, match=r"SHA256SUMS, line 3: expected '<sha256 in 64 hex digits>  <path>', got 'deadbeef'"):
        data.verify_checksums(root)


def test_a_same_size_replacement_is_not_served_from_the_cache(tmp_path: Path) -> None:
    root = make_imagenette(tmp_path / "ds", n_train=2, n_val=1, size=16, checksums=False)
    first = data.load_split(root, "val", size=16)
    a, b = (root / f for f in first.files[:2])
    raw_a, raw_b = a.read_bytes(), b.read_bytes()
    n = max(len(raw_a), len(raw_b))  # JPEG readers ignore bytes after the end marker: pad both to one size
    a.write_bytes(raw_b.ljust(n, b"\0"))
    b.write_bytes(raw_a.ljust(n, b"\0"))
    again = data.load_split(root, "val", size=16)
    assert torch.equal(again.images[0], first.images[1]) and again.digest != first.digest


def test_a_corrupt_cache_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    root = make_imagenette(tmp_path / "ds", n_train=1, n_val=1, size=16)
    good = data.load_split(root, "val", size=17)
    (cache,) = (Path(os.environ["PRUNELIB_CACHE"]) / "imagenette").glob("val-17px-*.pt")  # only this test decodes at 17 px
    cache.write_bytes(b"truncated")
    with pytest.warns(UserWarning, match=f"{cache.name} is unreadable"):
        again = data.load_split(root, "val", size=17)
    assert torch.equal(again.images, good.images)
    assert torch.equal(data.load_split(root, "val", size=17).images, good.images)  # rebuilt: no warning now


def test_stale_temporaries_are_removed(tmp_path: Path) -> None:
    root = make_imagenette(tmp_path / "ds", n_train=1, n_val=1, size=16)
    folder = Path(os.environ["PRUNELIB_CACHE"]) / "imagenette"
    folder.mkdir(parents=True, exist_ok=True)
    dead, alive = folder / "train-16px-x.pt.tmp999999999", folder / f"train-16px-y.pt.tmp{os.getpid()}"
    dead.write_bytes(b"half"), alive.write_bytes(b"being written")
    data.load_split(root, "train", size=16)
    assert not dead.exists() and alive.exists()
    alive.unlink()


def test_hidden_folders_are_not_classes(tmp_path: Path) -> None:
    root = make_imagenette(tmp_path / "ds", n_train=1, n_val=1, size=16)
    (root / "train" / ".ipynb_checkpoints").mkdir()
    (root / "train" / data.WNIDS[0] / ".ipynb_checkpoints").mkdir()
    assert len(data.load_split(root, "train", size=16)) == 10


# ------------------------------------------------------------------------ 6. one-line errors, early
@pytest.mark.parametrize("argv, expected", [
    (["--device", "gpu"], "expected auto, cpu, cuda or cuda:N, got 'gpu'"),
    (["--subset-per-class", "-2"], "expected an integer >= 0 (0 = all), got '-2'"),
    (["--image-size", "1"], "expected an image size in pixels >= 32"),
    (["--epochs", "0"], "expected an integer >= 1, got '0'"),
    (["--profile", "huge"], "unknown profile 'huge'"),
])
def test_bad_options_are_one_line_before_any_data(argv, expected, capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli(["train", "--data", str(tmp_path / "not-there"), *argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_levels_out_of_order_are_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        cli(["prune", "--levels", "50,10"])
    assert "strictly increasing" in capsys.readouterr().err


def test_an_unwritable_folder_is_one_line(synthetic_root, tmp_path, capsys) -> None:
    (tmp_path / "a-file").write_text("")
    code, err = _cli(capsys, "train", "--data", str(synthetic_root), *COMMON, "--out", str(tmp_path / "a-file" / "run"))
    assert code == 2 and "cannot write the checkpoint folder" in err and err.count("\n") == 1


def test_debug_shows_the_traceback(tmp_path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        cli(["train", "--data", str(tmp_path / "not-there"), "--debug"])


def test_provenance_names_the_cpu_and_its_bf16_features() -> None:
    from prunelib.provenance import cpu, provenance
    intel = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum\nflags\t\t: fpu avx512f amx_bf16 avx512_bf16\n"
    assert cpu(intel) == "Intel(R) Xeon(R) Platinum (amx_bf16, avx512_bf16)"
    assert cpu("model name\t: AMD EPYC\nflags\t\t: fpu avx2\n") == "AMD EPYC"
    assert provenance("smoke", None, "cpu", 0)["cpu"]


def test_a_copy_without_git_names_its_commit_from_the_environment(monkeypatch) -> None:
    """A copy of the code sent without .git (a GPU machine, a cluster node) records the commit it was told, and git,
    where it answers, wins over the variable."""
    from prunelib import provenance as prov
    monkeypatch.setenv(prov.COMMIT_VARIABLE, "abc123+modified")
    with_git = prov.provenance("smoke", None, "cpu", 0)
    assert with_git["git_commit"] != "abc123"
    monkeypatch.setattr(prov, "_git", lambda *args: "unknown")
    info = prov.provenance("smoke", None, "cpu", 0)
    assert (info["git_commit"], info["git_dirty"]) == ("abc123", True)
    monkeypatch.setenv(prov.COMMIT_VARIABLE, "abc123")
    assert prov.provenance("smoke", None, "cpu", 0)["git_dirty"] is False
    monkeypatch.delenv(prov.COMMIT_VARIABLE)
    assert prov.provenance("smoke", None, "cpu", 0)["git_commit"] == "unknown"
