"""DemoMarketplace without the local model: providers register distinctly and serve, launches reuse the chain state,
and a missing model is a clear error in the chat, never a crash."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from demo_env import absent_model, answer_text, consumer_for, running_demo, spare_consumer, specs_on_free_ports
from devnet_rpc import needs_anvil

from app.devnet.demo import DemoMarketplace
from app.devnet.demo_chain import DEMO_MODEL_NAME, DEMO_TAGS
from app.devnet.demo_seed import seed_path
from app.devnet.local_model import MISSING_MESSAGE
from app.devnet.progress import StartupStep
from app.errors import PeerError
from app.router.consumer.client import Endpoint, MorRpcClient

pytestmark = [needs_anvil, pytest.mark.timeout(60)]


async def test_four_demo_providers_register_with_distinct_stakes_and_prices_and_answer_pings(tmp_path: Path) -> None:
    demo = DemoMarketplace(tmp_path, specs=specs_on_free_ports(), model_server=absent_model(tmp_path), seed=False)
    async with running_demo(tmp_path, demo):
        providers = list(demo.providers)
        diamond = providers[0].account.diamond
        assert demo.model_id is not None
        model = await diamond.get_model(demo.model_id)
        on_chain = [await diamond.get_provider(p.address) for p in providers]
        bids = [await diamond.get_bid(p.bid_id) for p in providers]
        client = MorRpcClient(spare_consumer())
        pongs = [await client.ping(Endpoint.parse(p.endpoint), p.address) for p in providers]

    assert len(providers) >= 3
    assert (model.name, model.tags, model.is_active) == (DEMO_MODEL_NAME, DEMO_TAGS, True)
    assert len({p.address for p in providers}) == len(providers)
    assert len({p.port for p in providers}) == len(providers)
    assert [p.endpoint for p in on_chain] == [p.endpoint for p in providers]
    assert [p.stake for p in on_chain] == [p.spec.stake_wei for p in providers]
    assert len({p.stake for p in on_chain}) == len(on_chain)
    assert [b.price_per_second for b in bids] == [p.spec.price_wei for p in providers]
    assert len({b.price_per_second for b in bids}) == len(bids)
    assert {b.model_id for b in bids} == {demo.model_id}
    assert all(pong.rtt_ms >= 0 for pong in pongs)  # ping() already checked each pong's signer is the provider


async def test_a_second_launch_on_the_same_anvil_state_reuses_registrations_and_bids(tmp_path: Path) -> None:
    specs = specs_on_free_ports()
    first = DemoMarketplace(tmp_path, specs=specs, model_server=absent_model(tmp_path), seed=False)
    async with running_demo(tmp_path, first):
        first_providers = list(first.providers)

    second = DemoMarketplace(tmp_path, specs=specs, model_server=absent_model(tmp_path), seed=False)
    steps: list[StartupStep] = []
    async with running_demo(tmp_path, second, steps) as devnet:
        providers = list(second.providers)
        diamond = providers[0].account.diamond
        bid_counts = [(await diamond.provider_bids(p.address, 0, 100)).total for p in providers]
        ports = [p.port for p in providers]
        persistent = devnet.persistent

    assert {p.registration for p in first_providers} == {"registered"}
    assert first.model_registered_now
    assert [p.registration for p in providers] == ["reused"] * len(specs)
    assert [p.bid_id for p in providers] == [p.bid_id for p in first_providers]
    assert bid_counts == [1] * len(specs)
    assert not second.model_registered_now
    assert ports == [s.port for s in specs]  # the fixed ports were free again
    assert persistent
    assert any(s.name == "demo providers" and s.state == "ok" and "reused" in s.message for s in steps)


async def test_a_provider_whose_port_is_taken_moves_and_re_registers_its_endpoint(tmp_path: Path) -> None:
    specs = specs_on_free_ports()
    first = DemoMarketplace(tmp_path, specs=specs, model_server=absent_model(tmp_path), seed=False)
    async with running_demo(tmp_path, first):
        pass

    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    squatter.bind(("127.0.0.1", specs[0].port))
    squatter.listen()
    try:
        second = DemoMarketplace(tmp_path, specs=specs, model_server=absent_model(tmp_path), seed=False)
        async with running_demo(tmp_path, second):
            providers = list(second.providers)
            moved, moved_port = providers[0], providers[0].port
            registered = await moved.account.diamond.get_provider(moved.address)
            pong = await MorRpcClient(spare_consumer()).ping(Endpoint.parse(registered.endpoint), moved.address)
    finally:
        squatter.close()

    assert moved_port != specs[0].port
    assert moved.registration == "endpoint updated"
    assert registered.endpoint == f"127.0.0.1:{moved_port}"
    assert pong.rtt_ms >= 0
    assert [p.registration for p in providers[1:]] == ["reused"] * (len(specs) - 1)


async def test_without_the_local_model_prompts_get_the_install_command_and_seeding_is_skipped(tmp_path: Path) -> None:
    steps: list[StartupStep] = []
    demo = DemoMarketplace(tmp_path, specs=specs_on_free_ports(), model_server=absent_model(tmp_path))
    async with running_demo(tmp_path, demo, steps) as devnet:
        assert demo.model_id is not None
        async with consumer_for(devnet, spare_consumer(), tmp_path / "consumer.sqlite3") as consumer:
            session = await consumer.open_session("0x" + demo.model_id.hex(), duration_s=600)
            with pytest.raises(PeerError) as caught:
                await answer_text(consumer.chat(prompt="hello?", session_id=session.id))
            closed = await consumer.close_session(session.id)

    assert MISSING_MESSAGE in caught.value.user_message
    assert not closed.disputed  # the provider itself is fine: it reports and the session closes normally
    final = {s.name: s for s in steps if s.state != "running"}
    assert final["local model server"].state == "ok"
    assert final["local model server"].message == f"unavailable: {MISSING_MESSAGE}"
    assert final["demo providers"].state == "ok"
    assert final["seeding history"].message == f"skipped: {MISSING_MESSAGE}"
    assert not seed_path(tmp_path).exists()  # so a later launch with the model installed seeds the history
    assert not demo.model_available


async def test_a_devnet_reset_brings_the_demo_providers_back_on_the_fresh_chain(tmp_path: Path) -> None:
    demo = DemoMarketplace(tmp_path, specs=specs_on_free_ports(), model_server=absent_model(tmp_path), seed=False)
    async with running_demo(tmp_path, demo) as devnet:
        before = list(demo.providers)
        await devnet.reset()
        after = list(demo.providers)
        diamond = after[0].account.diamond
        on_chain = [await diamond.get_provider(p.address) for p in after]
        pong = await MorRpcClient(spare_consumer()).ping(Endpoint.parse(after[-1].endpoint), after[-1].address)

    assert devnet.freshly_deployed
    assert [p.registration for p in after] == ["registered"] * len(before)
    assert [p.port for p in after] == [p.port for p in before]  # the old nodes were stopped, their ports reused
    assert all(p.is_active for p in on_chain)
    assert pong.rtt_ms >= 0
