"""Helpers for the devnet's child processes (anvil, the local model server): free ports and no orphans."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (callers retry if another process takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """preexec_fn: the kernel SIGTERMs the child when our process dies, even by SIGKILL (Linux only).

    PDEATHSIG follows the *thread* that forked, so spawn these children from the event-loop thread.
    """
    import ctypes

    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died between fork and prctl
        os._exit(1)


def die_with_parent_hook() -> Callable[[], None] | None:
    """The ``preexec_fn`` for subprocess on Linux (None elsewhere, where atexit/stop() have to do)."""
    return _die_with_parent if sys.platform == "linux" else None
