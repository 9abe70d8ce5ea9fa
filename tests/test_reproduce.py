"""The reproduction runner on two tiny notebooks: parameters injected, skipping, failure keeps good outputs."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import prunelib.profiles

from prunelib import data, paths
from prunelib import reproduce as runner
from prunelib.progress import BATCH
from prunelib.synthetic import make_imagenette

WRITE = """from pathlib import Path
from prunelib.paths import resolve  # out_dir is injected relative to the project root
Path(resolve(out_dir), "value.json").write_text(str(value))
assert not fail, "asked to fail"
if warn:
    import warnings
    warnings.warn("a warning nobody fixed")
"""


def _notebook(path: Path, body: str) -> None:
    params = new_code_cell("value = 0\nfail = False\nwarn = False\nout_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synthetic_root: Path) -> dict:
    (tmp_path / "nb").mkdir()
    _notebook(tmp_path / "nb" / "a.ipynb", WRITE)
    _notebook(tmp_path / "nb" / "b.ipynb", WRITE.replace("value.json", "b.json"))
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text("tiny:\n  value: 1\n  fail: false\n  unused: 3\n")
    monkeypatch.setenv("PRUNELIB_PROFILES", str(profiles))
    for key in ("value", "fail", "unused", "warn"):  # the test notebooks' own settings
        monkeypatch.setitem(prunelib.profiles.SETTINGS, key, (lambda v: True, "anything"))
    monkeypatch.setattr(runner, "BOOK_PROFILES", ("tiny",))  # the profile whose executed notebooks the book shows
    monkeypatch.setenv("PRUNELIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("PRUNELIB_DATA", str(synthetic_root))
    kwargs = {"stages": (("a", "a.ipynb"), ("b", "b.ipynb")), "notebooks": tmp_path / "nb",
              "book_notebooks": tmp_path / "book", "device": "cpu"}
    return {"root": tmp_path, "kwargs": kwargs, "profiles": profiles, "data": synthetic_root}


def test_runs_skips_and_reruns(project: dict, capsys: pytest.CaptureFixture) -> None:
    root, kwargs = project["root"], project["kwargs"]
    assert runner.reproduce("tiny", **kwargs) == 0
    assert (root / "results" / "tiny" / "a" / "value.json").read_text() == "1"  # injected, into the stage folder
    executed = nbformat.read(root / "book" / "a.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert "unused" not in executed.cells[1].source  # only declared parameters are injected
    manifest = json.loads((root / "results" / "tiny" / "manifest.json").read_text())
    assert manifest["profile"] == "tiny" and manifest["device"] == "cpu" and manifest["versions"]["torch"]
    assert paths.resolve(manifest["data"]).resolve() == data.locate(project["data"]).resolve()  # the folder used
    assert not Path(manifest["data"]).is_absolute()  # relative to the project: no machine's folders published
    assert set(manifest["stages"]) == {"a", "b"} and manifest["git_commit"]

    capsys.readouterr()
    assert runner.reproduce("tiny", **kwargs) == 0
    assert capsys.readouterr().out.count("up to date, skipped") == 2

    # a chapter drawn from a sweep: a new summary.csv (a job finished) re-runs the stages, as a changed setting does
    (root / "results" / "tiny" / "summary.csv").write_text("regime,seed\nglobal,0\n")
    project["profiles"].write_text("tiny:\n  value: 2\n  fail: false\n")
    assert runner.reproduce("tiny", **kwargs) == 0
    assert (root / "results" / "tiny" / "b" / "b.json").read_text() == "2"
    capsys.readouterr()
    (root / "results" / "tiny" / "summary.csv").write_text("regime,seed\nglobal,0\nglobal,1\n")
    assert runner.reproduce("tiny", **kwargs) == 0
    assert capsys.readouterr().out.count("up to date, skipped") == 0


def test_failed_stage_keeps_previous_outputs(project: dict, capsys: pytest.CaptureFixture) -> None:
    root, kwargs = project["root"], project["kwargs"]
    assert runner.reproduce("tiny", **kwargs) == 0
    good_notebook = (root / "book" / "a.ipynb").read_text()
    project["profiles"].write_text("tiny:\n  value: 5\n  fail: true\n")
    assert runner.reproduce("tiny", **kwargs) == 1
    out = capsys.readouterr().out
    assert "[a] FAILED in cell" in out and "asked to fail" in out
    assert (root / "results" / "tiny" / "a" / "value.json").read_text() == "1"  # the last good result
    assert (root / "book" / "a.ipynb").read_text() == good_notebook


def test_a_stage_that_writes_to_stderr_fails_and_keeps_previous_outputs(project: dict, capsys) -> None:
    root, kwargs = project["root"], project["kwargs"]
    assert runner.reproduce("tiny", **kwargs) == 0
    good_notebook = (root / "book" / "a.ipynb").read_text()
    project["profiles"].write_text("tiny:\n  value: 6\n  fail: false\n  warn: true\n")
    capsys.readouterr()
    assert runner.reproduce("tiny", **kwargs) == 1
    out = capsys.readouterr().out
    # cell 2: the parameters cell, papermill's injected cell, then the cell that warned
    assert "[a] FAILED: a.ipynb wrote to stderr in 1 output(s), first in cell 2 ('from pathlib import Path')" in out
    assert "UserWarning: a warning nobody fixed" in out and "[b]" not in out
    assert (root / "results" / "tiny" / "a" / "value.json").read_text() == "1"
    assert (root / "book" / "a.ipynb").read_text() == good_notebook
    assert runner.stderr_outputs(root / "book" / "a.ipynb") == []


def test_a_failed_run_leaves_the_manifest_naming_the_inputs_of_its_results(project: dict, tmp_path: Path) -> None:
    root, kwargs = project["root"], project["kwargs"]
    assert runner.reproduce("tiny", **kwargs) == 0
    before = (root / "results" / "tiny" / "manifest.json").read_text()
    other = make_imagenette(tmp_path / "other-data", n_train=1, n_val=1, size=16)
    project["profiles"].write_text("tiny:\n  value: 7\n  fail: true\n")
    assert runner.reproduce("tiny", **{**kwargs, "data": str(other)}) == 1
    assert (root / "results" / "tiny" / "manifest.json").read_text() == before  # neither new data nor parameters


def test_executed_notebooks_are_kept_per_profile(project: dict) -> None:
    root, kwargs = project["root"], project["kwargs"]
    assert runner.reproduce("tiny", **kwargs) == 0
    book_copy = (root / "book" / "a.ipynb").read_text()
    project["profiles"].write_text("tiny:\n  value: 1\n  fail: false\nsmoke:\n  value: 3\n  fail: false\n")
    assert runner.reproduce("smoke", **kwargs) == 0
    assert (root / "book" / "a.ipynb").read_text() == book_copy  # a smoke run never replaces the book's notebooks
    assert runner.stored_fingerprint(root / "results" / "smoke" / "notebooks" / "a.ipynb")
    # the executed notebook folds its parameter cells (the defaults and papermill's) and nothing else
    cells = json.loads(book_copy)["cells"]
    folded = [c["metadata"].get("tags", []) for c in cells if "hide-cell" in c["metadata"].get("tags", [])]
    assert folded and all({"parameters", "injected-parameters"} & set(tags) for tags in folded)
    assert any("injected-parameters" in tags for tags in folded)


def test_up_to_date_means_the_executed_notebook_has_this_fingerprint(project: dict, capsys) -> None:
    root, kwargs = project["root"], project["kwargs"]
    assert runner.reproduce("tiny", **kwargs) == 0
    executed = root / "book" / "a.ipynb"
    nb = json.loads(executed.read_text())
    nb["metadata"]["prunelib"]["fingerprint"] = "from another run"
    executed.write_text(json.dumps(nb))
    capsys.readouterr()
    assert runner.reproduce("tiny", **kwargs) == 0
    out = capsys.readouterr().out
    assert "[a] done" in out and runner.stored_fingerprint(executed) != "from another run"


def test_unknown_profile_and_stage(project: dict) -> None:
    with pytest.raises(ValueError, match="unknown profile 'gpu'.*defines tiny"):
        runner.reproduce("gpu", **project["kwargs"])
    with pytest.raises(ValueError, match="unknown stages"):
        runner.reproduce("tiny", only=["nope"], **project["kwargs"])


def test_shipped_profiles_are_complete() -> None:
    for name in ("smoke", "cpu", "paper"):
        profile = runner.load_profile(name)
        assert {"image_size", "epochs", "levels", "seed", "n_attribution_images"} <= set(profile)


def test_papermill_sees_every_parameter_of_the_book_notebooks() -> None:
    """papermill drops a parameter whose comment it cannot parse (e.g. one containing '='): then the runner's
    value would silently not be injected."""
    import ast

    import papermill

    for source in sorted(runner.NOTEBOOKS.glob("*.ipynb")):
        cell = next(c for c in nbformat.read(source, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
        names = {t.id for node in ast.parse(cell.source).body for t in node.targets}
        assert set(papermill.inspect_notebook(str(source))) == names, source.name


def test_a_stage_depends_on_the_modules_it_imports_and_its_inputs_content(tmp_path: Path) -> None:
    from prunelib import fingerprints
    from prunelib.currency import digest
    from prunelib.fingerprints import PACKAGE, imported_modules, notebook_code, stage_inputs

    def stage_fingerprint(params: dict, notebook: Path, upstream: list[Path]) -> str:
        return digest(stage_inputs(params, notebook, upstream))

    def modules(name: str) -> set[str]:
        return {str(m.relative_to(PACKAGE)) for m in imported_modules(notebook_code(runner.NOTEBOOKS / name))}

    # a chapter drawn from a sweep job depends on the code that reads the job's result and decides whether it is
    # current (followed imports) and on its own figures, not on another chapter's
    training, concepts = modules("01_training.ipynb"), modules("04_concepts.ipynb")
    assert {"chapters/study.py", "sweep/records.py", "currency.py"} <= training & concepts
    assert "figures/accuracy.py" in training and "figures/accuracy.py" not in concepts
    assert "figures/noise.py" not in training | concepts

    notebook = runner.NOTEBOOKS / "04_concepts.ipynb"
    upstream = tmp_path / "training"
    upstream.mkdir()
    (upstream / "accuracy.json").write_text("{}")
    (upstream / "provenance.json").write_text('{"git_commit": "a"}')
    key = stage_fingerprint({"seed": 0}, notebook, [upstream])
    (upstream / "provenance.json").write_text('{"git_commit": "b"}')  # when and where it ran: not an input
    assert stage_fingerprint({"seed": 0}, notebook, [upstream]) == key
    (upstream / "accuracy.json").write_text('{"levels": []}')  # what it computed: an input
    assert stage_fingerprint({"seed": 0}, notebook, [upstream]) != key
    assert stage_fingerprint({"seed": 1}, notebook, [upstream]) != stage_fingerprint({"seed": 0}, notebook, [upstream])
    assert fingerprints.VOLATILE == ("provenance.json",)


BARS = """from prunelib.progress import progress_bar
for _ in progress_bar(range(3), desc="kernel bar", disable=False):
    pass
