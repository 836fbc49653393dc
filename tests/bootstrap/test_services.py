"""The composition root on a real embedded devnet: start order, reported steps, wallet attach/detach, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bootstrap.services import Services
from app.chain.errors import WrongChainError
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.events import ChainStatus, EventBus, ServiceState, WalletState
from app.wallet.manager import LockState, WalletManager

# anvil's public dev key #5 — a throwaway key, never used outside local chains
DEV_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"
DEV_ADDRESS = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"


def _services(data_dir: Path, environ: dict[str, str], bus: EventBus) -> Services:
    settings = load_settings([], environ=environ, dotenv_path=data_dir / "absent.env")
    wallet = WalletManager(data_dir, environ=environ)
    return Services(
        load_node_config(settings), data_dir, bus=bus, devnet_engine="eth-tester", wallet=wallet, demo=False
    )


@pytest.fixture
def events() -> tuple[EventBus, list[object]]:
    bus = EventBus()
    seen: list[object] = []
    for kind in (ServiceState, ChainStatus, WalletState):
        bus.subscribe(kind, seen.append)
    return bus, seen


async def test_devnet_start_reports_each_step_and_reads_live_parameters(
    isolated_data_dir: Path, events: tuple[EventBus, list[object]]
) -> None:
    bus, seen = events
    services = _services(isolated_data_dir, {}, bus)
    try:
        await services.start()
        assert services.network is not None
        assert services.network.is_devnet
        assert services.diamond is not None
        assert await services.diamond.provider_minimum_stake() > 0
        running = [e.service for e in seen if isinstance(e, ServiceState) and e.state == "running"]
        assert running[0] == "storage"
        assert {"chain", "wallet", "devnet:chain", "devnet:contracts"} <= set(running)
        assert services.wallet.state is LockState.NO_WALLET
        assert services.sender is None
    finally:
        await services.stop()


async def test_env_wallet_gets_a_sender_and_can_transact(
    isolated_data_dir: Path, events: tuple[EventBus, list[object]]
) -> None:
    bus, _ = events
    services = _services(isolated_data_dir, {"WALLET_PRIVATE_KEY": DEV_KEY}, bus)
    try:
        await services.start()
        assert services.wallet.state is LockState.UNLOCKED
        assert services.sender is not None
        assert services.sender.signer.address == DEV_ADDRESS
        # One sender (one nonce counter) per wallet: the router's transactions go through the same one.
        assert services.consumer is not None
        assert services.consumer.sessions_manager.diamond.sender is services.sender
        assert services.devnet is not None
        assert services.token is not None
        await services.devnet.faucet.fund(DEV_ADDRESS, eth_wei=10**18, mor_wei=5 * 10**18)
        before = await services.token.balance_of(DEV_ADDRESS)
        await services.token.transfer("0x000000000000000000000000000000000000dEaD", 10**18)
        assert await services.token.balance_of(DEV_ADDRESS) == before - 10**18
    finally:
        await services.stop()


async def test_locking_stops_the_router_parts_detaches_the_sender_and_publishes_the_state(
    isolated_data_dir: Path, events: tuple[EventBus, list[object]]
) -> None:
    bus, seen = events
    services = _services(isolated_data_dir, {"WALLET_PRIVATE_KEY": DEV_KEY}, bus)
    try:
        await services.start()
        assert services.consumer is not None
        assert services.provider is not None and services.provider.state == "not a provider"
        services.wallet.lock("manual")
        assert services.consumer is None
        assert services.provider is None
        assert services.sender is None
        assert services.diamond is not None
        assert services.diamond.sender is None
        assert WalletState(DEV_ADDRESS, locked=True) in seen
    finally:
        await services.stop()


async def test_rpc_on_the_wrong_chain_fails_the_chain_step_with_a_clear_error(
    isolated_data_dir: Path, events: tuple[EventBus, list[object]]
) -> None:
    bus, seen = events
    devnet = _services(isolated_data_dir / "devnet-owner", {}, EventBus())
    await devnet.start()
    try:
        assert devnet.devnet is not None
        environ = {"ETH_NODE_ADDRESS": devnet.devnet.rpc_url, "ETH_NODE_CHAIN_ID": "8453"}
        services = _services(isolated_data_dir / "node", environ, bus)
        with pytest.raises(WrongChainError) as raised:
            await services.start()
        assert "8453" in raised.value.user_message
        failed = [e for e in seen if isinstance(e, ServiceState) and e.state == "failed"]
        assert [e.service for e in failed] == ["chain"]
        await services.stop()
    finally:
        await devnet.stop()
