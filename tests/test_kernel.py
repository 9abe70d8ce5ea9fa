"""The notebooks' kernel under ``reproduce`` (prunelib/kernel.py): Unix sockets in the temporary folder, TCP only
where their path would be too long; a notebook runs in it, and ipykernel has nothing to warn of."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import nbformat
import papermill
import pytest

from prunelib import kernel
from prunelib.kernel import LocalKernelManager


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary folder whose path leaves room for a socket's: pytest's own, under pytest-xdist, is long enough to
    send the kernel to TCP (the fallback tested below)."""
    folder = Path(tempfile.mkdtemp(prefix="k", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_kernel_listens_on_sockets_in_the_temporary_folder(short_tmp, monkeypatch) -> None:
    monkeypatch.setenv("TMPDIR", str(short_tmp))
    monkeypatch.setattr(kernel.tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    km = LocalKernelManager()
    assert km.transport == "ipc" and km.ip.startswith(str(short_tmp / "prunelib-kernel-"))
    assert LocalKernelManager().ip != km.ip  # two kernels at once do not share sockets


def test_a_temporary_folder_too_long_for_a_socket_falls_back_to_tcp(tmp_path, monkeypatch) -> None:
    deep = tmp_path / ("x" * 40) / ("y" * 40)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr(kernel.tempfile, "tempdir", None)
    km = LocalKernelManager()
    assert (km.transport, km.ip) == ("tcp", "127.0.0.1")


def test_a_notebook_runs_in_it_over_ipc_and_nothing_is_warned(tmp_path, capfd) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from ipykernel.kernelapp import IPKernelApp\n"
                                          "print(6 * 7, IPKernelApp.instance().transport)")]
    nbformat.write(nb, tmp_path / "in.ipynb")
    papermill.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), progress_bar=False,
                               kernel_name="python3", kernel_manager_class=LocalKernelManager)
    assert nbformat.read(tmp_path / "out.ipynb", 4).cells[0].outputs[0]["text"] == "42 ipc\n"
    captured = capfd.readouterr()
    assert "without encryption" not in captured.out + captured.err  # ipykernel >= 7 warns of a TCP kernel


def test_the_sockets_folder_is_private_under_any_umask_and_removed_at_shutdown(short_tmp, monkeypatch) -> None:
    monkeypatch.setenv("TMPDIR", str(short_tmp))
    monkeypatch.setattr(kernel.tempfile, "tempdir", None)
    os.chmod(short_tmp, 0o1777)  # a temporary folder as /tmp is: anyone may enter it
    old = os.umask(0)
    try:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("import os, stat\nfrom ipykernel.kernelapp import IPKernelApp\n"
                                              "app = IPKernelApp.instance()\n"
                                              "folder = os.path.dirname(app.ip)\n"
                                              "print(oct(os.stat(folder).st_mode & 0o777), "
                                              "os.path.dirname(app.connection_file) == folder)")]
        nbformat.write(nb, short_tmp / "in.ipynb")
        papermill.execute_notebook(str(short_tmp / "in.ipynb"), str(short_tmp / "out.ipynb"), progress_bar=False,
                                   kernel_name="python3", kernel_manager_class=LocalKernelManager)
    finally:
        os.umask(old)
    assert nbformat.read(short_tmp / "out.ipynb", 4).cells[0].outputs[0]["text"] == "0o700 True\n"
    assert not list(short_tmp.glob("prunelib-kernel-*"))  # sockets and connection file gone with the kernel


def test_a_killed_run_s_kernel_folder_is_removed_by_the_next(short_tmp, monkeypatch) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = short_tmp / f"prunelib-kernel-{int(gone.stdout)}-0123abcd"  # a reproduce killed with SIGKILL
    left.mkdir()
    (left / "k-1").write_text("")
    (left / "kernel.json").write_text("{}")
    running = short_tmp / f"prunelib-kernel-{os.getpid()}-89abcdef"  # this process's kernel, still running
    running.mkdir()
    monkeypatch.setenv("TMPDIR", str(short_tmp))
    monkeypatch.setattr(kernel.tempfile, "tempdir", None)
    km = LocalKernelManager()
    assert km.ip.startswith(str(short_tmp / "prunelib-kernel-"))
    assert not left.exists() and running.exists()