"""


def test_a_stage_s_progress_bars_go_to_the_runner_s_terminal_not_into_the_notebook(project: dict, capfd,
                                                                                   monkeypatch) -> None:
    root, kwargs = project["root"], project["kwargs"]
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # under pytest, ipykernel does not capture its stderr at all
    _notebook(root / "nb" / "a.ipynb", WRITE + BARS)
    capfd.readouterr()
    assert runner.reproduce("tiny", **kwargs) == 0
    assert "kernel bar: 100%" in capfd.readouterr().err  # the kernel process's own stderr: the runner's terminal
    outputs = [o for c in nbformat.read(root / "book" / "a.ipynb", as_version=4).cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if "kernel bar" in json.dumps(o)]  # neither a widget nor a text bar was saved
    assert BATCH not in os.environ  # the runner's own process is left as it was


def test_other_images_at_the_same_path_re_run_the_stages_that_read_the_data(project: dict, tmp_path: Path,
                                                                               monkeypatch, capsys) -> None:
    """A stage's fingerprint covers the data's contents, not only the folder's path."""
    nb = project["kwargs"]["notebooks"] / "a.ipynb"
    book = nbformat.read(nb, as_version=4)
    book.cells[0].source += "\ndata = None"  # stage a reads the data (it declares the parameter)
    nbformat.write(book, nb)
    copy = make_imagenette(tmp_path / "copy", n_train=2, n_val=1, size=16, checksums=False)
    monkeypatch.setenv("PRUNELIB_DATA", str(copy))
    assert runner.reproduce("tiny", **project["kwargs"]) == 0
    capsys.readouterr()
    assert runner.reproduce("tiny", **project["kwargs"]) == 0
    assert capsys.readouterr().out.count("up to date, skipped") == 2
    first, second = sorted((copy / "val").rglob("*.JPEG"))[:2]
    first.write_bytes(second.read_bytes())  # another image under the same name
    assert runner.reproduce("tiny", **project["kwargs"]) == 0
    out = capsys.readouterr().out
    assert "[a] done" in out and "[b] up to date, skipped" in out



