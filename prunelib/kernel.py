"""The kernel the notebooks run in under ``reproduce``: on this machine's Unix sockets, not TCP.

jupyter_client starts a kernel on TCP ports of localhost by default, where anyone on the machine (a shared cluster
node) can connect to them, and ipykernel warns of it in the terminal at every chapter. Over IPC the sockets are
files, and here they and the kernel's connection file lie in a folder of the temporary folder that only its owner
may enter (mode 0700, set explicitly: whatever the umask, no other user can reach a socket in it). The folder is
removed when the kernel shuts down, and one left by a process that no longer runs (killed) is removed when the next
kernel starts. A socket's path has a length limit (about 100 bytes); where the temporary folder's path is too long
for it, the kernel falls back to TCP (and its warning).
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

from .checkpoint import process_alive

#: the longest socket path used: the kernel appends "-<port>" (up to 6 bytes) and a Unix socket path has 107
MAX_SOCKET_PATH = 96
#: the start of the name of a kernel's folder in the temporary folder: ``prunelib-kernel-<pid>-<8 hex>``
PREFIX = "prunelib-kernel-"
#: the sockets' prefix inside a kernel's folder (the kernel appends ``-<port>``)
SOCKETS = "k"


def kernel_folder() -> Path:
    """Where a new kernel's folder would go: ``<tmp>/prunelib-kernel-<this process>-<8 hex>`` (not made)."""
    return Path(tempfile.gettempdir()) / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def socket_prefix() -> str:
    """A new prefix for a kernel's sockets: ``<kernel folder>/k``."""
    return str(kernel_folder() / SOCKETS)


def remove_orphans(tmp: Path | None = None) -> list[Path]:
    """Remove the kernel folders of this user in the temporary folder whose process no longer runs (a reproduce
    killed before it could shut its kernel down); return them."""
    removed = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX):].split("-")[0]
        try:
            mine = folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.getuid()
        except OSError:
            continue
        if mine and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def private_folder() -> Path:
    """A new kernel folder (:func:`kernel_folder`) made with mode 0700, after :func:`remove_orphans`."""
    remove_orphans()
    folder = kernel_folder()
    folder.mkdir(mode=0o700)
    os.chmod(folder, stat.S_IRWXU)  # explicitly: mkdir's mode passes through the umask
    return folder


class LocalKernelManager(AsyncKernelManager):
    """papermill's ``kernel_manager_class``: a kernel whose channels are Unix sockets and whose connection file lie
    in a private folder (:func:`private_folder`), removed at shutdown; or TCP on localhost where the sockets' path
    would be too long."""

    _folder: Path | None = None

    def _private(self) -> Path:
        if self._folder is None:
            self._folder = private_folder()
        return self._folder

    @default("transport")
    def _ipc_where_it_fits(self) -> str:
        return "ipc" if len(socket_prefix()) <= MAX_SOCKET_PATH else "tcp"

    @default("ip")
    def _socket_or_localhost(self) -> str:
        return str(self._private() / SOCKETS) if self.transport == "ipc" else "127.0.0.1"

    @default("connection_file")
    def _connection_file_in_the_folder(self) -> str:
        return str(self._private() / "kernel.json") if self.transport == "ipc" else ""

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    cleanup_resources = _async_cleanup_resources
