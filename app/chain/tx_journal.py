"""The pending-transaction journal port: what TxSender records so a restarted app can find its transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

# pending: sent, fate unknown · mined: included with status 1 · failed: included with status 0 ·
# replaced: another tx with the same nonce (a fee bump) was included · dropped: never included and never will be.
TxState = Literal["pending", "mined", "failed", "dropped", "replaced"]


@dataclass(frozen=True)
class JournaledTx:
    """One signed transaction (an original or a fee-bumped replacement) as the journal knows it."""

    tx_hash: str
    nonce: int
    purpose: str
    sender: str
    chain_id: int
    # The signed bytes as broadcast: public, so no secret, but kept out of reprs and logs (they are long).
    # None for rows journaled before the app kept them; such a tx can be looked up but not sent again.
    raw: bytes | None = field(default=None, repr=False)


class TxJournal(Protocol):
    """Durable record of sent transactions (the app wires a storage-backed one; app/chain never imports storage).

    ``record_sent`` is called before the signed transaction is broadcast, so a crash at any later point leaves
    its hash and raw bytes behind; every bump is recorded the same way.
    """

    async def record_sent(self, tx: JournaledTx) -> None: ...

    async def record_state(self, tx_hashes: Sequence[str], state: TxState) -> None: ...

    async def unsettled(self, sender: str, chain_id: int) -> list[JournaledTx]: ...