def test_a_deleted_stage_output_makes_the_stage_run_again(project: dict, capsys) -> None:
    root, kwargs = project["root"], project["kwargs"]
    assert runner.reproduce("tiny", **kwargs) == 0
    (root / "results" / "tiny" / "a" / "value.json").unlink()
    capsys.readouterr()
    assert runner.reproduce("tiny", **kwargs) == 0
    out = capsys.readouterr().out
    assert "[a] runs again:" in out and "tiny/a changed since the stage wrote it" in out
    assert (root / "results" / "tiny" / "a" / "value.json").read_text() == "1"
    assert "[b] up to date, skipped" in out  # its input is back as it was
    shutil.rmtree(root / "results" / "tiny" / "b")
    assert runner.reproduce("tiny", **kwargs) == 0
    assert "tiny/b is missing" in capsys.readouterr().out and (root / "results" / "tiny" / "b" / "b.json").is_file()


def test_a_reproduce_that_runs_nothing_leaves_the_manifest_alone(project: dict) -> None:
    root, kwargs = project["root"], project["kwargs"]
    assert runner.reproduce("tiny", **kwargs) == 0
    manifest = root / "results" / "tiny" / "manifest.json"
    before = manifest.read_bytes(), manifest.stat().st_mtime_ns
    assert runner.reproduce("tiny", **kwargs) == 0
    assert (manifest.read_bytes(), manifest.stat().st_mtime_ns) == before


