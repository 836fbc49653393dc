"""A JSON-RPC forwarder to a real node that can be switched "down" (HTTP 503), for outage tests."""

from __future__ import annotations

from aiohttp import web

from tests.support.tcp_relay import HttpRelay


class FlakyProxy(HttpRelay):
    """A JSON-RPC forwarder to a real node that answers 503 while ``down`` is set."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.down = False
        self.refused = 0

    async def handle(self, request: web.Request) -> web.Response:
        if self.down:
            self.refused += 1
            return web.Response(status=503, text="down")
        return await super().handle(request)
