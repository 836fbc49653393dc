"""Writes whose cost depends on chain time are mined with enough gas when time moves between estimate and block."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from app.chain import diamond_abi as abi
from app.chain.client import ChainClient
from app.chain.diamond import Diamond
from app.chain.errors import ContractRevertError
from app.chain.fees import with_gas_margin
from app.chain.messages import encode_approval, encode_receipt
from app.chain.receipts import TxReceipt
from app.chain.tx import EscalationPolicy, TxSender
from app.wallet.signer import KeySigner
from tests.chain.protocol_env import MOR, PRICE, Party, Protocol, deploy_funded_protocol

STAKE = 50 * MOR
DAY = 86_400
# Held blocks are mined by the test, not by the clock: no fee bumps while a tx waits in the pool.
PATIENT = EscalationPolicy(check_interval=30.0, max_attempts=1, total_timeout=30.0, poll_interval=0.02)


@dataclass
class Market:
    env: Protocol
    bid_id: bytes
    user: Diamond  # the user's Diamond, sending with the patient policy
    provider: Diamond

    @property
    def client(self) -> ChainClient:
        return self.env.client


def _patient(env: Protocol, party: Party) -> Diamond:
    return Diamond(env.client, env.addresses.diamond, TxSender(env.client, party.signer, policy=PATIENT))


@pytest.fixture
async def market(anvil_client: ChainClient, signers: list[KeySigner]) -> Market:
    """A listed bid whose provider holds no MOR besides its stake (its first payment writes a fresh balance)."""
    env = await deploy_funded_protocol(anvil_client, signers)
    p = env.provider
    await p.token.approve(env.addresses.diamond, 10 * MOR)
    await p.diamond.provider_register(p.address, 5 * MOR, "127.0.0.1:3333")
    model = await p.diamond.model_register(p.address, b"\x42" * 32, b"\x07" * 32, 0, MOR, "llm", ["llm"])
    bid = await p.diamond.post_model_bid(p.address, model.id, PRICE)
    await p.token.transfer(env.owner.address, await p.token.balance_of(p.address))
    await env.user.token.approve(env.addresses.diamond, 2**256 - 1)
    return Market(env, bid.id, _patient(env, env.user), _patient(env, env.provider))


async def _mid_day(m: Market, days_ahead: int = 1) -> int:
    """A timestamp one hour into a UTC day ``days_ahead`` from now: early closes stay on their opening day."""
    now = await m.env.now()
    return now - now % DAY + days_ahead * DAY + 3600


async def _open_at(m: Market, ts: int) -> bytes:
    await m.client.rpc("evm_setNextBlockTimestamp", [ts])
    approval = encode_approval(m.bid_id, m.client.chain_id, m.env.user.address, ts)
    signature = m.env.provider.signer.sign_personal_hash(approval)
    return (await m.env.user.diamond.open_session(m.env.user.address, STAKE, False, approval, signature)).id


def _receipt(m: Market, session_id: bytes, ts: int) -> tuple[bytes, bytes]:
    receipt = encode_receipt(session_id, m.client.chain_id, ts, 1000, 100)
    return receipt, m.env.provider.signer.sign_personal_hash(receipt)


async def _close_at(m: Market, session_id: bytes, ts: int) -> None:
    await m.client.rpc("evm_setNextBlockTimestamp", [ts])
    await m.env.user.diamond.close_session(*_receipt(m, session_id, ts))


async def _plain_limit_runs_out(m: Market, writer: Diamond, data: bytes, at: int) -> None:
    """Sent with only the generic margin over its pending-block estimate, ``data`` mined at ``at`` runs out of gas.

    Tried on a snapshot that is then reverted, so the same write can next be made the way the app makes it.
    """
    assert writer.sender is not None
    sender = writer.sender
    call = {"from": sender.address, "to": m.env.addresses.diamond, "data": data}
    plain = with_gas_margin(await m.client.estimate_gas(call))
    snapshot = await m.client.rpc("evm_snapshot", [])
    try:
        with pytest.raises(ContractRevertError) as caught:
            await _mined_later(
                m, sender.address, lambda: sender.send(m.env.addresses.diamond, data, purpose="plain", gas=plain), at
            )
        assert caught.value.error_name == "OutOfGas"
    finally:
        await m.client.rpc("evm_revert", [snapshot])
        sender.nonces.invalidate()


async def _mined_later(m: Market, sender: str, write: Callable[[], Awaitable[TxReceipt]], at: int) -> TxReceipt:
    """Run ``write`` with automine off: it is estimated now, then mined in a block stamped ``at``."""
    await m.client.rpc("evm_setAutomine", [False])
    try:
        sent_before = await m.client.get_transaction_count(sender, "latest")
        task = asyncio.create_task(write())
        async with asyncio.timeout(10):
            while await m.client.get_transaction_count(sender, "pending") == sent_before:
                assert not task.done(), task  # a write that failed before broadcasting
                await asyncio.sleep(0.02)
        await m.client.rpc("evm_setNextBlockTimestamp", [at])
        await m.client.rpc("evm_mine", [])
        return await asyncio.wait_for(task, 10)
    finally:
        await m.client.rpc("evm_setAutomine", [True])


async def test_a_close_estimated_in_the_opening_second_and_mined_a_second_later_has_enough_gas(
    market: Market,
) -> None:
    # The fault-test race: the provider–model pair has only ever been closed in the opening second (stats at
    # zero, nothing paid, zero locks held); this close is estimated in its opening second too, on that cheap path,
    # but mined one second later: the provider is paid for the first time, a real lock is held, durations go
    # from zero to non-zero.
    t = await _mid_day(market)
    earlier = await _open_at(market, t)
    await _close_at(market, earlier, t)
    opened = t + 3600
    session_id = await _open_at(market, opened)
    receipt, signature = _receipt(market, session_id, opened)
    user = market.env.user.address
    await _plain_limit_runs_out(market, market.user, abi.CLOSE_SESSION.encode(receipt, signature), opened + 1)

    await _mined_later(market, user, lambda: market.user.close_session(receipt, signature), opened + 1)

    session = await market.user.get_session(session_id)
    assert session.closed_at == opened + 1
    assert session.provider_withdrawn_amount == PRICE  # the costlier path: one second paid to the provider


async def test_a_claim_estimated_before_the_session_end_and_mined_after_it_has_enough_gas(market: Market) -> None:
    # Before its end an active session owes the provider nothing (the claim returns early); after it, all of it.
    opened = await _mid_day(market)
    session_id = await _open_at(market, opened)
    ends_at = (await market.user.get_session(session_id)).ends_at
    provider = market.env.provider.address
    await _plain_limit_runs_out(market, market.provider, abi.CLAIM_FOR_PROVIDER.encode(session_id), ends_at + 1)

    await _mined_later(market, provider, lambda: market.provider.claim_for_provider(session_id), ends_at + 1)

    paid = (ends_at - opened) * PRICE
    assert (await market.user.get_session(session_id)).provider_withdrawn_amount == paid
    assert await market.env.provider.token.balance_of(provider) == paid


async def test_a_withdrawal_estimated_before_midnight_and_mined_after_it_releases_every_hold(market: Market) -> None:
    # Early closes hold a share of the stake until the next UTC midnight. Estimated late on day 1, the withdrawal
    # releases day 0's hold; mined just after midnight it also releases day 1's eight holds, each costing more.
    day0 = await _mid_day(market)
    holds_day0, holds_day1 = [day0], [day0 + DAY + 200 * i for i in range(8)]
    for ts in holds_day0 + holds_day1:
        await _close_at(market, await _open_at(market, ts), ts + 100)
    user = market.env.user.address
    midnight = day0 - day0 % DAY + 2 * DAY
    await market.client.rpc("evm_setNextBlockTimestamp", [midnight - 60])
    await market.client.rpc("evm_mine", [])
    await _plain_limit_runs_out(market, market.user, abi.WITHDRAW_USER_STAKES.encode(user, 255), midnight + 1)
    balance_before = await market.env.user.token.balance_of(user)

    await _mined_later(market, user, lambda: market.user.withdraw_user_stakes(user), midnight + 1)

    held = await market.user.user_stakes_on_hold(user)
    assert (held.available, held.on_hold) == (0, 0)  # every hold, today's included, was paid out
    assert await market.env.user.token.balance_of(user) > balance_before
