"""Crash recovery: after a restart, find every journaled transaction of this wallet on the chain and finish it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

from web3.exceptions import Web3RPCError

from app.chain.client import rpc_message
from app.chain.errors import ChainUnreachableError
from app.chain.fees import Fees
from app.chain.raw_tx import SignedTx, decode_signed_tx
from app.chain.tx import PendingTx, TxSender, receipt_hash
from app.chain.tx_journal import JournaledTx
from app.errors import ChainError, WalletError
from app.events import RecoveredTransaction as RecoveredTransaction  # re-exported: the type now lives in events
from app.events import RecoveryOutcome

log = logging.getLogger(__name__)

Outcome = RecoveryOutcome  # kept for callers that import it from here
State = dict[str, Any] | Literal["pending", "dropped", "replaced"]

# Answers to a rebroadcast meaning the node has the tx after all (a load-balanced RPC, or it arrived meanwhile).
_ALREADY_KNOWN = ("already known", "known transaction", "already imported", "already exists")
# Answers meaning its fee is now too low (nodes evict such txs from their pool): a fee bump can still send it.
_TOO_CHEAP = ("underpriced", "base fee", "fee cap", "fee too low", "feecap")


async def resume_pending(
    sender: TxSender,
    *,
    wait_s: float | None = None,
    publish: Callable[[RecoveredTransaction], None] | None = None,
) -> list[RecoveredTransaction]:
    """Finish the journaled, unsettled transactions of ``sender``'s wallet on its chain; the final outcome of each.

    Per nonce: a mined (or failed) version is marked so. One still in the node's pool is listed in
    ``sender.pending()`` with its nonce held and awaited for at most ``wait_s`` (default: the sender's escalation
    timeout); each ``policy.check_interval`` it stays pending it is re-signed with a bumped fee (the sender's live
    escalation, journaled before broadcast, up to ``policy.max_attempts`` versions in all). One the node no longer
    knows whose nonce is still free is rebroadcast from its journaled raw bytes (same hash, so never twice on
    chain) and then awaited the same way; without raw bytes (journaled by an older app) it is marked dropped. One
    whose nonce another transaction used is marked replaced. Every outcome, and the progress events (waiting,
    resent, bumped), are passed to ``publish`` (the app's event bus).
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
    recoveries = [_Recovery(sender, group, report) for _, group in sorted(by_nonce.items())]
    return list(await asyncio.gather(*(r.run(limit) for r in recoveries)))


class _Recovery:
    """One nonce group (the original and its fee bumps) being finished."""

    def __init__(self, sender: TxSender, group: list[JournaledTx], publish: Callable[[RecoveredTransaction], None]):
        self.sender = sender
        self.publish = publish
        self.pending = PendingTx(group[-1].purpose, group[0].nonce, [row.tx_hash for row in group], Fees())
        self.what = f"{self.pending.purpose} (sent before the app stopped, nonce {self.pending.nonce})"
        self.newest: SignedTx | None = None  # the newest version we hold the signed bytes of
        self.newest_raw = b""
        self.resent = False
        self.bump_now = False  # the node refused the lost tx as too cheap: bump without waiting an interval
        self.refusal = ""  # the node's answer when it refused a rebroadcast
        # Why the fee will not be raised ("" while it may be).
        self.no_bump = ""
        self._adopt(group)

    def _adopt(self, rows: list[JournaledTx]) -> None:
        """Take the newest row with decodable raw bytes as the version to rebroadcast and to bump from."""
        for row in reversed(rows):
            if row.raw is None:
                continue
            try:
                signed = decode_signed_tx(row.raw)
            except ChainError as e:
                log.warning("%s", e.user_message)
                continue
            if signed.tx_hash != row.tx_hash.lower() or signed.nonce != self.pending.nonce:
                log.warning("journaled bytes of %s do not match its hash or nonce; not using them", row.tx_hash)
                continue
            self.newest, self.newest_raw = signed, row.raw
            self.pending.fees = signed.fees
            return
        if self.newest is None:
            self.no_bump = "it was sent by an app version that kept no signed copy"

    async def run(self, wait_s: float) -> RecoveredTransaction:
        sender, pending, policy = self.sender, self.pending, self.sender.policy
        deadline = time.monotonic() + wait_s
        held = False
        next_bump = 0.0
        try:
            while True:
                try:
                    state = await self._look_up()
                    now = time.monotonic()
                    if not isinstance(state, str) or state != "pending" or now >= deadline:
                        break
                    if not held:
                        held = True
                        sender.track(pending)
                        sender.nonces.hold(pending.nonce)
                        next_bump = now + policy.check_interval
                        if not self.resent:  # the resent message already says it is being watched
                            self._report("waiting", f"{self.what} is still waiting to be mined; the app is "
                                         f"watching it{self._bump_note()} ({pending.tx_hash}).")
                    if (now >= next_bump or self.bump_now) and not self.no_bump:
                        self.bump_now = False
                        next_bump = now + policy.check_interval
                        await self._bump()
                except ChainUnreachableError as e:
                    log.warning("looking up %s after the restart: %s", pending.tx_hash, e.user_message)
                    state = "pending"
                    if time.monotonic() >= deadline:
                        break
                await asyncio.sleep(policy.poll_interval)
        finally:
            if held:
                sender.untrack(pending)
                sender.nonces.release(pending.nonce)
        event = await self._settle(state, wait_s)
        log.info("%s", event.message)
        self.publish(event)
        return event

    def _bump_note(self) -> str:
        if self.no_bump:
            return f" (its fee cannot be raised: {self.no_bump})"
        return ", and raises its fee if it stays stuck"

    async def _look_up(self) -> State:
        """The receipt of whichever version was included, else what became of the nonce (rebroadcasting if lost)."""
        sender, pending = self.sender, self.pending
        receipt = await self._receipt()
        if receipt is not None:
            return receipt
        for tx_hash in pending.hashes:
            if await sender.client.rpc("eth_getTransactionByHash", [tx_hash]) is not None:
                return "pending"
        if await self._reload_journal():
            return "pending"  # versions journaled since we looked (a bump cut off mid-send): look them up next
        mined_count = await sender.client.get_transaction_count(sender.address, "latest")
        # Look once more: it may have been included between the two look-ups.
        receipt = await self._receipt()
        if receipt is not None:
            return receipt
        if mined_count > pending.nonce:
            log.info("nonce %d was used by another transaction than %s", pending.nonce, pending.hashes)
            return "replaced"
        if self.newest is None:
            log.info("nonce %d: none of %s is known and no signed copy is kept", pending.nonce, pending.hashes)
            return "dropped"
        return await self._rebroadcast()

    async def _reload_journal(self) -> bool:
        """Re-read this nonce's versions (our own bumps included) so a rebroadcast sends the newest; whether
        the journal had versions we did not know of."""
        journal, pending = self.sender.journal, self.pending
        if journal is None:
            return False
        rows = [r for r in await journal.unsettled(self.sender.address.lower(), self.sender.client.chain_id)
                if r.nonce == pending.nonce]
        known = {h.lower() for h in pending.hashes}
        new = [r.tx_hash for r in rows if r.tx_hash.lower() not in known]
        pending.hashes.extend(new)
        self._adopt(rows)
        return bool(new)

    async def _rebroadcast(self) -> State:
        """Send the newest version's exact signed bytes again: the same hash, so it cannot be mined twice."""
        raw, signed = self.newest_raw, self.newest
        assert signed is not None
        try:
            await self.sender.client.request(lambda w3: w3.eth.send_raw_transaction(raw), raw_errors=True)
        except Web3RPCError as e:
            message = rpc_message(e)
            lowered = message.lower()
            if any(p in lowered for p in _ALREADY_KNOWN):
                return "pending"
            if "nonce too low" in lowered:  # the nonce was used meanwhile: by our tx, or by another one
                return await self._receipt() or "replaced"
            if any(p in lowered for p in _TOO_CHEAP) and not self.no_bump:
                log.info("rebroadcasting %s was refused as too cheap (%s): raising its fee", signed.tx_hash, message)
                self.bump_now = True
                return "pending"
            log.warning("rebroadcasting %s was refused: %s", signed.tx_hash, message)
            self.refusal = message
            return "dropped"
        if not self.resent:
            self.resent = True
            self._report("resent", f"{self.what} was no longer known to the network, so the app sent the same "
                         f"signed transaction again and is watching it{self._bump_note()} ({signed.tx_hash}); it "
                         "cannot be mined twice.", signed.tx_hash)
        return "pending"

    async def _bump(self) -> None:
        """Re-sign the newest version with a higher fee through the sender's live escalation step."""
        sender, pending, signed = self.sender, self.pending, self.newest
        assert signed is not None
        if len(pending.hashes) >= sender.policy.max_attempts:
            self.no_bump = f"it was already sent {len(pending.hashes)} times, the most the fee policy allows"
            log.info("%s: %s", self.what, self.no_bump)
            return
        before = pending.tx_hash
        try:
            # A tx from before the restart may be priced for long-gone fees: bump from today's if they are higher.
            pending.fees = _at_least(pending.fees, await sender.current_fees())
            await sender.replace_with_higher_fee(signed.base(sender.address), pending)
        except ChainUnreachableError:
            raise  # the node is away: the caller keeps polling
        except (WalletError, ChainError) as e:
            # A locked wallet cannot sign and a refused bump will be refused again: keep waiting, and say why.
            self.no_bump = e.user_message.rstrip(".")
            self._report("waiting", f"{self.what} is still waiting to be mined; its fee cannot be raised: "
                         f"{self.no_bump}. The app keeps watching it ({pending.tx_hash}).")
            return
        if pending.tx_hash != before:
            self._report("bumped", f"{self.what} was stuck, so the app sent it again with a "
                         f"{sender.policy.bump_percent} % higher fee ({pending.tx_hash}).")

    async def _receipt(self) -> dict[str, Any] | None:
        for tx_hash in reversed(self.pending.hashes):
            receipt = await self.sender.client.get_transaction_receipt(tx_hash)
            if receipt is not None:
                return receipt
        return None

    async def _settle(self, state: State, wait_s: float) -> RecoveredTransaction:
        sender, pending, what = self.sender, self.pending, self.what
        if isinstance(state, dict):
            await sender.settle(pending.hashes, state)
            block = int(state["blockNumber"])
            included = receipt_hash(state)
            if int(state.get("status", 1)) == 0:
                return self._event("failed", f"{what} was included in block {block} but failed on chain: "
                                   f"{included}. Check it in a block explorer and do it again if still needed.",
                                   included)
            return self._event("mined", f"{what} was found and finished: mined in block {block} ({included}).",
                               included)
        if state == "replaced":
            await sender.journal_state(pending.hashes, "replaced")
            return self._event("replaced", f"{what} will never be mined: another transaction with the same nonce "
                               f"was mined instead (was this wallet used in another app?) ({pending.tx_hash}); do "
                               "it again if it is still needed.")
        if state == "dropped":
            await sender.journal_state(pending.hashes, "dropped")
            if self.refusal:
                return self._event("dropped", f"{what} was lost by the network, and the node refused it when the "
                                   f"app sent it again: {self.refusal} ({pending.tx_hash}); do it again if it is "
                                   "still needed.")
            return self._event("dropped", f"{what} was dropped by the network and will never be mined "
                               f"({pending.tx_hash}); do it again if it is still needed.")
        return self._event("unresolved", f"{what} is still not mined after {wait_s:g} s ({pending.tx_hash}); the "
                           "app looks for it again at the next start. Check it in a block explorer.")

    def _report(self, outcome: Outcome, message: str, tx_hash: str | None = None) -> None:
        log.info("%s", message)
        self.publish(self._event(outcome, message, tx_hash))

    def _event(self, outcome: Outcome, message: str, tx_hash: str | None = None) -> RecoveredTransaction:
        pending = self.pending
        return RecoveredTransaction(tx_hash or pending.tx_hash, pending.nonce, pending.purpose, outcome, message)


def _at_least(fees: Fees, floor: Fees) -> Fees:
    """``fees`` with each component raised to ``floor``'s (when both are the same kind: legacy or EIP-1559)."""
    if fees.legacy != floor.legacy:
        return fees
    if fees.legacy:
        return Fees(gas_price=max(fees.gas_price, floor.gas_price))
    return Fees(max_fee=max(fees.max_fee, floor.max_fee), tip=max(fees.tip, floor.tip))
