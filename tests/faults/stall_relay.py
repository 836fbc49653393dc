"""A provider that goes silent mid-answer: relays its first N prompt responses, then holds the socket open, mute."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.router.morrpc.framing import MessageDecoder
from tests.faults.market import FaultyProvider

_READ = 64 * 1024
_SCANNER = json.JSONDecoder()


def split_messages(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete MOR-RPC messages (JSON objects back to back) at the start of ``buffer``, and the rest.

    Decoded as latin-1 so character offsets are byte offsets; only the JSON structure matters here, never the text.
    """
    text, messages, start = buffer.decode("latin-1"), list[bytes](), 0
    while True:
        while start < len(text) and text[start] in " \t\r\n":
            start += 1
        try:
            _, end = _SCANNER.raw_decode(text, start)
        except json.JSONDecodeError:
            return messages, buffer[start:]
        messages.append(buffer[start:end])
        start = end


class MidStreamStall:
    """Listens on ``port`` (the provider's registered endpoint) and relays to ``upstream``; on a ``session.prompt``
    only the first ``passed`` response messages reach the consumer, then nothing more, and the socket stays open."""

    def __init__(self, upstream: tuple[str, int], port: int, passed: int) -> None:
        self.upstream = upstream
        self.port = port
        self.passed = passed
        self.prompts = 0
        self.stalled = asyncio.Event()  # set when a prompt's answer was cut off
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._live):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._relay(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._live.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            head, is_prompt = await _read_request(reader)
            up_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            self._live.add(upstream_writer)
            upstream_writer.write(head)
            if is_prompt:
                self.prompts += 1
                back = self._pass_then_stall(up_reader, writer)
            else:
                back = _pipe(up_reader, writer)
            await asyncio.gather(_pipe(reader, upstream_writer), back)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self._live.discard(w)
                    w.close()

    async def _pass_then_stall(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer, sent = b"", 0
        with contextlib.suppress(ConnectionError, OSError):
            while sent < self.passed and (data := await reader.read(_READ)):
                messages, buffer = split_messages(buffer + data)
                for message in messages[: self.passed - sent]:
                    writer.write(message)
                    sent += 1
                await writer.drain()
            self.stalled.set()
            while await reader.read(_READ):  # the provider keeps answering; none of it goes out, nor does EOF
                pass


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
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


@asynccontextmanager
async def going_silent_mid_answer(provider: FaultyProvider, passed: int) -> AsyncIterator[MidStreamStall]:
    """``provider`` (at its registered endpoint) answers prompts with ``passed`` messages, then goes mute."""
    await provider.proxy.kill()
    stall = MidStreamStall(provider.server.address, provider.proxy.port, passed)
    await stall.start()
    try:
        yield stall
    finally:
        await stall.stop()
        await provider.proxy.start()  # the market's own relay, back on the same port
