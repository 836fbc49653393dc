"""StorageTxJournal: the TxSender journal kept in the node database (the pending_transactions table)."""

from __future__ import annotations

from collections.abc import Sequence

from app.chain.tx_journal import JournaledTx, TxState
from app.storage.store import AsyncStorage


class StorageTxJournal:
    """Implements ``app.chain.tx_journal.TxJournal`` on ``AsyncStorage``; every write commits before returning."""

    def __init__(self, storage: AsyncStorage) -> None:
        self.storage = storage

    async def record_sent(self, tx: JournaledTx) -> None:
        await self.storage.run(self.storage.sync.pending_txs.add, tx.tx_hash, tx.nonce, tx.purpose,
                               sender=tx.sender, chain_id=tx.chain_id, raw=tx.raw)

    async def record_state(self, tx_hashes: Sequence[str], state: TxState) -> None:
        for tx_hash in tx_hashes:
            await self.storage.run(self.storage.sync.pending_txs.set_state, tx_hash, state)

    async def unsettled(self, sender: str, chain_id: int) -> list[JournaledTx]:
        rows = await self.storage.run(self.storage.sync.pending_txs.pending, sender, chain_id)
        return [JournaledTx(r.hash, r.nonce, r.purpose, r.sender, r.chain_id, r.raw) for r in rows]
