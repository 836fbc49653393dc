"""The chain RPC goes away for a while with a transaction in flight: nothing crashes, the status says the chain is
unreachable, the transaction stays tracked and is resolved after recovery, once, and nonces stay consistent.

Two ways to be unreachable: the RPC refuses connections, or it accepts them and never answers (the client must time
out). Two ways to be wired: a tx sender and status poller set up by hand (short timeouts, fast), and the app's own
``Services`` as the GUI and headless mode build them (default timeouts and fee policy).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from app.bootstrap.chain_status import poll_chain_status
from app.bootstrap.services import Services
from app.chain.client import ChainClient
from app.chain.tx import EscalationPolicy, TxSender
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.devnet.accounts import dev_addresses, dev_private_keys
from app.devnet.anvil import start_anvil
from app.devnet.chain_node import ChainNode
from app.devnet.service import DevnetService
from app.events import ChainStatus, EventBus
from app.tasks import TaskSupervisor
from app.wallet.manager import WalletManager
from app.wallet.signer import KeySigner
from tests.chain.conftest import eventually
from tests.faults.rpc_relay import Fault, RpcRelay

pytestmark = pytest.mark.asyncio(loop_scope="module")

SINK = "0x000000000000000000000000000000000000dEaD"
# Long enough to ride out the outage; fee bumps are re-sends of the same nonce and must not duplicate anything.
RIDE_OUT = EscalationPolicy(check_interval=1.0, max_attempts=5, total_timeout=60.0, poll_interval=0.1)
# With the app's defaults the status poll (every 4 s) gives a mute RPC 8 s to answer before it says "unreachable",
# although ChainClient's own retries (3 tries of up to 10 s reconnecting + 10 s on the call) go on for a minute.
APP_SILENT_DETECTION_S = 20.0


@dataclass
class Outage:
    node: ChainNode
    relay: RpcRelay
    direct: ChainClient  # to anvil, bypassing the relay: the test's own view of the chain


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def outage() -> AsyncIterator[Outage]:
    node = await start_anvil(state_path=None)
    relay = await _relay_to(node.rpc_url)
    try:
        async with ChainClient([node.rpc_url], backoff=0.05) as direct:
            yield Outage(node, relay, direct)
    finally:
        await relay.stop()
        await node.stop()


@dataclass
class AppChain:
    devnet: DevnetService  # anvil with the protocol deployed; the app reaches it only through ``relay``
    relay: RpcRelay


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app_chain(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AppChain]:
    devnet = DevnetService(tmp_path_factory.mktemp("outage-devnet"), engine="anvil")
    await devnet.start()
    relay = await _relay_to(devnet.rpc_url)
    try:
        yield AppChain(devnet, relay)
    finally:
        await relay.stop()
        await devnet.stop()


async def _relay_to(rpc_url: str) -> RpcRelay:
    host, _, port = rpc_url.removeprefix("http://").rstrip("/").rpartition(":")
    relay = RpcRelay((host, int(port)))
    await relay.start()
    return relay


async def _sent_by(direct: ChainClient, address: str) -> list[dict[str, object]]:
    """Every mined transaction from ``address``."""
    found = []
    for number in range(await direct.block_number() + 1):
        block = await direct.rpc("eth_getBlockByNumber", [hex(number), True])
        found += [tx for tx in block["transactions"] if tx["from"].lower() == address.lower()]
    return found


def _says_unreachable(status: ChainStatus, fault: Fault) -> bool:
    """The status bar shows "chain unreachable: <detail>"; the detail must say why, and a mute RPC is a timeout."""
    detail = status.detail.lower()
    named = "cannot reach the chain rpc" in detail
    return not status.reachable and named and (fault is Fault.REFUSED or "timeout" in detail)


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing crashed: no task failure, no unexpected exception (both are logged at ERROR)."""
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


# -- wired by hand ---------------------------------------------------------------------------------------------------

async def _ride_out(outage: Outage, seconds: float, key_index: int, fault: Fault) -> None:
    signer = KeySigner(dev_private_keys()[key_index])
    bus, statuses = EventBus(), list[ChainStatus]()
    bus.subscribe(ChainStatus, statuses.append)
    tasks = TaskSupervisor("outage-test")
    await outage.relay.restore()
    async with ChainClient([outage.relay.url], backoff=0.05, retries=2, timeout=2) as client:
        sender = TxSender(client, signer, policy=RIDE_OUT)
        tasks.spawn(poll_chain_status(client, bus, "devnet", client.chain_id, interval=0.2), name="status")
        start_nonce = await outage.direct.get_transaction_count(signer.address, "latest")
        await outage.direct.rpc("evm_setAutomine", [False])
        try:
            in_flight = asyncio.ensure_future(sender.transfer_eth(SINK, 12345))
            await eventually(lambda: len(sender.pending()) == 1)
            [tracked] = sender.pending()

            await outage.relay.break_with(fault)
            await eventually(lambda: bool(statuses) and _says_unreachable(statuses[-1], fault), limit_s=15)
            await asyncio.sleep(seconds)  # the outage itself: the fault being injected, not a wait for state
            assert not in_flight.done()
            assert [p.nonce for p in sender.pending()] == [tracked.nonce]  # still tracked through the outage
            await outage.direct.rpc("evm_mine", [])  # mined while we could not see it
            await outage.relay.restore()

            receipt = await asyncio.wait_for(in_flight, RIDE_OUT.total_timeout)
        finally:
            await outage.direct.rpc("evm_setAutomine", [True])
        await eventually(lambda: statuses[-1].reachable)
        assert sender.pending() == []
        follow_up = await sender.transfer_eth(SINK, 1)  # the next nonce, no gap, no reuse
        await tasks.close()

    if fault is Fault.SILENT:
        assert outage.relay.silenced > 0  # the client really met a socket that never answered
    mined = await _sent_by(outage.direct, signer.address)
    assert [int(str(tx["nonce"]), 16) for tx in mined] == [start_nonce, start_nonce + 1]  # no duplicate
    assert {str(tx["hash"]).lower() for tx in mined} == {receipt.tx_hash.lower(), follow_up.tx_hash.lower()}
    assert receipt.tx_hash.lower() in [h.lower() for h in tracked.hashes]


