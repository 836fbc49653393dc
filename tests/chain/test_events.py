"""The session event watcher: decoded SessionOpened/SessionClosed for one address, through an RPC outage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from app.chain.client import ChainClient
from app.chain.events import SessionEventWatcher
from app.chain.messages import encode_receipt
from app.chain.receipts import DecodedEvent
from app.wallet.signer import KeySigner
from tests.chain.conftest import Node, eventually
from tests.chain.protocol_env import Protocol, deploy_funded_protocol
from tests.chain.test_protocol_flow import _listed_bid, _open


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


@pytest.fixture
async def proxy(anvil: Node) -> AsyncIterator[FlakyProxy]:
    p = FlakyProxy(anvil.url)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def test_watcher_yields_open_and_close_for_the_user_and_survives_an_outage(
    proxy: FlakyProxy, anvil_client: ChainClient, signers: list[KeySigner]
) -> None:
    env: Protocol = await deploy_funded_protocol(anvil_client, signers)
    _model, bid_id = await _listed_bid(env)
    async with ChainClient([proxy.url], expected_chain_id=31337, retries=1, backoff=0.01) as watched:
        watcher = SessionEventWatcher(watched, env.addresses.diamond, env.user.address, interval=0.05)
        await watcher.poll()  # start from the current block
        seen: list[DecodedEvent] = []

        async def consume() -> None:
            async for event in watcher.events():
                seen.append(event)

        task = asyncio.create_task(consume())
        try:
            session_id, _ = await _open(env, bid_id)
            await eventually(lambda: len(seen) >= 1)

            proxy.down = True
            receipt = encode_receipt(session_id, 31337, await env.now(), 1000, 100)
            await env.user.diamond.close_session(receipt, env.provider.signer.sign_personal_hash(receipt))
            await eventually(lambda: watcher.last_error is not None)
            proxy.down = False
            await eventually(lambda: len(seen) >= 2)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert [e.name for e in seen] == ["SessionOpened", "SessionClosed"]
    assert all(e.args["sessionId"] == session_id for e in seen)
    assert seen[0].args["user"] == env.user.address
    assert seen[0].args["providerId"] == env.provider.address
    assert proxy.refused > 0
    assert watcher.last_error is None


async def test_watcher_for_the_provider_sees_its_sessions_and_not_others(
    anvil_client: ChainClient, signers: list[KeySigner]
) -> None:
    env = await deploy_funded_protocol(anvil_client, signers)
    _model, bid_id = await _listed_bid(env)
    for_provider = SessionEventWatcher(anvil_client, env.addresses.diamond, env.provider.address, interval=0.05)
    for_stranger = SessionEventWatcher(anvil_client, env.addresses.diamond, signers[4].address, interval=0.05)
    await for_provider.poll()
    await for_stranger.poll()

    session_id, _ = await _open(env, bid_id)

    provider_events = await for_provider.poll()
    assert [(e.name, e.args["sessionId"]) for e in provider_events] == [("SessionOpened", session_id)]
    assert await for_stranger.poll() == []
