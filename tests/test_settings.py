"""The one check before any work (prunelib/settings.py, prunelib/profiles.py): every setting parsed as its job parses
it, the data and the folders checked, the smoke run's own data, --download; all refused in one line before any work."""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.error import URLError

import pytest

from prunelib import data, paths, settings
from prunelib.__main__ import main as cli
from prunelib.profiles import ProfileError, check, read_profiles
from prunelib.synthetic import make_imagenette
from tiny_sweep import LIGHT, TINY


def _profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    (tmp_path / "profiles.yaml").write_text(text)
    monkeypatch.setenv("PRUNELIB_PROFILES", str(tmp_path / "profiles.yaml"))


def _exit_code(argv: list[str]) -> int:
    try:
        return cli(argv)
    except SystemExit as stop:  # argparse: a bad option or profile
        return stop.code


# ----------------------------------------------------------------------------------- settings parsed as the job
@pytest.mark.parametrize("key, value, message", [
    ("levels", "10,10.001,50", "here 10, 10, 50"),           # two levels, one folder level_10
    ("levels", "50,99.999", "here 50, 100"),                 # saved as level_100
    ("removal_percentages", "abc", "comma-separated numbers"),
    ("removal_percentages", "0,10,150", r"in \[0, 100\)"),
    ("saliency_classes", "church,churhc", "not ImageNette classes: 'churhc'"),
    ("craft_classes", "churhc", "not ImageNette classes: 'churhc'"),
    ("n_bootstrap", 1, "n_bootstrap' must be an integer >= 2"),
    ("n_concepts", 1000, "'n_concepts' .1000. exceeds what CRAFT can factorise: 64 crops"),
    ("lr", float("inf"), "'lr' must be a finite number"),
    ("finetune_lr", float("nan"), "'finetune_lr' must be a finite number"),
    ("methods", "VG,XX", "unknown saliency methods 'XX'"),
])
def test_a_setting_the_job_could_not_run_is_refused_by_the_profile_check(key, value, message) -> None:
    params = {"image_size": 32, "craft_images": 4, "craft_classes": "church", key: value}
    with pytest.raises(ProfileError, match=message):
        check("p", params)


def test_methods_with_spaces_are_parsed_as_the_check_parses_them() -> None:
    from prunelib.sweep import pictures, records
    params = {"methods": "VG, IG", "image_size": 32, "n_attribution_images": 4, "ig_steps": 2, "n_bootstrap": 20,
              "saliency_classes": "church, tench"}
    check("p", params)
    assert records.measurement_settings(params)["methods"] == ["VG", "IG", "random"]
    assert pictures.settings(params)["methods"] == ["VG", "IG"]
    assert pictures.settings(params)["classes"] == ["church", "tench"]


@pytest.mark.parametrize("name", ["../../../escape", "a/b", ".hidden", "two words"])
def test_a_profile_name_that_is_not_a_plain_word_is_refused(tmp_path, monkeypatch, capsys, name) -> None:
    _profile(tmp_path, monkeypatch, f"{json.dumps(name)}:\n  lr: 0.1\n")
    with pytest.raises(ProfileError, match="must be letters, digits"):
        read_profiles()
    assert _exit_code(["train", "--profile", name]) == 2
    assert "must be letters, digits" in capsys.readouterr().err
    assert not (tmp_path.parent.parent / "escape").exists()


def test_the_shipped_profiles_pass_the_check() -> None:
    assert {"smoke", "cpu", "paper", "noise", "authors"} <= set(read_profiles())


# --------------------------------------------------------------------------------------------- against the data
def test_an_image_set_larger_than_the_validation_split_is_refused_before_any_job(sweep_env, monkeypatch,
                                                                                capsys) -> None:
    _profile(sweep_env["root"], monkeypatch, LIGHT + "  image_set_per_class: 100\n")
    assert _exit_code(["sweep", "--profile", "tiny", "--data", sweep_env["data"]]) == 2
    err = capsys.readouterr().err
    assert "image set asks 100 validation images of each class" in err and len(err.strip().splitlines()) == 1
    assert not (sweep_env["root"] / "results" / "tiny" / "runs").exists()
    assert not list((sweep_env["root"] / "checkpoints").rglob("*.pt"))


def test_craft_crops_are_counted_from_the_images_a_class_has(synthetic_root) -> None:
    params = {"image_size": 32, "craft_images": 100, "craft_classes": "church", "n_concepts": 40}
    check("p", params)  # 100 images x 16 crops: enough on paper
    with pytest.raises(settings.SettingsError, match="32 crops of 2 images"):  # the synthetic split has 2 a class
        settings.check_against_data(params, synthetic_root, image_size=32, measures=True)