async def test_a_short_rpc_outage_with_a_tx_in_flight_is_ridden_out(outage: Outage) -> None:
    await _ride_out(outage, 3.0, key_index=6, fault=Fault.REFUSED)


async def test_an_rpc_that_accepts_but_never_answers_times_out_and_the_tx_finishes_after_recovery(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    await _ride_out(outage, 1.0, key_index=5, fault=Fault.SILENT)
    _no_errors_logged(caplog)


@pytest.mark.slow
async def test_a_30_second_rpc_outage_with_a_tx_in_flight_is_ridden_out(outage: Outage) -> None:
    await _ride_out(outage, 30.0, key_index=7, fault=Fault.REFUSED)


# -- through the app's own Services ----------------------------------------------------------------------------------

def _node_services(chain: AppChain, data_dir: Path, key_index: int, bus: EventBus) -> Services:
    """The node as the app builds it for a configured RPC (here: the relay), wallet from WALLET_PRIVATE_KEY."""
    deployment = chain.devnet.addresses
    environ = {
        "ETH_NODE_ADDRESS": chain.relay.url,
        "ETH_NODE_CHAIN_ID": str(deployment.chain_id),
        "DIAMOND_CONTRACT_ADDRESS": deployment.diamond,
        "MOR_TOKEN_ADDRESS": deployment.mor,
        "MULTICALL3_ADDR": deployment.multicall3,
        "WALLET_PRIVATE_KEY": "0x" + dev_private_keys()[key_index].hex(),  # anvil's public dev key: throwaway
    }
    settings = load_settings([], environ=environ, dotenv_path=data_dir / "absent.env")
    return Services(load_node_config(settings), data_dir, bus=bus, wallet=WalletManager(data_dir, environ=environ),
                    with_provider=False, demo=False)


async def test_the_apps_services_start_on_a_configured_rpc_with_contract_addresses_from_settings(
    app_chain: AppChain, tmp_path: Path
) -> None:
    await app_chain.relay.restore()
    services = _node_services(app_chain, tmp_path, key_index=4, bus=EventBus())
    try:
        await services.start()
        assert services.router is not None and services.failed == {}
    finally:
        await services.stop()


async def _ride_out_in_the_app(chain: AppChain, data_dir: Path, fault: Fault, key_index: int,
                               detection_s: float) -> None:
    bus, statuses = EventBus(), list[ChainStatus]()
    bus.subscribe(ChainStatus, statuses.append)
    direct = chain.devnet.client
    address = dev_addresses()[key_index]
    await chain.relay.restore()
    services = _node_services(chain, data_dir, key_index, bus)
    await services.start()
    try:
        sender, store = services.sender, services.storage
        assert sender is not None and store is not None and sender.address.lower() == address.lower()
        await eventually(lambda: bool(statuses) and statuses[-1].reachable, limit_s=10)
        start_nonce = await direct.get_transaction_count(address, "latest")
        await direct.rpc("evm_setAutomine", [False])
        try:
            in_flight = asyncio.ensure_future(sender.transfer_eth(SINK, 4242))
            await eventually(lambda: len(sender.pending()) == 1)
            [tracked] = sender.pending()

            await chain.relay.break_with(fault)
            await eventually(lambda: _says_unreachable(statuses[-1], fault), limit_s=detection_s)
            assert not in_flight.done() and [p.nonce for p in sender.pending()] == [tracked.nonce]
            await direct.rpc("evm_mine", [])  # mined while the app could not see it
            await chain.relay.restore()
            receipt = await asyncio.wait_for(in_flight, 60)
        finally:
            await direct.rpc("evm_setAutomine", [True])
        await eventually(lambda: statuses[-1].reachable and statuses[-1].block is not None, limit_s=10)
        follow_up = await sender.transfer_eth(SINK, 1)

        mined = await _sent_by(direct, address)
        assert [int(str(tx["nonce"]), 16) for tx in mined] == [start_nonce, start_nonce + 1]  # no duplicate
        assert {str(tx["hash"]).lower() for tx in mined} == {receipt.tx_hash.lower(), follow_up.tx_hash.lower()}
        assert receipt.tx_hash.lower() in [h.lower() for h in tracked.hashes]
        # The journal agrees: the in-flight tx settled as mined, nothing left pending to "recover" at next start.
        row = await store.run(store.sync.pending_txs.get, receipt.tx_hash)
        assert row is not None and row.state == "mined"
        assert await store.run(store.sync.pending_txs.pending) == []
        assert services.failed == {}
    finally:
        await services.stop()


async def test_the_apps_services_show_chain_unreachable_when_the_rpc_refuses_and_finish_the_tx_once(
    app_chain: AppChain, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await _ride_out_in_the_app(app_chain, tmp_path, Fault.REFUSED, key_index=8, detection_s=15)
    _no_errors_logged(caplog)


@pytest.mark.slow
async def test_the_apps_services_time_out_a_mute_rpc_show_chain_unreachable_and_finish_the_tx_once(
    app_chain: AppChain, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await _ride_out_in_the_app(app_chain, tmp_path, Fault.SILENT, key_index=9, detection_s=APP_SILENT_DETECTION_S)
    assert app_chain.relay.silenced > 0
    _no_errors_logged(caplog)
