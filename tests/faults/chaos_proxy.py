"""A TCP proxy in front of a provider's MOR-RPC port that can die, come back, or misbehave on prompts."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os

from app.router.morrpc.framing import MessageDecoder

_READ = 64 * 1024


class Mode(enum.Enum):
    """What the proxy does with a ``session.prompt`` request (every other method always passes through)."""

    PASS = "pass"
    HANG = "hang"  # read the prompt, answer nothing, keep the connection open
    GARBAGE = "garbage"  # answer the prompt with bytes that are no MOR-RPC response


class ChaosProxy:
    """Listens on 127.0.0.1 (a fixed port once bound) and relays to ``upstream``; ``kill()`` cuts everything."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = Mode.PASS
        self.port = 0
        self.prompts = 0  # session.prompt requests seen
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Listen (again, on the same port after a kill)."""
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def kill(self) -> None:
        """Like a crashed node: stop listening (connects are refused) and abort every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._live):
            writer.transport.abort()
        self._live.clear()
        if server is not None:
            await server.wait_closed()

    async def stop(self) -> None:
        await self.kill()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._relay(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._live.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            head, is_prompt = await self._read_request(reader)
            if is_prompt:
                self.prompts += 1
                if self.mode is Mode.HANG:
                    await asyncio.Event().wait()  # until killed or the client gives up
                if self.mode is Mode.GARBAGE:
                    writer.write(b'{"id":"x","result":' + os.urandom(16).hex().encode() + b"}\n\x00\xff garbage")
                    await writer.drain()
                    return
            up_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            self._live.add(upstream_writer)
            upstream_writer.write(head)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(up_reader, writer))
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self._live.discard(w)
                    w.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> tuple[bytes, bool]:
        """The client's bytes up to its first complete JSON object, and whether it is a prompt."""
        decoder, head = MessageDecoder(), b""
        while True:
            data = await reader.read(_READ)
            if not data:
                return head, False
            head += data
            try:
                objects = decoder.feed(data)
            except Exception:  # not ours to judge: the provider answers malformed input itself
                return head, False
            if objects:
                return head, objects[0].get("method") == "session.prompt"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(_READ):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
