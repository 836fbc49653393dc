"""A TCP relay in front of a chain RPC that can refuse connections, or accept them and then never answer."""

from __future__ import annotations

import asyncio
import contextlib
import enum

_READ = 64 * 1024


class Fault(enum.Enum):
    """How the RPC is unreachable."""

    REFUSED = "refused"  # nothing listens: connects fail at once
    SILENT = "silent"  # connects succeed, requests are read and swallowed, the socket stays open without a byte


class RpcRelay:
    """Relays 127.0.0.1:<port> to ``upstream`` (the port stays the same across faults); ``url`` is its HTTP URL."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.fault: Fault | None = None
        self.silenced = 0  # connections accepted while silent, or gone silent mid-use
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen and relay (again, on the same port, after a fault)."""
        self.fault = None
        if self._server is None:
            self._server = await asyncio.start_server(self._on_client, "127.0.0.1", self.port, reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]

    async def break_with(self, fault: Fault) -> None:
        """Make the RPC unreachable the way ``fault`` says; connections already open are cut (REFUSED) or go mute."""
        self.fault = fault
        if fault is Fault.REFUSED:
            await self._close_server()
            self._abort_all()

    async def restore(self) -> None:
        """Working again; muted connections are reset (as a middlebox that recovered would), new ones relay."""
        self._abort_all()
        await self.start()

    async def stop(self) -> None:
        await self._close_server()
        self._abort_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _close_server(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    def _abort_all(self) -> None:
        for writer in list(self._live):
            writer.transport.abort()
        self._live.clear()

    def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._relay(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._live.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            if self.fault is Fault.SILENT:
                self.silenced += 1
                await _swallow(reader)
                return
            up_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            self._live.add(upstream_writer)
            await asyncio.gather(self._forward(reader, upstream_writer), _pipe(up_reader, writer))
        except (ConnectionError, OSError):
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self._live.discard(w)
                    w.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Client → RPC, until the relay goes silent: from then on requests on this kept-alive connection vanish."""
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(_READ):
                if self.fault is Fault.SILENT:
                    self.silenced += 1
                    await _swallow(reader)
                    return
                writer.write(data)
                await writer.drain()


async def _swallow(reader: asyncio.StreamReader) -> None:
    """Read and drop everything, never answering, until the client gives up (or the relay resets the connection)."""
    with contextlib.suppress(ConnectionError, OSError):
        while await reader.read(_READ):
            pass


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(_READ):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
