"""A TCP proxy in front of a provider's MOR-RPC port that can die, come back, or misbehave on prompts."""

from __future__ import annotations

import asyncio
import enum
import os

from tests.support.tcp_relay import Link, Relay, pipe, read_first_json


class Mode(enum.Enum):
    """What the proxy does with a ``session.prompt`` request (every other method always passes through)."""

    PASS = "pass"
    HANG = "hang"  # read the prompt, answer nothing, keep the connection open
    GARBAGE = "garbage"  # answer the prompt with bytes that are no MOR-RPC response


class ChaosProxy(Relay):
    """Listens on 127.0.0.1 (a fixed port once bound) and relays to ``upstream``; ``kill()`` cuts everything."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(upstream)
        self.mode = Mode.PASS
        self.prompts = 0  # session.prompt requests seen

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.listening

    async def start(self) -> None:
        """Listen (again, on the same port after a kill)."""
        await self.listen()

    async def kill(self) -> None:
        """Like a crashed node: stop listening (connects are refused) and abort every open connection."""
        await self.shut()

    async def serve(self, link: Link) -> None:
        head, request = await read_first_json(link.reader)
        if request is not None and request.get("method") == "session.prompt":
            self.prompts += 1
            if self.mode is Mode.HANG:
                await asyncio.Event().wait()  # until killed or the client gives up
            if self.mode is Mode.GARBAGE:
                link.writer.write(b'{"id":"x","result":' + os.urandom(16).hex().encode() + b"}\n\x00\xff garbage")
                await link.writer.drain()
                return
        up_reader, up_writer = await link.connect()
        up_writer.write(head)
        await asyncio.gather(pipe(link.reader, up_writer), pipe(up_reader, link.writer))
