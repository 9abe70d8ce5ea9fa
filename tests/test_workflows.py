"""The GitHub Pages workflow: valid against GitHub's workflow schema (vendored in tests/schemas/, no download) and
publishing what `make book` renders from the committed notebooks, without data."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SCHEMA = json.loads((Path(__file__).with_name("schemas") / "github-workflow.json").read_text())


def load_workflow(path: Path) -> dict:
    """The workflow as GitHub reads it. PyYAML follows YAML 1.1, where the key ``on`` is the boolean True."""
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def schema_errors(workflow: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(workflow)]


def steps_using(workflow: dict, action: str) -> list[tuple[str, dict]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job.get("steps", [])
            if step.get("uses", "").split("@")[0] == action]


def test_the_schema_is_a_draft7_schema_and_rejects_a_broken_workflow() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    book = load_workflow(ROOT / ".github/workflows/book.yml")
    assert not schema_errors(book)
    bad_permission, no_runner = copy.deepcopy(book), copy.deepcopy(book)
    bad_permission["permissions"]["pages"] = "maybe"  # not read, write or none
    del no_runner["jobs"]["deploy"]["runs-on"]
    assert [e.split(":")[0] for e in schema_errors(bad_permission)] == ["permissions"]
    assert [e.split(":")[0] for e in schema_errors(no_runner)] == ["jobs/deploy"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_github_schema(path: Path) -> None:
    assert not schema_errors(load_workflow(path))


def test_pages_workflow_publishes_the_rendered_book() -> None:
    wf = load_workflow(ROOT / ".github/workflows/book.yml")
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    (build, upload), = steps_using(wf, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "_build/html"
    assert any("make book" in step.get("run", "") for step in wf["jobs"][build]["steps"])
    (deploy, _), = steps_using(wf, "actions/deploy-pages")
    assert wf["jobs"][deploy]["needs"] == build and wf["jobs"][deploy]["environment"]["name"] == "github-pages"
    # `make book` renders the committed notebooks: nothing is executed, so no data is needed
    assert "jupyter-book build . -W" in (ROOT / "Makefile").read_text()
    assert yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["execute_notebooks"] == "off"


def test_pages_workflow_installs_the_pinned_torch_as_cpu_wheels_before_make_book() -> None:
    """The book never runs torch: the CPU wheels, at requirements.txt's versions (so `make book` keeps them)."""
    wf = load_workflow(ROOT / ".github/workflows/book.yml")
    runs = [step.get("run", "") for step in wf["jobs"]["build"]["steps"]]
    cpu = [i for i, run in enumerate(runs) if "download.pytorch.org/whl/cpu" in run]
    book = [i for i, run in enumerate(runs) if "make book" in run]
    assert cpu and book and cpu[0] < book[0], runs
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    for package in ("torch", "torchvision"):
        pin, = [p for p in pins if p.startswith(f"{package}==")]
        assert pin in runs[cpu[0]].split(), f"{pin} (requirements.txt) is not what the workflow installs"
    assert ".venv/bin/python -m pip install" in runs[cpu[0]]  # the environment `make book` then uses
