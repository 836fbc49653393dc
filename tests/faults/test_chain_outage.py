"""The chain RPC goes away for a while with a transaction in flight: nothing crashes, the status says the chain is
unreachable, the transaction stays tracked and is resolved after recovery, once, and nonces stay consistent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from app.bootstrap.chain_status import poll_chain_status
from app.chain.client import ChainClient
from app.chain.tx import EscalationPolicy, TxSender
from app.devnet.accounts import dev_private_keys
from app.devnet.anvil import start_anvil
from app.devnet.chain_node import ChainNode
from app.events import ChainStatus, EventBus
from app.tasks import TaskSupervisor
from app.wallet.signer import KeySigner
from tests.chain.conftest import eventually
from tests.faults.chaos_proxy import ChaosProxy

pytestmark = pytest.mark.asyncio(loop_scope="module")

SINK = "0x000000000000000000000000000000000000dEaD"
# Long enough to ride out the outage; fee bumps are re-sends of the same nonce and must not duplicate anything.
RIDE_OUT = EscalationPolicy(check_interval=1.0, max_attempts=5, total_timeout=60.0, poll_interval=0.1)


@dataclass
class Outage:
    node: ChainNode
    proxy: ChaosProxy
    direct: ChainClient  # to anvil, bypassing the proxy: the test's own view of the chain


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def outage() -> AsyncIterator[Outage]:
    node = await start_anvil(state_path=None)
    host, _, port = node.rpc_url.removeprefix("http://").rstrip("/").rpartition(":")
    proxy = ChaosProxy((host, int(port)))
    await proxy.start()
    try:
        async with ChainClient([node.rpc_url], backoff=0.05) as direct:
            yield Outage(node, proxy, direct)
    finally:
        await proxy.stop()
        await node.stop()


async def _sent_by(direct: ChainClient, address: str) -> list[dict[str, object]]:
    """Every mined transaction from ``address``."""
    found = []
    for number in range(await direct.block_number() + 1):
        block = await direct.rpc("eth_getBlockByNumber", [hex(number), True])
        found += [tx for tx in block["transactions"] if tx["from"].lower() == address.lower()]
    return found


async def _ride_out(outage: Outage, seconds: float, key_index: int) -> None:
    signer = KeySigner(dev_private_keys()[key_index])
    bus, statuses = EventBus(), []
    bus.subscribe(ChainStatus, statuses.append)
    tasks = TaskSupervisor("outage-test")
    async with ChainClient([f"http://{outage.proxy.endpoint}"], backoff=0.05, retries=2, timeout=2) as client:
        sender = TxSender(client, signer, policy=RIDE_OUT)
        tasks.spawn(poll_chain_status(client, bus, "devnet", client.chain_id, interval=0.2), name="status")
        start_nonce = await outage.direct.get_transaction_count(signer.address, "latest")
        await outage.direct.rpc("evm_setAutomine", [False])
        try:
            in_flight = asyncio.ensure_future(sender.transfer_eth(SINK, 12345))
            await eventually(lambda: len(sender.pending()) == 1)
            [tracked] = sender.pending()

            await outage.proxy.kill()
            await eventually(lambda: bool(statuses) and not statuses[-1].reachable)
            assert "reach" in statuses[-1].detail.lower() or "connect" in statuses[-1].detail.lower()
            await asyncio.sleep(seconds)  # the outage itself: the fault being injected, not a wait for state
            assert not in_flight.done()
            assert [p.nonce for p in sender.pending()] == [tracked.nonce]  # still tracked through the outage
            await outage.direct.rpc("evm_mine", [])  # mined while we could not see it
            await outage.proxy.start()

            receipt = await asyncio.wait_for(in_flight, RIDE_OUT.total_timeout)
        finally:
            await outage.direct.rpc("evm_setAutomine", [True])
        await eventually(lambda: statuses[-1].reachable)
        assert sender.pending() == []
        follow_up = await sender.transfer_eth(SINK, 1)  # the next nonce, no gap, no reuse
        await tasks.close()

    mined = await _sent_by(outage.direct, signer.address)
    assert [int(str(tx["nonce"]), 16) for tx in mined] == [start_nonce, start_nonce + 1]  # no duplicate
    assert {str(tx["hash"]).lower() for tx in mined} == {receipt.tx_hash.lower(), follow_up.tx_hash.lower()}
    assert receipt.tx_hash.lower() in [h.lower() for h in tracked.hashes]


async def test_a_short_rpc_outage_with_a_tx_in_flight_is_ridden_out(outage: Outage) -> None:
    await _ride_out(outage, 3.0, key_index=6)


@pytest.mark.slow
async def test_a_30_second_rpc_outage_with_a_tx_in_flight_is_ridden_out(outage: Outage) -> None:
    await _ride_out(outage, 30.0, key_index=7)
