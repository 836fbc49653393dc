"""A JSON-RPC forwarder to a real node that holds chosen methods until the test lets them through."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import web


class HeldRelay:
    """Forwards JSON-RPC POSTs to ``upstream``; a request for a method in ``held`` waits until :meth:`release`.

    ``arrived`` is set once such a request is waiting, so a test knows a call is in flight without sleeping.
    Methods in ``failing`` get an HTTP 500 (a transient failure for the client, which then fails over).
    """

    def __init__(self, upstream: str, held: set[str], failing: set[str] | None = None) -> None:
        self.upstream = upstream
        self.held = held
        self.failing = failing or set()
        self.arrived = asyncio.Event()
        self.answered = 0
        self._gate = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    def release(self) -> None:
        self._gate.set()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        method = json.loads(body).get("method")
        if method in self.failing:
            return web.Response(status=500, text="failing on purpose")
        if method in self.held:
            self.arrived.set()
            await self._gate.wait()
        assert self._http is not None
        async with self._http.post(self.upstream, data=body, headers={"content-type": "application/json"}) as r:
            answer = await r.read()
        self.answered += 1
        return web.Response(body=answer, content_type="application/json")

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"

    async def stop(self) -> None:
        self.release()  # a held handler must not keep the server's shutdown waiting
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()
