"""A tiny real JSON-RPC server on 127.0.0.1 that answers eth_chainId, and the probe the GUI would inject."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web


@asynccontextmanager
async def chain_id_server(chain_id: int) -> AsyncIterator[str]:
    """Serve ``eth_chainId`` → ``chain_id`` on a free port; yields the URL."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("method") != "eth_chainId":
            return web.json_response({"jsonrpc": "2.0", "id": body.get("id"), "error": {"code": -32601}})
        return web.json_response({"jsonrpc": "2.0", "id": body.get("id"), "result": hex(chain_id)})

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def probe_chain_id(url: str) -> int:
    """What app.chain's probe does, reduced to the essentials: POST eth_chainId, parse the hex answer."""
    payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    async with aiohttp.ClientSession() as session, session.post(url, json=payload) as response:
        return int((await response.json())["result"], 16)
