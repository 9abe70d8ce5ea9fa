"""A profile's settings parsed once into a frozen dataclass (prunelib.profiles.Settings): every shipped profile parses,
each default is the one the readers applied, values are parsed as the check parses them, a mistake names the profile
and the key, and what the readers write (records, recipes) is the same from Settings as from the mapping."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from prunelib import profiles, regimes
from prunelib.image_set import set_size
from prunelib.typed_settings import DEFAULT_STAGES
from prunelib.profiles import (PROFILES_FILE, ProfileError, Settings, as_settings, load_settings,
                               read_profiles)
from prunelib.sweep import concepts, pictures
from prunelib.training import TrainConfig


def _profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    (tmp_path / "profiles.yaml").write_text(text)
    monkeypatch.setenv("PRUNELIB_PROFILES", str(tmp_path / "profiles.yaml"))


@pytest.mark.parametrize("name", list(yaml.safe_load(PROFILES_FILE.read_text())))
def test_every_shipped_profile_parses_and_keeps_its_mapping_as_written(name) -> None:
    written = yaml.safe_load(PROFILES_FILE.read_text())[name]
    s = load_settings(name)
    assert isinstance(s, Settings) and s.name == name
    assert dict(s.raw) == written and read_profiles()[name] == written
    for key, value in written.items():  # a number, word or boolean is kept as read
        if isinstance(value, (bool, int, float)):
            assert getattr(s, key) == value and type(getattr(s, key)) is type(value)


def test_list_settings_are_parsed_into_tuples() -> None:
    noise = load_settings("noise")
    assert noise.study == tuple(profiles.parse_study(noise.raw["study"])) and (4, "global") in noise.study
    assert noise.levels == pytest.approx((0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98))
    assert noise.methods == ("VG", "IG") and noise.craft_classes == ("church", "parachute", "English springer")
    assert noise.concept_seeds == (0, 1, 2) and noise.picture_seeds == (0,) and noise.picture_regimes == ("global",)
    assert noise.stages[-1] == "noise" and noise.authors_profile == "authors"
    assert load_settings("authors").concept_seeds == ()  # written "": none
    spaced = as_settings({"methods": "VG, IG", "saliency_classes": "church, tench", "picture_seeds": "0, 2"})
    assert spaced.methods == ("VG", "IG") and spaced.saliency_classes == ("church", "tench")
    assert spaced.picture_seeds == (0, 2)
    assert as_settings({"picture_regimes": "global, lottery"}).picture_regimes == ("global", "lottery")
    with pytest.raises(ProfileError, match="'lotery' is not a regime"):
        as_settings({"picture_regimes": "global,lotery"})


def test_a_setting_left_out_has_the_default_the_readers_applied() -> None:
    s = as_settings({})
    assert s.methods == ("VG", "IG") and s.road_precision == "fp32" and s.n_concepts == 10
    assert s.val_per_class == 0 and s.subset_per_class == 0 and s.seed == 0 and s.image_set_seed == 0
    assert s.concept_seeds == (0,) and s.picture_seeds == () and s.study == () and s.picture_regimes is None
    assert s.removal_percentages == (0.0, 10.0, 20.0, 30.0, 50.0, 70.0, 90.0)
    assert s.stages == DEFAULT_STAGES == ("training", "saliency", "faithfulness", "concepts", "explorer", "comparison")
    assert s.craft_classes is None and s.levels is None and s.image_set_per_class is None
    assert TrainConfig.from_params(s) == TrainConfig()  # the recipe's settings: TrainConfig's (the paper's)
    assert set_size({"n_attribution_images": 250}) == (25, 0)  # 250 images over 10 classes, rounded up


def test_a_setting_a_work_needs_and_the_profile_lacks_is_named() -> None:
    authors = load_settings("authors")
    with pytest.raises(ProfileError, match="profile 'authors' has no setting 'finetune_epochs'"):
        regimes.get("global").recipe(TrainConfig(), authors)
    with pytest.raises(ValueError, match="needs the profile setting.s. levels"):
        regimes.get("global").levels(authors)


def test_settings_are_frozen_and_their_mapping_read_only() -> None:
    s = load_settings("smoke")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.lr = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.raw["lr"] = 1.0  # type: ignore[index]
    assert load_settings("smoke").raw["lr"] == 0.003


def test_an_unknown_key_is_refused_naming_the_profile_and_the_key(tmp_path, monkeypatch) -> None:
    _profiles(tmp_path, monkeypatch, "mine:\n  image_size: 64\n  leraning_rate: 0.1\n")
    with pytest.raises(ProfileError, match="profile 'mine' has an unknown setting 'leraning_rate'"):
        load_settings("mine")
    with pytest.raises(ProfileError, match="unknown setting 'leraning_rate'"):
        as_settings({"leraning_rate": 0.1})
    _profiles(tmp_path, monkeypatch, "mine:\n  image_size: 64\n")
    with pytest.raises(ProfileError, match="unknown profile 'other'; .* defines mine"):
        load_settings("other")


def test_settings_pass_through_and_a_mapping_gives_the_same_records() -> None:
    s = load_settings("noise")
    assert as_settings(s) is s and dataclasses.replace(as_settings(dict(s.raw)), name="noise") == s
    params = dict(s.raw)

    class Job:
        seed, regime = 0, "global"
    for module in (concepts, pictures):
        from_settings, from_mapping = module.settings(s), module.settings(params)
        assert json.dumps(from_settings) == json.dumps(from_mapping)
        assert module.wanted(Job, s) and module.wanted(Job, params)

    class Lottery:
        seed, regime = 0, "lottery"
    assert concepts.wanted(Lottery, s) and not pictures.wanted(Lottery, s)  # picture_regimes: global
    assert pictures.wanted(Lottery, {**params, "picture_regimes": "global,lottery"})
    assert concepts.settings(s) == {"classes": ["church", "parachute", "English springer"], "n_images": 100,
                                    "n_concepts": 10, "patch_size": concepts.settings(s)["patch_size"],
                                    "image_size": 128, "image_seed": 0}
    assert pictures.settings(s)["percentages"] == [0.0, 10.0, 20.0, 30.0, 50.0, 70.0, 90.0]
    dense = TrainConfig.from_params(s, seed=1)
    assert dense == TrainConfig.from_params(as_settings(params), seed=1)
    assert (dense.epochs, dense.lr, dense.label_smoothing, dense.flat_fraction, dense.seed) == (18, 0.008, 0.1, 0.72, 1)
    lottery = regimes.get("lottery")
    assert lottery.levels(s) == lottery.levels(as_settings(params)) == pytest.approx([0.2, 0.36, 0.488])


def test_every_setting_a_profile_may_hold_is_a_typed_field() -> None:
    """One field of Settings per setting of profiles.SETTINGS, no more, no fewer (a setting without a field would be
    kept only as written, parsed nowhere)."""
    import dataclasses

    from prunelib import profiles
    fields = {f.name for f in dataclasses.fields(profiles.Settings)} - {"name", "raw"}
    assert fields == set(profiles.SETTINGS)
