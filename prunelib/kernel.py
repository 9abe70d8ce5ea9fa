"""The kernel the notebooks run in under ``reproduce``: on this machine's Unix sockets, not TCP.

jupyter_client starts a kernel on TCP ports of localhost by default, where anyone on the machine (a shared cluster
node) can connect to them, and ipykernel warns of it in the terminal at every chapter. Over IPC the sockets are
files in the temporary folder that only their owner can connect to (connecting needs write permission). A socket's
path has a length limit (about 100 bytes); where the temporary folder's path is too long for it, the kernel falls
back to TCP (and its warning).
"""
from __future__ import annotations

import os
import tempfile
import uuid

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

#: the longest socket path used: the kernel appends "-<port>" (up to 6 bytes) and a Unix socket path has 107
MAX_SOCKET_PATH = 96


def socket_prefix() -> str:
    """A new prefix for a kernel's sockets in the temporary folder: ``<tmp>/prunelib-kernel-<8 hex>``."""
    return os.path.join(tempfile.gettempdir(), f"prunelib-kernel-{uuid.uuid4().hex[:8]}")


class LocalKernelManager(AsyncKernelManager):
    """papermill's ``kernel_manager_class``: a kernel whose channels are Unix sockets (:func:`socket_prefix`
    followed by ``-<n>``), or TCP on localhost where that path would be too long."""

    @default("transport")
    def _ipc_where_it_fits(self) -> str:
        return "ipc" if len(socket_prefix()) <= MAX_SOCKET_PATH else "tcp"

    @default("ip")
    def _socket_or_localhost(self) -> str:
        return socket_prefix() if self.transport == "ipc" else "127.0.0.1"
