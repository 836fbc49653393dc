"""A JSON-RPC forwarder to a real node that holds chosen methods until the test lets them through."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from tests.support.tcp_relay import HttpRelay, json_response


class HeldRelay(HttpRelay):
    """Forwards JSON-RPC POSTs to ``upstream``; a request for a method in ``held`` waits until :meth:`release`.

    ``arrived`` is set once such a request is waiting, so a test knows a call is in flight without sleeping.
    Methods in ``failing`` get an HTTP 500 (a transient failure for the client, which then fails over).
    """

    def __init__(self, upstream: str, held: set[str], failing: set[str] | None = None) -> None:
        super().__init__(upstream)
        self.held = held
        self.failing = failing or set()
        self.arrived = asyncio.Event()
        self.answered = 0
        self._gate = asyncio.Event()

    def release(self) -> None:
        self._gate.set()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        method = json.loads(body).get("method")
        if method in self.failing:
            return web.Response(status=500, text="failing on purpose")
        if method in self.held:
            self.arrived.set()
            await self._gate.wait()
        answer = await self.forward(body)
        self.answered += 1
        return json_response(answer)

    async def stop(self) -> None:
        self.release()  # a held handler must not keep the server's shutdown waiting
        await super().stop()
