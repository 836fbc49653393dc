"""TxSender: builds, signs locally, sends, escalates fees of stuck transactions and waits for receipts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils.crypto import keccak
from web3.exceptions import Web3RPCError

from app.chain.client import ChainClient, rpc_message
from app.chain.errors import ChainUnreachableError, ContractRevertError, TxRejectedError, TxTimeoutError
from app.chain.fees import Fees, bump, eip1559_fees, legacy_fees, with_gas_margin
from app.chain.nonce import NonceManager
from app.chain.receipts import TxReceipt
from app.chain.revert import decode_revert
from app.chain.tx_journal import JournaledTx, TxJournal, TxState
from app.chain.units import format_units
from app.errors import AppError, ChainError
from app.signer import Signer

log = logging.getLogger(__name__)

# Phrases nodes (geth, anvil, reth, eth-tester) use when a replacement arrives after the original was mined or
# is already in their pool: the tx is not lost, keep waiting for a receipt.
_ALREADY_HANDLED = ("already known", "nonce too low", "known transaction", "already imported", "replacement")


@dataclass(frozen=True)
class EscalationPolicy:
    """How long to wait and how to bump fees (Go router: check every 20 s, ≤ 5 attempts, +15 %, 3 min total)."""

    check_interval: float = 20.0
    max_attempts: int = 5
    total_timeout: float = 180.0
    bump_percent: int = 15
    poll_interval: float = 1.0


@dataclass
class PendingTx:
    """A sent but not yet mined transaction; ``hashes`` lists the original and every fee-bumped replacement."""

    purpose: str
    nonce: int
    hashes: list[str]
    fees: Fees
    sent_at: float = field(default_factory=time.time)

    @property
    def tx_hash(self) -> str:
        return self.hashes[-1]


class TxSender:
    """Sends transactions from one Signer's address. Safe for concurrent use from many tasks."""

    def __init__(
        self,
        client: ChainClient,
        signer: Signer,
        *,
        legacy: bool = False,
        policy: EscalationPolicy | None = None,
        gas_margin_percent: int = 20,
        journal: TxJournal | None = None,
    ) -> None:
        self.client = client
        self.signer = signer
        self.legacy = legacy
        self.policy = policy or EscalationPolicy()
        self.gas_margin_percent = gas_margin_percent
        self.nonces = NonceManager(lambda: client.get_transaction_count(signer.address, "pending"))
        self._pending: dict[int, PendingTx] = {}
        self.journal = journal

    @property
    def address(self) -> str:
        return self.signer.address

    def pending(self) -> list[PendingTx]:
        """Transactions sent and not yet mined (a caller can find its tx again by purpose or nonce)."""
        return sorted(self._pending.values(), key=lambda p: p.nonce)

    def track(self, pending: PendingTx) -> None:
        """List a transaction sent before (e.g. by the app before a restart) in ``pending()`` while it is awaited."""
        self._pending.setdefault(pending.nonce, pending)

    def untrack(self, pending: PendingTx) -> None:
        """Stop listing a transaction given to ``track``."""
        if self._pending.get(pending.nonce) is pending:
            del self._pending[pending.nonce]

    async def current_fees(self) -> Fees:
        """EIP-1559 fees (``tip + 2 × baseFee``), or legacy gasPrice when configured or the chain has no base fee."""
        if not self.legacy:
            block = await self.client.get_block("latest")
            base_fee = block.get("baseFeePerGas")
            if base_fee is not None:
                try:
                    tip = await self.client.max_priority_fee()
                except ChainUnreachableError:
                    raise
                except ChainError:  # a node without eth_maxPriorityFeePerGas: 1 gwei like most wallets
                    tip = 10**9
                return eip1559_fees(int(base_fee), tip)
        return legacy_fees(await self.client.gas_price())

    def _build(self, base: dict[str, Any], nonce: int, fees: Fees) -> dict[str, Any]:
        tx = dict(base)
        tx["nonce"] = nonce
        tx["chainId"] = self.client.chain_id
        tx.update(fees.as_tx_fields())
        if not fees.legacy:
            tx["type"] = 2
        return tx

    async def _broadcast(self, tx: dict[str, Any], purpose: str) -> str:
        raw = self.signer.sign_transaction(tx)
        # The hash of a signed tx (legacy or typed) is keccak of its raw bytes: journal it before it can leave.
        tx_hash = "0x" + keccak(raw).hex()
        await self._journal_sent(tx_hash, int(tx["nonce"]), purpose, raw)
        # An unreachable node or a cancellation leaves the row pending: the raw tx may or may not have arrived,
        # and a restart (or the caller's retry) finds out which.
        try:
            await self.client.request(lambda w3: w3.eth.send_raw_transaction(raw), raw_errors=True)
        except Web3RPCError as e:
            await self.journal_state([tx_hash], "dropped")
            message = rpc_message(e)
            raise TxRejectedError(f"The node rejected the transaction for {purpose}: {_explain(message)}") from e
        return tx_hash

    async def _journal_sent(self, tx_hash: str, nonce: int, purpose: str, raw: bytes) -> None:
        if self.journal is None:
            return
        # The raw bytes let a restart rebroadcast the exact tx (same hash) if the node has lost it.
        entry = JournaledTx(tx_hash, nonce, purpose, self.address.lower(), self.client.chain_id, raw)
        try:
            await self.journal.record_sent(entry)
        except AppError as e:
            # The chain stays the source of truth; a journal that cannot be written only costs crash recovery.
            log.warning("could not journal %s (%s): %s", tx_hash, purpose, e.user_message)

    async def journal_state(self, tx_hashes: Sequence[str], state: TxState) -> None:
        """Record the fate of journaled transactions (no-op without a journal; a journal failure is logged)."""
        if self.journal is None or not tx_hashes:
            return
        try:
            await self.journal.record_state(list(tx_hashes), state)
        except AppError as e:
            log.warning("could not record %s as %s: %s", ", ".join(tx_hashes), state, e.user_message)

    async def settle(self, hashes: Sequence[str], receipt: dict[str, Any]) -> None:
        """Journal the included hash as mined (or failed, status 0) and its other versions as replaced."""
        included = receipt_hash(receipt)
        ok = int(receipt.get("status", 1)) != 0
        await self.journal_state([included], "mined" if ok else "failed")
        await self.journal_state([h for h in hashes if h.lower() != included], "replaced")

    async def send(
        self,
        to: str | None,
        data: bytes = b"",
        *,
        value: int = 0,
        purpose: str,
        gas: int | None = None,
    ) -> TxReceipt:
        """Send one transaction and wait for it to be mined; raises a decoded revert for status 0."""
        base: dict[str, Any] = {"from": self.address, "value": value, "data": data}
        if to is not None:
            base["to"] = to
        if gas is None:
            estimate = await self.client.estimate_gas(base, context=purpose)
            gas = with_gas_margin(estimate, self.gas_margin_percent)
        base["gas"] = gas
        fees = await self.current_fees()
        async with self.nonces.reserve() as nonce:
            tx_hash = await self._broadcast(self._build(base, nonce, fees), purpose)
            pending = PendingTx(purpose, nonce, [tx_hash], fees)
            self._pending[nonce] = pending
        log.info("sent %s: %s (nonce %d)", purpose, tx_hash, nonce)
        try:
            raw_receipt = await self._wait_escalating(base, pending)
        finally:
            self._pending.pop(nonce, None)
        await self.settle(pending.hashes, raw_receipt)
        if int(raw_receipt.get("status", 1)) == 0:
            raise await self._explain_failure(base, raw_receipt, purpose)
        return TxReceipt.from_rpc(raw_receipt)

    async def _wait_escalating(self, base: dict[str, Any], pending: PendingTx) -> dict[str, Any]:
        policy = self.policy
        start = time.monotonic()
        next_bump = start + policy.check_interval
        attempts = 1
        while True:
            try:
                for tx_hash in reversed(pending.hashes):
                    receipt = await self.client.get_transaction_receipt(tx_hash)
                    if receipt is not None:
                        return receipt
                now = time.monotonic()
                if now - start >= policy.total_timeout:
                    break
                if now >= next_bump and attempts < policy.max_attempts:
                    attempts += 1
                    next_bump = now + policy.check_interval
                    await self._replace(base, pending, policy.bump_percent)
            except ChainUnreachableError as e:
                # The tx is already out; an RPC outage must not lose track of it. Keep polling until the deadline.
                log.warning("waiting for %s: %s", pending.tx_hash, e.user_message)
                if time.monotonic() - start >= policy.total_timeout:
                    break
            await asyncio.sleep(policy.poll_interval)
        # The stuck tx may still be in some pool: resync from the node's pending count for the next send.
        self.nonces.invalidate()
        raise TxTimeoutError(
            f"{pending.purpose} was not mined within {policy.total_timeout:g} s, even after raising its fee "
            f"{attempts - 1} time(s) (nonce {pending.nonce}, last tx {pending.tx_hash}). The network may be "
            "congested or the RPC node dropped it: check the transaction in a block explorer, then try again.",
            tx_hashes=tuple(pending.hashes),
            nonce=pending.nonce,
        )

    async def replace_with_higher_fee(self, base: dict[str, Any], pending: PendingTx) -> None:
        """Re-sign ``pending`` (same nonce and ``base`` fields) with fees bumped by the policy, journal it, send it.

        The live escalation step, for a tx this sender did not send itself (one recovered after a restart).
        """
        await self._replace(base, pending, self.policy.bump_percent)

    async def _replace(self, base: dict[str, Any], pending: PendingTx, percent: int) -> None:
        fees = bump(pending.fees, percent)
        try:
            tx_hash = await self._broadcast(self._build(base, pending.nonce, fees), pending.purpose)
        except TxRejectedError as e:
            if any(p in e.user_message.lower() for p in _ALREADY_HANDLED):
                log.info("replacement for nonce %d not needed: %s", pending.nonce, e.user_message)
                return
            raise
        pending.fees = fees
        pending.hashes.append(tx_hash)
        log.warning("%s stuck; re-sent with fee cap %d wei: %s", pending.purpose, fees.cap, tx_hash)

    async def _explain_failure(self, base: dict[str, Any], receipt: dict[str, Any], purpose: str) -> ChainError:
        """Replay a failed tx as a call just before its block to learn the revert reason."""
        block = int(receipt["blockNumber"])
        call = {k: v for k, v in base.items() if k in ("from", "to", "data", "value", "gas")}
        out_of_gas = _ran_out_of_gas(int(receipt.get("gasUsed") or 0), int(base.get("gas") or 0))
        try:
            await self.client.request(lambda w3: w3.eth.call(call, block - 1), raw_errors=True)  # type: ignore[arg-type]
        except Exception as e:  # any error here carries the reason we are after
            error = self.client.revert_error(e, purpose)
            # A bare revert from a replay that used up its gas is the out-of-gas itself, not a reason.
            if isinstance(error, ContractRevertError) and (error.data or not out_of_gas):
                return error
        if out_of_gas:
            return ContractRevertError(
                f"{purpose} failed: the transaction ran out of gas (the chain state or time changed after the gas "
                "estimate); try again", "OutOfGas")
        return decode_revert(b"", purpose)

    async def transfer_eth(self, to: str, value: int) -> TxReceipt:
        """Send plain ETH."""
        return await self.send(to, b"", value=value, purpose=f"sending {format_units(value, 'ETH')}", gas=21_000)

    async def deploy(self, bytecode: bytes, purpose: str) -> TxReceipt:
        """Deploy a contract from creation bytecode; the receipt has ``contract_address``."""
        receipt = await self.send(None, bytecode, purpose=purpose)
        if not receipt.contract_address:
            raise ChainError(f"{purpose}: the transaction was mined but created no contract.")
        return receipt


def receipt_hash(receipt: dict[str, Any]) -> str:
    """A raw receipt's transactionHash (HexBytes, bytes or hex text) as lower-case 0x-hex."""
    value = receipt["transactionHash"]
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


def _ran_out_of_gas(used: int, limit: int) -> bool:
    """Whether a failed tx used (nearly) all its gas.

    An out-of-gas inside a call (the Diamond's delegatecall to a facet) leaves the caller the 1/64 of gas that
    EIP-150 withholds, so the outer frame reverts with empty data having used at least 63/64 of the limit.
    """
    return limit > 0 and used * 64 >= limit * 63


def _explain(message: str) -> str:
    lowered = message.lower()
    if "insufficient funds" in lowered or "cannot afford" in lowered:
        return f"{message} — the wallet does not have enough ETH for gas; add ETH to it and try again"
    if "nonce too low" in lowered:
        return f"{message} — another wallet using the same key sent a transaction; try again"
    if "underpriced" in lowered or "fee cap" in lowered:
        return f"{message} — the fee is too low for the network right now; try again"
    return message
