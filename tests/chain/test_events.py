"""The session event watcher: decoded SessionOpened/SessionClosed for one address, through an RPC outage."""

from __future__ import annotations

import asyncio

from app.chain.client import ChainClient
from app.chain.events import SessionEventWatcher
from app.chain.messages import encode_receipt
from app.chain.receipts import DecodedEvent
from app.wallet.signer import KeySigner
from tests.chain.conftest import eventually
from tests.chain.flaky_proxy import FlakyProxy
from tests.chain.protocol_env import Protocol, deploy_funded_protocol
from tests.chain.test_protocol_flow import _listed_bid, _open


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
