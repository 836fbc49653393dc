"""ProviderNode end to end on an anvil devnet: a codec-only consumer pings, opens, prompts and closes on chain."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.config.settings import load_settings
from app.events import EventBus, ServiceState
from app.router.morrpc.receipts import CloseoutReceipt
from app.router.provider.node import ProviderNode, ProviderState
from app.router.provider.selfcheck import ProviderCheck
from tests.router.provider import morrpc_consumer as c
from tests.router.provider.provider_env import STAKE, Devnet, models_config, running_devnet, signer
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

pytestmark = pytest.mark.anvil
CHAT = {"messages": [{"role": "user", "content": "Say hello"}], "stream": True}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def endpoint() -> str:
    return f"127.0.0.1:{free_port()}"


@pytest.fixture
async def devnet(endpoint: str) -> AsyncIterator[Devnet]:
    async with running_devnet(provider_endpoint=endpoint) as env:
        yield env


@pytest.fixture
async def backend() -> AsyncIterator[OpenAIBackendServer]:
    async with OpenAIBackendServer(Behaviour(tokens=["Hello", ",", " world", "!"], token_delay=0.01)) as server:
        yield server


def node_for(devnet: Devnet, backend: OpenAIBackendServer, listen: str, bus: EventBus, **kw: object) -> ProviderNode:
    p = devnet.protocol.provider
    return ProviderNode(
        p.signer,
        p.diamond,
        devnet.client,
        models_config(devnet.model_id, backend),
        listen=listen,
        bus=bus,
        **kw,  # type: ignore[arg-type]
    )


async def test_consumer_opens_prompts_and_closes_a_session_the_contract_accepts_without_dispute(
    devnet: Devnet, backend: OpenAIBackendServer, endpoint: str
) -> None:
    bus = EventBus()
    checks: list[ProviderCheck] = []
    bus.subscribe(ProviderCheck, checks.append)
    node = node_for(devnet, backend, endpoint, bus, self_checks=False)
    assert await node.start()
    try:
        port = node.port
        user, provider = devnet.protocol.user, devnet.protocol.provider
        # The node's self-checks find it registered, reachable at its registered endpoint, and bidding.
        results = await node.run_checks()
        assert [(r.name, r.ok) for r in results] == [("registered", True), ("endpoint", True), ("bids", True)]
        assert checks == results

        nonce = os.urandom(8)
        c.pong(await c.exchange(port, c.ping(user.signer, nonce)), provider.address, nonce)
        res = c.approval(await c.exchange(port, c.session_request(user.signer, devnet.bid_id, STAKE)))
        session_id = await devnet.open_session(user, res.approval, res.approval_sig)

        answer = c.open_answer(
            await c.exchange(port, c.prompt(user.signer, session_id, CHAT)), user.signer, res.pub_key
        )
        assert c.text_of(answer) == "Hello, world!"
        assert answer.items[-1] == "[DONE]"

        report = c.report_result(await c.exchange(port, c.report(user.signer, session_id)), res.pub_key)
        receipt = CloseoutReceipt.decode(report.message)
        assert receipt.output_tokens == 4
        await user.diamond.close_session(report.message, report.signed_report)

        session = await user.diamond.get_session(session_id)
        assert (session.is_active, session.closeout_type, session.closeout_receipt) == (False, 0, report.message)
        stats = await user.diamond.provider_model_stats(devnet.model_id, provider.address)
        assert (stats.success_count, stats.total_count) == (1, 1)
        assert (stats.tps_scaled1000.mean, stats.ttft_ms.mean) == (receipt.tps_scaled1000, receipt.ttft_ms)
    finally:
        await node.stop()
    assert node.state == ProviderState.STOPPED


async def test_consumer_closing_the_socket_mid_stream_stops_the_backend_request(devnet: Devnet, endpoint: str) -> None:
    async with OpenAIBackendServer(Behaviour(tokens=["tok"] * 300, token_delay=0.02)) as slow:
        node = node_for(devnet, slow, endpoint, EventBus(), self_checks=False)
        await node.start()
        try:
            user = devnet.protocol.user
            res = c.approval(await c.exchange(node.port, c.session_request(user.signer, devnet.bid_id, STAKE)))
            session_id = await devnet.open_session(user, res.approval, res.approval_sig)
            reader, writer = await asyncio.open_connection("127.0.0.1", node.port)
            writer.write(c.prompt(user.signer, session_id, CHAT))
            async with asyncio.timeout(5):
                await reader.read(1)
            writer.close()
            gone = await slow.wait_disconnect(within=2)
            assert not gone.completed
            assert gone.tokens_sent < 300
        finally:
            await node.stop()


async def test_node_of_an_unregistered_wallet_does_not_serve_unless_forced(
    devnet: Devnet, backend: OpenAIBackendServer
) -> None:
    bus = EventBus()
    states: list[ServiceState] = []
    bus.subscribe(ServiceState, states.append)
    stranger = signer(8)
    models = models_config(devnet.model_id, backend)
    plain = ProviderNode(stranger, devnet.protocol.user.diamond, devnet.client, models, listen="127.0.0.1:0", bus=bus)
    assert not await plain.start()
    assert plain.state == ProviderState.NOT_PROVIDER
    assert not plain.server.running
    forced = ProviderNode(
        stranger, devnet.protocol.user.diamond, devnet.client, models, listen="127.0.0.1:0", force=True, bus=bus,
        self_checks=False,
    )  # fmt: skip
    assert await forced.start()
    try:
        nonce = os.urandom(8)
        c.pong(await c.exchange(forced.port, c.ping(signer(2), nonce)), stranger.address, nonce)
        failed = {r.name: r for r in await forced.run_checks() if not r.ok}
        assert set(failed) == {"registered", "endpoint", "bids"}
        assert "not a registered provider" in failed["registered"].detail
    finally:
        await forced.stop()
    assert [s.state for s in states] == ["starting", "not a provider", "starting", "running", "stopped"]


async def test_self_check_reports_a_configured_model_without_an_active_bid(
    devnet: Devnet, backend: OpenAIBackendServer, endpoint: str
) -> None:
    await devnet.protocol.provider.diamond.delete_model_bid(devnet.bid_id)
    node = node_for(devnet, backend, endpoint, EventBus(), self_checks=False)
    await node.start()
    try:
        results = {r.name: r for r in await node.run_checks()}
        assert results["endpoint"].ok
        assert not results["bids"].ok
        assert devnet.model_id.hex() in results["bids"].detail
    finally:
        await node.stop()


async def test_node_from_settings_listens_on_proxy_address_and_honours_provider_force(
    devnet: Devnet, backend: OpenAIBackendServer, tmp_path: Path
) -> None:
    env = {"PROXY_ADDRESS": "127.0.0.1:0", "PROVIDER_FORCE": "true", "LLM_TIMEOUT": "30s"}
    settings = load_settings(environ=env, dotenv_path=tmp_path / "none.env", settings_path=tmp_path / "none.json")
    stranger = signer(8)
    models = models_config(devnet.model_id, backend)
    node = ProviderNode.from_settings(settings, stranger, devnet.protocol.user.diamond, devnet.client, models)
    assert node.backends.llm_timeout == 30
    assert await node.start()
    try:
        nonce = os.urandom(8)
        c.pong(await c.exchange(node.port, c.ping(signer(2), nonce)), stranger.address, nonce)
    finally:
        await node.stop()
