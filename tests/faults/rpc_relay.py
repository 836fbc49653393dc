"""A TCP relay in front of a chain RPC that can refuse connections, or accept them and then never answer."""

from __future__ import annotations

import asyncio
import contextlib
import enum

from tests.support.tcp_relay import READ_SIZE, Link, Relay, pipe


class Fault(enum.Enum):
    """How the RPC is unreachable."""

    REFUSED = "refused"  # nothing listens: connects fail at once
    SILENT = "silent"  # connects succeed, requests are read and swallowed, the socket stays open without a byte


class RpcRelay(Relay):
    """Relays 127.0.0.1:<port> to ``upstream`` (the port stays the same across faults); ``url`` is its HTTP URL."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(upstream)
        self.fault: Fault | None = None
        self.silenced = 0  # connections accepted while silent, or gone silent mid-use

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen and relay (again, on the same port, after a fault)."""
        self.fault = None
        if not self.listening:
            await self.listen()

    async def break_with(self, fault: Fault) -> None:
        """Make the RPC unreachable the way ``fault`` says; connections already open are cut (REFUSED) or go mute."""
        self.fault = fault
        if fault is Fault.REFUSED:
            await self.shut()

    async def restore(self) -> None:
        """Working again; muted connections are reset (as a middlebox that recovered would), new ones relay."""
        self.abort_all()
        await self.start()

    async def serve(self, link: Link) -> None:
        if self.fault is Fault.SILENT:
            self.silenced += 1
            await _swallow(link.reader)
            return
        up_reader, up_writer = await link.connect()
        await asyncio.gather(self._forward(link.reader, up_writer), pipe(up_reader, link.writer))

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Client → RPC, until the relay goes silent: from then on requests on this kept-alive connection vanish."""
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(READ_SIZE):
                if self.fault is Fault.SILENT:
                    self.silenced += 1
                    await _swallow(reader)
                    return
                writer.write(data)
                await writer.drain()


async def _swallow(reader: asyncio.StreamReader) -> None:
    """Read and drop everything, never answering, until the client gives up (or the relay resets the connection)."""
    with contextlib.suppress(ConnectionError, OSError):
        while await reader.read(READ_SIZE):
            pass
