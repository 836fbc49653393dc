"""Helpers for the devnet's child processes (anvil, eth-tester, the local model server): ports, output, no orphans."""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Process = subprocess.Popen[Any]
STOP_TIMEOUT = 5.0
"""How long a child gets to exit after SIGTERM (anvil saves its state in it) before SIGKILL."""

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


def spawn_text_child(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a child whose stdout and stderr we read as text lines; raises OSError when it cannot be run.

    It gets a session of its own (Ctrl-C in a terminal reaches us only, and we stop it in order: anvil dumps its
    state) and dies with us (PDEATHSIG, which fires when the *thread* that forked exits: call this on the loop
    thread, not a worker).
    """
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent_hook(),
    )


class LiveChildren:
    """The children started and not stopped yet: any left are terminated when the interpreter exits."""

    def __init__(self) -> None:
        self._procs: dict[Process, float] = {}  # each child's grace after SIGTERM
        self._lock = threading.Lock()
        atexit.register(self.terminate_all)

    def add(self, proc: Process, grace_s: float = STOP_TIMEOUT) -> None:
        with self._lock:
            self._procs[proc] = grace_s

    def discard(self, proc: Process) -> None:
        with self._lock:
            self._procs.pop(proc, None)

    def __contains__(self, proc: object) -> bool:
        with self._lock:
            return proc in self._procs

    def __len__(self) -> int:
        with self._lock:
            return len(self._procs)

    def terminate_all(self) -> None:
        """SIGTERM every child, then SIGKILL those still running after their grace (at exit: no loop left)."""
        with self._lock:
            procs = dict(self._procs)
            self._procs.clear()
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc, grace_s in procs.items():
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()


live_children = LiveChildren()


async def terminate(proc: Process, name: str, grace_s: float = STOP_TIMEOUT) -> None:
    """SIGTERM, wait up to ``grace_s``, then SIGKILL if it hangs; always reaps and forgets it. Safe to repeat."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, grace_s)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %d) ignored SIGTERM for %.0f s; killing it", name, proc.pid, grace_s)
            proc.kill()
            await asyncio.to_thread(proc.wait)
    live_children.discard(proc)


class OutputReader(threading.Thread, Generic[T]):
    """Drains a child's text output (so its pipe never fills) and resolves ``ready`` from the first line that
    ``parse_ready`` accepts; earlier lines that ``keep`` accepts form a short tail for error messages, later
    ones go to ``after_ready``. ``ready`` fails with EOFError if the output ends first."""

    def __init__(
        self,
        proc: subprocess.Popen[str],
        loop: asyncio.AbstractEventLoop,
        name: str,
        parse_ready: Callable[[str], T | None],
        *,
        keep: Callable[[str], bool] = bool,
        after_ready: Callable[[str], None] = lambda _line: None,
    ) -> None:
        super().__init__(name=f"{name}-output-{proc.pid}", daemon=True)
        self._proc = proc
        self._loop = loop
        self._parse_ready = parse_ready
        self._keep = keep
        self._after_ready = after_ready
        self.ready: asyncio.Future[T] = loop.create_future()
        self.tail: collections.deque[str] = collections.deque(maxlen=12)

    def run(self) -> None:
        assert self._proc.stdout is not None
        started = False
        for raw in self._proc.stdout:
            line = raw.rstrip()
            if started:
                self._after_ready(line)
                continue
            value = self._parse_ready(line)
            if value is not None:
                started = True
                self._call(value)
            elif self._keep(line):
                self.tail.append(line)
        self._proc.stdout.close()
        self._call(None)

    def tail_text(self, limit: int = 600) -> str:
        """The kept lines joined for an error message ('' when there were none)."""
        return " | ".join(self.tail)[-limit:]

    def _resolve(self, value: T | None) -> None:
        if self.ready.done():
            return
        if value is None:
            self.ready.set_exception(EOFError())
        else:
            self.ready.set_result(value)

    def _call(self, value: T | None) -> None:
        with contextlib.suppress(RuntimeError):  # loop already closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._resolve, value)
