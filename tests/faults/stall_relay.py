"""A provider that goes silent mid-answer: relays its first N prompt responses, then holds the socket open, mute."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.faults.market import FaultyProvider
from tests.support.tcp_relay import READ_SIZE, Link, Relay, pipe, read_first_json

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


class MidStreamStall(Relay):
    """Listens on ``port`` (the provider's registered endpoint) and relays to ``upstream``; on a ``session.prompt``
    only the first ``passed`` response messages reach the consumer, then nothing more, and the socket stays open."""

    def __init__(self, upstream: tuple[str, int], port: int, passed: int) -> None:
        super().__init__(upstream, port)
        self.passed = passed
        self.prompts = 0
        self.stalled = asyncio.Event()  # set when a prompt's answer was cut off

    async def start(self) -> None:
        await self.listen()

    async def serve(self, link: Link) -> None:
        head, request = await read_first_json(link.reader)
        up_reader, up_writer = await link.connect()
        up_writer.write(head)
        if request is not None and request.get("method") == "session.prompt":
            self.prompts += 1
            back = self._pass_then_stall(up_reader, link.writer)
        else:
            back = pipe(up_reader, link.writer)
        await asyncio.gather(pipe(link.reader, up_writer), back)

    async def _pass_then_stall(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer, sent = b"", 0
        with contextlib.suppress(ConnectionError, OSError):
            while sent < self.passed and (data := await reader.read(READ_SIZE)):
                messages, buffer = split_messages(buffer + data)
                for message in messages[: self.passed - sent]:
                    writer.write(message)
                    sent += 1
                await writer.drain()
            self.stalled.set()
            while await reader.read(READ_SIZE):  # the provider keeps answering; none of it goes out, nor does EOF
                pass


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
