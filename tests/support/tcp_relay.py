"""Relays on 127.0.0.1 for fault tests: a TCP base (listen, track, cut, pipe, first MOR-RPC request) and an HTTP one."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from aiohttp import web

from app.router.morrpc.framing import MessageDecoder

READ_SIZE = 64 * 1024
# How a relayed connection ends when a side goes away: not a failure of the relay, the test judges the outcome.
DROPPED = (ConnectionError, OSError, asyncio.IncompleteReadError)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, abort_at_end: bool = False) -> None:
    """Copy ``reader`` to ``writer`` until EOF; then half-close ``writer``, or abort it so both directions end."""
    with contextlib.suppress(OSError):
        while data := await reader.read(READ_SIZE):
            writer.write(data)
            await writer.drain()
        if not abort_at_end and writer.can_write_eof():
            writer.write_eof()
    if abort_at_end:
        writer.transport.abort()


async def read_first_json(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, Any] | None]:
    """The client's bytes read up to its first complete MOR-RPC object, and that object.

    ``None`` at EOF before one, or when the bytes are no MOR-RPC: the upstream answers malformed input itself.
    """
    decoder, head = MessageDecoder(), b""
    while True:
        data = await reader.read(READ_SIZE)
        if not data:
            return head, None
        head += data
        try:
            objects = decoder.feed(data)
        except Exception:  # not ours to judge: the provider answers malformed input itself
            return head, None
        if objects:
            return head, objects[0]


class Link:
    """One client connection and the upstream connection opened for it; both are tracked by the relay until closed."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: tuple[str, int],
        live: set[asyncio.StreamWriter],
    ) -> None:
        self.reader, self.writer = reader, writer
        self._upstream = upstream
        self._live = live
        self._opened = [writer]
        live.add(writer)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Open the relay's upstream for this client."""
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._opened.append(up_writer)
        self._live.add(up_writer)
        return up_reader, up_writer

    def close(self) -> None:
        for writer in self._opened:
            self._live.discard(writer)
            writer.close()


class Relay:
    """Listens on 127.0.0.1:``port`` (0: a free port, then kept across restarts) and relays clients to ``upstream``.

    Subclasses inject their fault by overriding :meth:`serve` (one client's connection, from accept to close).
    """

    def __init__(self, upstream: tuple[str, int], port: int = 0) -> None:
        self.upstream = upstream
        self.port = port
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def listen(self) -> None:
        """Listen (again, on the same port, after :meth:`shut`)."""
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def shut(self) -> None:
        """Like a crashed node: stop listening (connects are refused) and abort every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.abort_all()
        if server is not None:
            await server.wait_closed()

    def abort_all(self) -> None:
        """Reset every open connection, client and upstream side (listening goes on)."""
        for writer in list(self._live):
            writer.transport.abort()
        self._live.clear()

    async def stop(self) -> None:
        await self.shut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._accept(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(reader, writer, self.upstream, self._live)
        try:
            await self.serve(link)
        except DROPPED:
            pass
        finally:
            link.close()

    async def serve(self, link: Link) -> None:
        """Relay both ways until both sides are done."""
        up_reader, up_writer = await link.connect()
        await asyncio.gather(pipe(link.reader, up_writer), pipe(up_reader, link.writer))


class HttpRelay:
    """Serves POSTs on 127.0.0.1 (a free port) at ``url``; :meth:`handle` answers, :meth:`forward` asks upstream."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """Pass the request on (subclasses inject their fault here)."""
        return json_response(await self.forward(await request.read()))

    async def forward(self, body: bytes) -> bytes:
        """The upstream's answer to the JSON-RPC ``body``."""
        assert self._http is not None, "start() the relay first"
        async with self._http.post(self.upstream, data=body, headers={"content-type": "application/json"}) as r:
            return await r.read()

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()


def json_response(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")
