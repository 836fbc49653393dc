"""The demo marketplace's flaky provider: a TCP proxy in front of a MOR-RPC port that fails on a fixed schedule.

The schedule is deterministic so failover can be shown and tested, not hoped for. Counting per method, from the
proxy's start:

- ``session.prompt``: every ``fail_every``-th prompt (the 2nd, 4th, … with the default 2) is cut mid-answer: the
  proxy relays the provider's first answer message, then closes both connections. The consumer sees the answer
  stop ("connection closed mid-answer") and, with failover on, continues it on the next provider.
- ``session.report``: every ``fail_every``-th report request is refused (closed unanswered), so the consumer closes
  that session with a receipt it signs itself. The contract counts that as a disputed, unsuccessful session, which
  lowers the provider's on-chain success rate.
- Everything else (``network.ping``, ``session.request``) always passes: the provider looks alive and keeps winning
  session opens, which is what makes a flaky provider costly in practice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from app.errors import DevnetError
from app.router.morrpc.exceptions import MorRpcProtocolError
from app.router.morrpc.framing import MessageDecoder

__all__ = ["FlakyProxy", "ProxyAction"]

log = logging.getLogger(__name__)

ProxyAction = Literal["pass", "cut", "refuse"]
_FAILING: dict[str, ProxyAction] = {"session.prompt": "cut", "session.report": "refuse"}
_READ_SIZE = 64 * 1024
_FIRST_MESSAGE_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class ProxyEvent:
    """One relayed connection: its method, its number among that method's requests, and what the proxy did."""

    method: str
    number: int
    action: ProxyAction


class FlakyProxy:
    """Listens on ``host:port`` and relays each MOR-RPC connection to ``upstream_port``, failing on schedule."""

    def __init__(self, upstream_port: int, *, host: str = "127.0.0.1", port: int = 0, fail_every: int = 2) -> None:
        if fail_every < 1:
            raise DevnetError(f"fail_every must be 1 or more (got {fail_every}).")
        self.upstream = ("127.0.0.1", upstream_port)
        self.fail_every = fail_every
        self.events: list[ProxyEvent] = []
        self._host = host
        self._port = port
        self._counts: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (the real one after binding port 0)."""
        if self._server is None or not self._server.sockets:
            raise DevnetError("the flaky proxy is not started")
        return int(self._server.sockets[0].getsockname()[1])

    def upcoming(self, method: str) -> ProxyAction:
        """What the next request of ``method`` will meet (without counting it)."""
        failing = _FAILING.get(method)
        if failing is not None and (self._counts[method] + 1) % self.fail_every == 0:
            return failing
        return "pass"

    def action_for(self, method: str) -> tuple[int, ProxyAction]:
        """Count one request of ``method`` and say what to do with it (see the module docstring)."""
        action = self.upcoming(method)
        self._counts[method] += 1
        return self._counts[method], action

    async def start(self) -> None:
        """Bind and listen; DevnetError naming the port when it is taken."""
        try:
            self._server = await asyncio.start_server(self._on_connection, self._host, self._port,
                                                      reuse_address=True)
        except OSError as e:
            raise DevnetError(f"Cannot listen on {self._host}:{self._port} ({e.strerror or e}).") from e

    async def stop(self) -> None:
        """Stop listening and cut every relayed connection. Safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=5)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._relay(reader, writer)
        except (OSError, MorRpcProtocolError, TimeoutError) as e:
            log.debug("flaky proxy: connection ended: %s", e)
        finally:
            self._handlers.discard(task)
            await _close(writer)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first, method = await _first_message(reader)
        if not first:
            return
        number, action = self.action_for(method)
        self.events.append(ProxyEvent(method, number, action))
        if action == "refuse":
            log.info("flaky demo provider: refused %s #%d (by design)", method, number)
            return
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            up_writer.write(first)
            await up_writer.drain()
            to_upstream = asyncio.create_task(_pump(reader, up_writer))
            try:
                await _pump_answers(up_reader, writer, cut_after=1 if action == "cut" else None)
            finally:
                to_upstream.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await to_upstream
            if action == "cut":
                log.info("flaky demo provider: cut %s #%d after its first answer message (by design)", method, number)
        finally:
            await _close(up_writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, asyncio.CancelledError):
        await writer.wait_closed()


async def _first_message(reader: asyncio.StreamReader) -> tuple[bytes, str]:
    """Read until the first complete MOR-RPC message; return every byte read and that message's method."""
    decoder = MessageDecoder()
    buffered = b""
    async with asyncio.timeout(_FIRST_MESSAGE_TIMEOUT_S):
        while True:
            chunk = await reader.read(_READ_SIZE)
            if not chunk:
                return b"", ""
            buffered += chunk
            messages = decoder.feed(chunk)
            if messages:
                method = messages[0].get("method")
                return buffered, method if isinstance(method, str) else ""


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await reader.read(_READ_SIZE):
        writer.write(chunk)
        await writer.drain()


async def _pump_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, cut_after: int | None) -> None:
    """Relay the provider's answer; with ``cut_after``, stop right after that many complete messages."""
    decoder = MessageDecoder() if cut_after is not None else None
    relayed = 0
    while chunk := await reader.read(_READ_SIZE):
        if decoder is None or cut_after is None:
            writer.write(chunk)
            await writer.drain()
            continue
        # Forward only up to the end of the cut_after-th message: the consumer must see a clean cut, not garbage.
        for i in range(len(chunk)):
            relayed += len(decoder.feed(chunk[i : i + 1]))
            if relayed >= cut_after:
                writer.write(chunk[: i + 1])
                await writer.drain()
                return
        writer.write(chunk)
        await writer.drain()
