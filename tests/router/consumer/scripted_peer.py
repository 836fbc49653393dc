"""A MOR-RPC peer on 127.0.0.1:0 that answers with whatever a test scripts, built only from the codec."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from app.router.morrpc.envelope import parse_request
from app.router.morrpc.framing import MessageDecoder

Script = Callable[[dict[str, Any], asyncio.StreamWriter], Awaitable[None]]


class ScriptedPeer:
    """Reads one request per connection, hands it to ``script`` (which writes answers), then closes."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.saw_eof = asyncio.Event()
        self._server: asyncio.Server | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def __aenter__(self) -> ScriptedPeer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = MessageDecoder()
        try:
            request: dict[str, Any] | None = None
            while request is None:
                data = await reader.read(65536)
                if not data:
                    return
                objects = decoder.feed(data)
                request = objects[0] if objects else None
            parse_request(request)
            self.requests.append(request)
            watcher = asyncio.ensure_future(self._watch_eof(reader))
            try:
                await self.script(request, writer)
            finally:
                if not watcher.done():
                    watcher.cancel()
        finally:
            writer.close()

    async def _watch_eof(self, reader: asyncio.StreamReader) -> None:
        try:
            while await reader.read(65536):
                pass
        except OSError:
            pass
        self.saw_eof.set()
