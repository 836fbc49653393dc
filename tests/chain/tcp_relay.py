"""A TCP relay on 127.0.0.1:0 to a real node that can cut every connection (for WebSocket drop tests)."""

from __future__ import annotations

import asyncio

from tests.support.tcp_relay import Link, Relay, pipe


class TcpRelay(Relay):
    """Pipes bytes both ways to ``host:port``; ``cut()`` aborts the open connections and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__((host, port))
        self.cut_off = False
        self.connections = 0

    @property
    def address(self) -> str:
        assert self.listening
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        await self.listen()

    async def stop(self) -> None:
        self.cut()
        await super().stop()

    def cut(self) -> None:
        self.cut_off = True
        self.abort_all()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:  # accepted, then reset at once: the client sees the attempt fail
            writer.transport.abort()
            return
        self.connections += 1
        await super()._accept(reader, writer)

    async def serve(self, link: Link) -> None:
        # Either side ending ends both at once (no half-close), as a dropped WebSocket connection does.
        up_reader, up_writer = await link.connect()
        await asyncio.gather(pipe(link.reader, up_writer, abort_at_end=True),
                             pipe(up_reader, link.writer, abort_at_end=True))
