"""The book's table of profile settings (book/_ext/profile_settings.py) on known inputs and on the shipped file."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from profile_settings import ABSENT, PROFILES, settings_matrix  # noqa: E402


def test_one_column_per_profile_one_row_per_key_in_file_order() -> None:
    header, rows = settings_matrix({"a": {"size": 64, "levels": "10,50"}, "b": {"size": 224, "seeds": [0, 1]}})
    assert header == ["setting", "a", "b"]
    assert rows == [["size", "64", "224"], ["levels", "10, 50", ABSENT], ["seeds", ABSENT, "[0, 1]"]]


def test_rejects_what_is_not_a_profiles_file() -> None:
    for bad in ({}, {"a": 3}):
        with pytest.raises(ValueError, match="mapping of profile names"):
            settings_matrix(bad)


def test_shipped_profiles_give_every_value() -> None:
    profiles = yaml.safe_load((ROOT / PROFILES).read_text())
    header, rows = settings_matrix(profiles)
    table = {row[0]: dict(zip(header[1:], row[1:])) for row in rows}
    assert header[1:] == list(profiles)
    assert table["image_size"]["paper"] == "224" and table["image_size"]["smoke"] == "64"
    assert table["levels"]["smoke"] == ", ".join(profiles["smoke"]["levels"].split(","))
    assert sum(cell != ABSENT for row in rows for cell in row[1:]) == sum(len(p) for p in profiles.values())
