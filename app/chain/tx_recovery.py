"""Crash recovery: after a restart, look up every journaled transaction of this wallet on the chain and settle it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from app.chain.errors import ChainUnreachableError
from app.chain.fees import Fees
from app.chain.tx import PendingTx, TxSender, receipt_hash
from app.chain.tx_journal import JournaledTx

log = logging.getLogger(__name__)

# waiting: still in the node's pool, being awaited · unresolved: still not mined when the bounded wait ended
Outcome = Literal["mined", "failed", "dropped", "waiting", "unresolved"]


@dataclass(frozen=True)
class RecoveredTransaction:
    """Event: a transaction sent before the app stopped was found again; ``message`` is one sentence for the user."""

    tx_hash: str  # the included version when mined, else the latest fee bump
    nonce: int
    purpose: str
    outcome: Outcome
    message: str


async def resume_pending(
    sender: TxSender,
    *,
    wait_s: float | None = None,
    publish: Callable[[RecoveredTransaction], None] | None = None,
) -> list[RecoveredTransaction]:
    """Settle the journaled, unsettled transactions of ``sender``'s wallet on its chain; the final outcome of each.

    Mined (or failed) ones are marked so; ones still in the node's pool are listed in ``sender.pending()`` and
    their nonces held while awaited, for at most ``wait_s`` (default: the sender's escalation timeout); ones the
    chain no longer knows are marked dropped and their nonce is free again. Every outcome is also passed to
    ``publish`` (the app's event bus), including ``waiting`` when the wait starts.
    """
    if sender.journal is None:
        return []
    rows = await sender.journal.unsettled(sender.address.lower(), sender.client.chain_id)
    by_nonce: dict[int, list[JournaledTx]] = {}
    for row in rows:
        by_nonce.setdefault(row.nonce, []).append(row)
    if by_nonce:
        log.info("resuming %d transaction(s) sent before the restart", len(by_nonce))
    limit = sender.policy.total_timeout if wait_s is None else wait_s
    report = publish or (lambda _: None)
    return list(await asyncio.gather(*(_resume(sender, group, limit, report) for _, group in sorted(by_nonce.items()))))


async def _resume(
    sender: TxSender, group: list[JournaledTx], wait_s: float, publish: Callable[[RecoveredTransaction], None]
) -> RecoveredTransaction:
    pending = PendingTx(group[-1].purpose, group[0].nonce, [row.tx_hash for row in group], Fees())
    deadline = time.monotonic() + wait_s
    held = False
    try:
        while True:
            try:
                state = await _look_up(sender, pending)
            except ChainUnreachableError as e:
                log.warning("looking up %s after the restart: %s", pending.tx_hash, e.user_message)
                state = "pending"
            if not isinstance(state, str) or state == "dropped" or time.monotonic() >= deadline:
                break
            if not held:
                held = True
                sender.track(pending)
                sender.nonces.hold(pending.nonce)
                publish(_event(pending, "waiting", f"{pending.purpose} (sent before the app stopped) is still "
                               f"waiting to be mined; the app is watching it ({pending.tx_hash})."))
            await asyncio.sleep(sender.policy.poll_interval)
    finally:
        if held:
            sender.untrack(pending)
            sender.nonces.release(pending.nonce)
    event = await _settle(sender, pending, state, wait_s)
    log.info("%s", event.message)
    publish(event)
    return event


async def _look_up(sender: TxSender, pending: PendingTx) -> dict[str, Any] | Literal["pending", "dropped"]:
    """The receipt of whichever version was included, else whether the node still holds one of them."""
    receipt = await _receipt(sender, pending)
    if receipt is not None:
        return receipt
    for tx_hash in pending.hashes:
        if await sender.client.rpc("eth_getTransactionByHash", [tx_hash]) is not None:
            return "pending"
    # Unknown to the node. Look once more: it may have been included between the two look-ups.
    mined_count = await sender.client.get_transaction_count(sender.address, "latest")
    receipt = await _receipt(sender, pending)
    if receipt is not None:
        return receipt
    log.info("nonce %d: none of %s is known (account nonce %d)", pending.nonce, pending.hashes, mined_count)
    return "dropped"


async def _receipt(sender: TxSender, pending: PendingTx) -> dict[str, Any] | None:
    for tx_hash in reversed(pending.hashes):
        receipt = await sender.client.get_transaction_receipt(tx_hash)
        if receipt is not None:
            return receipt
    return None


async def _settle(
    sender: TxSender, pending: PendingTx, state: dict[str, Any] | str, wait_s: float
) -> RecoveredTransaction:
    what = f"{pending.purpose} (sent before the app stopped, nonce {pending.nonce})"
    if isinstance(state, dict):
        await sender.settle(pending.hashes, state)
        block = int(state["blockNumber"])
        included = receipt_hash(state)
        if int(state.get("status", 1)) == 0:
            return _event(pending, "failed", f"{what} was included in block {block} but failed on chain: "
                          f"{included}. Check it in a block explorer and do it again if still needed.", included)
        return _event(pending, "mined", f"{what} was found and finished: mined in block {block} ({included}).",
                      included)
    if state == "dropped":
        await sender.journal_state(pending.hashes, "dropped")
        return _event(pending, "dropped", f"{what} was dropped by the network and will never be mined "
                      f"({pending.tx_hash}); do it again if it is still needed.")
    return _event(pending, "unresolved", f"{what} is still not mined after {wait_s:g} s ({pending.tx_hash}); the "
                  "app looks for it again at the next start. Check it in a block explorer.")


def _event(pending: PendingTx, outcome: Outcome, message: str, tx_hash: str | None = None) -> RecoveredTransaction:
    return RecoveredTransaction(tx_hash or pending.tx_hash, pending.nonce, pending.purpose, outcome, message)
