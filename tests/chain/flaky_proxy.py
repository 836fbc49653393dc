"""A JSON-RPC forwarder to a real node that can be switched "down" (HTTP 503), for outage tests."""

from __future__ import annotations

import aiohttp
from aiohttp import web


class FlakyProxy:
    """A JSON-RPC forwarder to a real node that answers 503 while ``down`` is set."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.down = False
        self.refused = 0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        if self.down:
            self.refused += 1
            return web.Response(status=503, text="down")
        assert self._http is not None
        body = await request.read()
        async with self._http.post(self.upstream, data=body, headers={"content-type": "application/json"}) as r:
            return web.Response(body=await r.read(), content_type="application/json")

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()
