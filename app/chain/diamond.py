"""The Diamond wrapper: typed views plus every state-changing call, returning decoded receipts and ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.chain import diamond_abi as abi
from app.chain.abi import Function
from app.chain.client import ChainClient
from app.chain.diamond_views import DiamondViews
from app.chain.fees import with_gas_margin
from app.chain.multicall import Multicall
from app.chain.receipts import TxReceipt
from app.chain.records import Pool
from app.chain.tx import TxSender
from app.chain.units import format_mor
from app.errors import ChainError

# Fixed gas added to the estimate (and its usual margin) of calls whose cost depends on the block's timestamp.
# The estimate runs on the pending block, but the tx is mined in a later one: anvil's pending block carries the
# latest block's timestamp until its clock ticks, and on any chain a tx can wait a block or more. An estimate
# made at the opening second (or before a session's end, or before UTC midnight) takes a cheap early-return
# path that the mined block no longer takes, and the 20 % margin does not cover the difference.
# Each figure is the worst difference measured on anvil between the estimate of the cheap path and the gas the
# costly path needs, plus ~20 %. Unused gas is refunded: the headroom costs nothing unless the tx would fail.
#
# closeSession estimated in the opening second pays the provider nothing, holds a zero lock and adds zero
# durations to the stats; a second later it pays the provider (first payment, to a zero balance), holds a real
# lock and the duration stats become non-zero: +139,097 gas (492,157 -> 631,254). A late close is cheaper.
CLOSE_SESSION_HEADROOM = 170_000
# claimForProvider before a session's end (or before the midnight that frees a disputed close) returns early
# with nothing owed; after it, it pays: +109,955 gas (44,004 -> 153,959).
CLAIM_FOR_PROVIDER_HEADROOM = 130_000
# withdrawUserStakes estimated before UTC midnight skips today's holds; mined after it, it releases each of them
# (~9,200 gas apiece): +73,614 gas for 8 holds. With the 20 % margin this covers at least 10 same-day early
# closes; a user with more who withdraws across midnight gets the out-of-gas error and retries.
WITHDRAW_USER_STAKES_HEADROOM = 100_000
# openSession measured the same at +0, +1 and +60 s: it gets no headroom.

# The headroom of each time-dependent call, by selector: the one place both the send and the GUI's fee preview
# (``gas_limit``) read it, so the "needs up to X ETH" figure is the limit the transaction is sent with.
HEADROOM_BY_SELECTOR: dict[bytes, int] = {
    abi.CLOSE_SESSION.selector: CLOSE_SESSION_HEADROOM,
    abi.CLAIM_FOR_PROVIDER.selector: CLAIM_FOR_PROVIDER_HEADROOM,
    abi.WITHDRAW_USER_STAKES.selector: WITHDRAW_USER_STAKES_HEADROOM,
}


@dataclass(frozen=True)
class Created:
    """A write that produced an id (bid, model or session), with its receipt."""

    id: bytes
    receipt: TxReceipt


class Diamond(DiamondViews):
    """All Diamond calls; writes are sent by ``sender`` (views work without one)."""

    def __init__(
        self,
        client: ChainClient,
        address: str,
        sender: TxSender | None = None,
        multicall: Multicall | None = None,
    ) -> None:
        super().__init__(client, address, multicall)
        self.sender = sender

    def with_sender(self, sender: TxSender) -> Diamond:
        """The same Diamond, writing from another account."""
        return Diamond(self.client, self.address, sender, self.multicall)

    async def gas_limit(self, data: bytes, *, purpose: str) -> int:
        """The gas limit a write of calldata ``data`` is sent with: the estimate, the sender's margin and, for the
        time-dependent calls, their headroom. A call that would revert raises its decoded reason here.

        Previews call this with the plan's calldata so the fee they show is the fee the send may take.
        """
        if self.sender is None:
            raise ChainError(f"Cannot {purpose}: no wallet is unlocked for sending transactions.")
        call = {"from": self.sender.address, "to": self.address, "value": 0, "data": data}
        estimate = await self.client.estimate_gas(call, context=purpose)
        return with_gas_margin(estimate, self.sender.gas_margin_percent) + HEADROOM_BY_SELECTOR.get(data[:4], 0)

    async def _write(self, fn: Function, *args: Any, purpose: str) -> TxReceipt:
        """Send ``fn(*args)`` with the limit :meth:`gas_limit` gives."""
        if self.sender is None:
            raise ChainError(f"Cannot {purpose}: no wallet is unlocked for sending transactions.")
        data = fn.encode(*args)
        gas = await self.gas_limit(data, purpose=purpose)
        return await self.sender.send(self.address, data, purpose=purpose, gas=gas)

    # -- providers and models ---------------------------------------------------------------------------------
    async def provider_register(self, provider: str, amount: int, endpoint: str) -> TxReceipt:
        return await self._write(
            abi.PROVIDER_REGISTER, provider, amount, endpoint, purpose=f"registering provider {endpoint}"
        )

    async def provider_deregister(self, provider: str) -> TxReceipt:
        return await self._write(abi.PROVIDER_DEREGISTER, provider, purpose="deregistering the provider")

    async def model_register(
        self,
        owner: str,
        base_model_id: bytes,
        ipfs_cid: bytes,
        fee: int,
        amount: int,
        name: str,
        tags: list[str],
    ) -> Created:
        """Register (or update) a model; the id is ``getModelId(owner, baseModelId)``."""
        receipt = await self._write(
            abi.MODEL_REGISTER, owner, base_model_id, ipfs_cid, fee, amount, name, tags,
            purpose=f"registering model {name}",
        )  # fmt: skip
        return Created(receipt.one("ModelRegisteredUpdated", self.address).args["modelId"], receipt)

    async def model_deregister(self, model_id: bytes) -> TxReceipt:
        return await self._write(abi.MODEL_DEREGISTER, model_id, purpose="deregistering the model")

    # -- marketplace ------------------------------------------------------------------------------------------
    async def post_model_bid(self, provider: str, model_id: bytes, price_per_second: int) -> Created:
        """Post a bid (the fee is charged); the id is derived from ``MarketplaceBidPosted`` via ``getBidId``."""
        receipt = await self._write(
            abi.POST_MODEL_BID, provider, model_id, price_per_second,
            purpose=f"posting a bid at {format_mor(price_per_second)}/s",
        )  # fmt: skip
        posted = receipt.one("MarketplaceBidPosted", self.address)
        bid_id = await self.get_bid_id(posted.args["provider"], posted.args["modelId"], posted.args["nonce"])
        return Created(bid_id, receipt)

    async def delete_model_bid(self, bid_id: bytes) -> TxReceipt:
        return await self._write(abi.DELETE_MODEL_BID, bid_id, purpose="deleting the bid")

    # -- sessions ---------------------------------------------------------------------------------------------
    async def open_session(
        self, user: str, amount: int, direct: bool, approval: bytes, approval_signature: bytes
    ) -> Created:
        """Open a session with a provider-signed approval; the id comes from ``SessionOpened``."""
        receipt = await self._write(
            abi.OPEN_SESSION, user, amount, direct, approval, approval_signature,
            purpose=f"opening a session staking {format_mor(amount)}",
        )  # fmt: skip
        return Created(receipt.one("SessionOpened", self.address).args["sessionId"], receipt)

    async def close_session(self, receipt_data: bytes, signature: bytes) -> TxReceipt:
        return await self._write(abi.CLOSE_SESSION, receipt_data, signature, purpose="closing the session")

    async def claim_for_provider(self, session_id: bytes) -> TxReceipt:
        return await self._write(abi.CLAIM_FOR_PROVIDER, session_id, purpose="claiming the provider's earnings")

    async def withdraw_user_stakes(self, user: str, iterations: int = 255) -> TxReceipt:
        """Withdraw stakes released from hold (after the UTC midnight following an early close)."""
        return await self._write(abi.WITHDRAW_USER_STAKES, user, iterations, purpose="withdrawing released stakes")

    # -- owner-only settings ----------------------------------------------------------------------------------
    async def set_provider_min_stake(self, amount: int) -> TxReceipt:
        return await self._write(abi.PROVIDER_SET_MIN_STAKE, amount, purpose="setting the provider minimum stake")

    async def set_model_min_stake(self, amount: int) -> TxReceipt:
        return await self._write(abi.MODEL_SET_MIN_STAKE, amount, purpose="setting the model minimum stake")

    async def set_bid_fee(self, amount: int) -> TxReceipt:
        return await self._write(abi.SET_BID_FEE, amount, purpose="setting the bid fee")

    async def set_min_max_bid_price_per_second(self, low: int, high: int) -> TxReceipt:
        return await self._write(abi.SET_MIN_MAX_PRICE, low, high, purpose="setting the bid price range")

    async def set_max_session_duration(self, seconds: int) -> TxReceipt:
        return await self._write(abi.SET_MAX_SESSION_DURATION, seconds, purpose="setting the max session duration")

    async def set_pool_config(self, index: int, pool: Pool) -> TxReceipt:
        return await self._write(abi.SET_POOL_CONFIG, index, pool.as_tuple(), purpose=f"configuring pool {index}")

    async def withdraw_fee(self, recipient: str, amount: int) -> TxReceipt:
        return await self._write(abi.WITHDRAW_FEE, recipient, amount, purpose="withdrawing marketplace fees")