@pytest.mark.parametrize("content", ["[]", '{"stages": [1]}', '{"sta'])
def test_a_broken_manifest_is_named_and_begun_anew(project: dict, capsys, content: str) -> None:
    root, kwargs = project["root"], project["kwargs"]
    (root / "results" / "tiny").mkdir(parents=True)
    (root / "results" / "tiny" / "manifest.json").write_text(content)
    assert runner.reproduce("tiny", **kwargs) == 0
    out = capsys.readouterr().out
    assert "manifest.json is not" in out and "every stage runs again" in out
    assert set(json.loads((root / "results" / "tiny" / "manifest.json").read_text())["stages"]) == {"a", "b"}


def test_a_second_reproduce_of_a_profile_is_one_line(project: dict, capsys) -> None:
    from prunelib import runs
    from prunelib.__main__ import main as cli
    from prunelib.provenance import STAGING
    with runs.locked(paths.results_dir("tiny") / STAGING, wait=False):  # a reproduce of tiny at work
        assert cli(["reproduce", "--profile", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reproduce --profile tiny is running already" in err


SLEEPER = """import time
from pathlib import Path
from prunelib.paths import resolve
Path(resolve(out_dir), "started").write_text("")
time.sleep(120)
"""

RUN = """import sys
import prunelib.profiles
from prunelib import reproduce as runner
for key in ("value", "fail", "unused", "warn"):
    prunelib.profiles.SETTINGS[key] = (lambda v: True, "anything")
try:
    runner.reproduce("tiny", stages=(("a", "a.ipynb"),), notebooks=runner.Path(sys.argv[1]),
                     book_notebooks=runner.Path(sys.argv[2]), device="cpu")
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_a_terminated_reproduce_shuts_its_kernel_down_and_leaves_no_sockets(project: dict, monkeypatch) -> None:
    import signal
    import subprocess
    import sys
    import time
    root = project["root"]
    _notebook(root / "nb" / "a.ipynb", SLEEPER)
    temporary = Path(tempfile.mkdtemp(prefix="pk"))  # short enough for a socket's path
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent.parent)] + sys.path))
    started = root / "results" / "tiny" / ".staging" / "a" / "started"
    process = subprocess.Popen([sys.executable, "-c", RUN, str(root / "nb"), str(root / "book")])
    try:
        for _ in range(600):  # the cell is running (a minute at most)
            if started.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert started.exists() and list(temporary.glob("prunelib-kernel-*"))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 130
        assert not list(temporary.glob("prunelib-kernel-*"))  # sockets and connection file went with the kernel
        assert not (root / "results" / "tiny" / "a").exists()
    finally:
        process.kill()
        shutil.rmtree(temporary)