def test_an_image_size_whose_splits_do_not_fit_in_memory_is_refused_before_decoding(synthetic_root, tmp_path,
                                                                                  capsys) -> None:
    assert _exit_code(["train", "--data", str(synthetic_root), "--image-size", "100000", "--epochs", "1",
                       "--subset-per-class", "0", "--val-per-class", "0",
                       "--out", str(tmp_path / "dense")]) == 2
    assert "GiB, more than this machine's" in capsys.readouterr().err
    assert not (tmp_path / "dense" / "run.json").exists()
    with pytest.raises(settings.SettingsError, match="choose a smaller image_size"):
        settings.check_against_data({}, synthetic_root, image_size=64, measures=False, memory_bytes=10 ** 5)


# ------------------------------------------------------------------------------------------------------ folders
def test_relative_folders_of_the_environment_are_made_absolute_when_read(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in ("PRUNELIB_RESULTS", "PRUNELIB_CHECKPOINTS", "PRUNELIB_CACHE"):
        monkeypatch.setenv(variable, "rel")
    assert paths.results_dir("p") == tmp_path / "rel" / "p"
    assert paths.checkpoint_dir("p") == tmp_path / "rel" / "p" and paths.cache_dir() == tmp_path / "rel"
    _exit_code(["train", "--profile", "no-such-profile"])  # the command line passes them on absolute
    assert os.environ["PRUNELIB_RESULTS"] == str(tmp_path / "rel")  # a kernel started in notebooks/ reads the same


def test_reproduce_checks_its_folders_before_any_work(sweep_env, monkeypatch, capsys) -> None:
    blocked = sweep_env["root"] / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("PRUNELIB_RESULTS", str(blocked))  # results/<profile> cannot be made here
    assert _exit_code(["reproduce", "--profile", "tiny", "--data", sweep_env["data"]]) == 2
    assert "cannot write the results folder" in capsys.readouterr().err
    assert not list((sweep_env["root"] / "checkpoints").rglob("*.pt"))  # nothing was trained


def test_remaining_refuses_a_profile_without_a_study(sweep_env, capsys) -> None:
    assert _exit_code(["sweep", "--profile", "tiny", "--remaining"]) == 2
    assert "has no `study` setting" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------------- data
def test_the_smoke_profile_without_data_generates_a_synthetic_imagenette(monkeypatch, capsys) -> None:
    monkeypatch.delenv("PRUNELIB_DATA", raising=False)
    if paths.resolve("data").exists():
        pytest.skip("this checkout has a data/ folder")
    root = settings.find_data("smoke", None)
    assert root == settings.synthetic_folder() and (root / "SHA256SUMS").is_file()
    assert data.class_counts(root, "val") == [12] * 10
    said = capsys.readouterr().out.strip().splitlines()
    assert len(said) == 1 and "runs on the synthetic ImageNette" in said[0]
    with pytest.raises(data.DataError, match="--download"):  # any other profile: how to get the real data
        settings.find_data("cpu", None)


def _fake_download(calls: list):
    def fetch(url, root, md5=None):  # what the real archive extracts to: root/imagenette2/{train,val}
        calls.append((url, md5))
        make_imagenette(Path(root) / Path(url).stem, n_train=2, n_val=2, size=32)
    return fetch


@pytest.mark.parametrize("how", ["option", "environment"])
def test_download_fetches_imagenette_with_its_checksum(sweep_env, monkeypatch, capsys, how) -> None:
    import torchvision.datasets.imagenette as tv_imagenette
    calls: list = []
    monkeypatch.setattr(tv_imagenette, "download_and_extract_archive", _fake_download(calls))
    folder = sweep_env["root"] / "imagenette"
    if how == "environment":
        monkeypatch.setenv(settings.DOWNLOAD_VARIABLE, "1")
    argv = ["sweep", "--profile", "tiny", "--data", str(folder), "--summary-only"]
    _exit_code(argv + (["--download"] if how == "option" else []))
    assert calls == [tv_imagenette.Imagenette._ARCHIVES["full"]]  # the URL with its MD5, which torchvision checks
    assert (folder / "imagenette2" / "val").is_dir()
    assert "error" not in capsys.readouterr().err


def test_download_offline_is_one_line_before_any_work(sweep_env, monkeypatch, capsys) -> None:
    import torchvision.datasets.imagenette as tv_imagenette

    def offline(*args, **kwargs):
        raise URLError("no network")
    monkeypatch.setattr(tv_imagenette, "download_and_extract_archive", offline)
    _profile(sweep_env["root"], monkeypatch, TINY)
    code = _exit_code(["train", "--profile", "tiny", "--data", str(sweep_env["root"] / "fresh"), "--download"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "downloading ImageNette" in err[0] and "URLError" in err[0]
    assert not list((sweep_env["root"] / "checkpoints").rglob("*.pt"))
