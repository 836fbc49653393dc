"""Services journals the unlocked wallet's transactions and, on every unlock, settles the ones left from before."""

from __future__ import annotations

from pathlib import Path

from app.bootstrap.services import Services
from app.chain.tx_recovery import RecoveredTransaction
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.events import EventBus
from app.wallet.manager import LockState, WalletManager
from tests.chain.conftest import eventually

# anvil's public dev key #5 — a throwaway key, never used outside local chains
DEV_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"
DEV_ADDRESS = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
SINK = "0x000000000000000000000000000000000000dEaD"
UNKNOWN = "0x" + "ab" * 32


async def test_an_unlock_settles_transactions_journaled_before_and_publishes_each_outcome(
    isolated_data_dir: Path,
) -> None:
    environ = {"WALLET_PRIVATE_KEY": DEV_KEY}
    settings = load_settings([], environ=environ, dotenv_path=isolated_data_dir / "absent.env")
    bus = EventBus()
    recovered: list[RecoveredTransaction] = []
    bus.subscribe(RecoveredTransaction, recovered.append)
    services = Services(load_node_config(settings), isolated_data_dir, bus=bus, devnet_engine="eth-tester",
                        wallet=WalletManager(isolated_data_dir, environ=environ), demo=False)
    try:
        await services.start()
        assert services.sender is not None and services.storage is not None and services.devnet is not None
        await services.devnet.faucet.fund(DEV_ADDRESS, eth_wei=10**18, mor_wei=0)
        receipt = await services.sender.transfer_eth(SINK, 1)
        store = services.storage
        row = await store.run(store.sync.pending_txs.get, receipt.tx_hash)
        assert row is not None and (row.state, row.sender) == ("mined", DEV_ADDRESS.lower())
        # As a crash would leave them: one tx whose receipt was never seen, one that never reached the chain.
        await store.run(store.sync.pending_txs.set_state, receipt.tx_hash, "pending")
        await store.run(store.sync.pending_txs.add, UNKNOWN, 50, "approving MOR", sender=DEV_ADDRESS,
                        chain_id=row.chain_id)
        assert recovered == []

        services.wallet.lock("manual")
        assert await services.wallet.refresh() is LockState.UNLOCKED
        await eventually(lambda: len(recovered) == 2)

        assert {(e.tx_hash, e.outcome) for e in recovered} == {(receipt.tx_hash, "mined"), (UNKNOWN, "dropped")}
        assert await store.run(store.sync.pending_txs.pending) == []
    finally:
        await services.stop()
