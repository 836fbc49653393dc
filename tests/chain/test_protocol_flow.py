"""The whole marketplace lifecycle through app.chain on anvil and on eth-tester (both over JSON-RPC)."""

from __future__ import annotations

import pytest

from app.chain import diamond_abi as abi
from app.chain.client import ChainClient
from app.chain.errors import ContractRevertError
from app.chain.messages import encode_approval, encode_receipt
from app.wallet.signer import KeySigner
from tests.chain.protocol_env import MOR, PRICE, Protocol, deploy_funded_protocol

BASE_MODEL = b"\x42" * 32
CID = b"\x07" * 32
STAKE = 50 * MOR


@pytest.fixture
async def env(client: ChainClient, signers: list[KeySigner]) -> Protocol:
    return await deploy_funded_protocol(client, signers)


async def _open(env: Protocol, bid_id: bytes) -> tuple[bytes, int]:
    """User opens a stake-mode session with a fresh provider approval; returns (session id, its block time)."""
    approval = encode_approval(bid_id, env.client.chain_id, env.user.address, await env.now())
    signature = env.provider.signer.sign_personal_hash(approval)
    async with env.user.token.reserve_allowance(env.addresses.diamond, STAKE):
        created = await env.user.diamond.open_session(env.user.address, STAKE, False, approval, signature)
    assert await env.user.diamond.is_provider_approval_used(approval)
    block = await env.client.get_block(created.receipt.block_number)
    return created.id, int(block["timestamp"])


async def _listed_bid(env: Protocol) -> tuple[bytes, bytes]:
    p = env.provider
    await p.token.approve(env.addresses.diamond, 10 * MOR)
    await p.diamond.provider_register(p.address, 5 * MOR, "127.0.0.1:3333")
    model = await p.diamond.model_register(p.address, BASE_MODEL, CID, 0, MOR, "llama-3", ["llm", "8b"])
    bid = await p.diamond.post_model_bid(p.address, model.id, PRICE)
    return model.id, bid.id


@pytest.mark.slow
async def test_full_lifecycle_register_bid_open_close_withdraw_claim(env: Protocol) -> None:
    d = env.user.diamond
    provider, user = env.provider, env.user
    provider_start = await provider.token.balance_of(provider.address)

    model_id, bid_id = await _listed_bid(env)

    # Registration and the bid, read back (single and batched through Multicall3).
    assert model_id == await d.get_model_id(provider.address, BASE_MODEL)
    assert await provider.token.balance_of(provider.address) == provider_start - 5 * MOR - MOR - 3 * MOR // 10
    assert await d.fee_balance() == await d.bid_fee() == 3 * MOR // 10
    [registered] = await d.get_providers([provider.address])
    assert (registered.endpoint, registered.stake, registered.is_active) == ("127.0.0.1:3333", 5 * MOR, True)
    [model] = await d.get_models([model_id])
    assert (model.name, model.tags, model.owner, model.stake) == ("llama-3", ("llm", "8b"), provider.address, MOR)
    [bid] = await d.get_bids([bid_id])
    assert (bid.provider, bid.model_id, bid.price_per_second, bid.nonce, bid.is_active) == (
        provider.address, model_id, PRICE, 0, True,
    )  # fmt: skip
    assert (await d.active_providers(0, 0)).total == 1
    assert (await d.model_active_bids(model_id, 0, 100)).items == (bid_id,)
    assert await d.read_all(abi.GET_ACTIVE_MODEL_IDS) == [model_id]

    # Open: endsAt follows the stipend formula stake × computeBalance / (supply × 100) / price.
    user_before_open = await user.token.balance_of(user.address)
    session_id, opened_at = await _open(env, bid_id)
    session = await d.get_session(session_id)
    compute, supply = await d.compute_balance(opened_at), await d.total_mor_supply(opened_at)
    stipend = STAKE * compute // (supply * 100)
    assert session.ends_at == opened_at + min(86400, stipend // PRICE)
    assert (session.user, session.bid_id, session.stake, session.is_active) == (user.address, bid_id, STAKE, True)
    assert await user.token.balance_of(user.address) == user_before_open - STAKE
    assert (await d.user_sessions(user.address, 0, 0)).total == 1

    # Early close with the provider's signed 224-byte receipt: provider paid, part of the stake on hold.
    await env.travel(600)
    receipt = encode_receipt(session_id, env.client.chain_id, await env.now(), 12_345, 250, 100, 200)
    assert len(receipt) == 224
    provider_before, user_before = (
        await provider.token.balance_of(provider.address),
        await user.token.balance_of(user.address),
    )
    closed = await user.diamond.close_session(receipt, provider.signer.sign_personal_hash(receipt))
    assert closed.one("SessionClosed").args == {
        "user": user.address, "sessionId": session_id, "providerId": provider.address,
    }  # fmt: skip
    session = await d.get_session(session_id)
    assert (session.is_active, session.disputed) == (False, False)
    paid = (session.closed_at - session.opened_at) * PRICE
    assert await provider.token.balance_of(provider.address) == provider_before + paid
    held = await d.user_stakes_on_hold(user.address)
    assert held.on_hold > 0
    assert await user.token.balance_of(user.address) == user_before + STAKE - held.on_hold
    stats = await d.provider_model_stats(model_id, provider.address)
    assert (stats.success_count, stats.total_count, stats.tps_scaled1000.mean) == (1, 1, 12_345)
    assert (await d.model_stats(model_id)).count == 1

    # Past the next UTC midnight the held slice is released and withdrawn.
    now = await env.now()
    await env.travel(86400 - now % 86400 + 10)
    user_before = await user.token.balance_of(user.address)
    await user.diamond.withdraw_user_stakes(user.address)
    assert await user.token.balance_of(user.address) == user_before + held.on_hold
    assert await d.user_stakes_on_hold(user.address) == type(held)(0, 0)

    # Another session, left open past its end, is claimed in full by the provider.
    second_id, _ = await _open(env, bid_id)
    second = await d.get_session(second_id)
    await env.travel(second.ends_at - await env.now() + 5)
    provider_before = await provider.token.balance_of(provider.address)
    await provider.diamond.claim_for_provider(second_id)
    earned = (second.ends_at - second.opened_at) * PRICE
    assert await provider.token.balance_of(provider.address) == provider_before + earned
    assert await d.providers_total_claimed() == paid + earned
    assert [s.provider_withdrawn_amount for s in await d.get_sessions([session_id, second_id])] == [paid, earned]
    assert await d.total_sessions(provider.address) == 2


async def test_stake_below_minimum_reverts_with_words(env: Protocol) -> None:
    p = env.provider
    await p.token.approve(env.addresses.diamond, MOR)
    with pytest.raises(ContractRevertError) as caught:
        await p.diamond.provider_register(p.address, 5 * MOR // 100, "127.0.0.1:3333")
    assert caught.value.error_name == "ProviderStakeTooLow"
    assert caught.value.args == (5 * MOR // 100, 2 * MOR // 10)
    assert "provider stake too low: 0.05 MOR < 0.2 MOR minimum" in caught.value.user_message
    await p.diamond.provider_register(p.address, 2 * MOR // 10, "127.0.0.1:3333")  # the nonce is still right
    assert await p.diamond.is_provider_active(p.address)


async def test_live_parameters_are_read_from_the_chain(env: Protocol) -> None:
    d = env.user.diamond
    assert await d.provider_minimum_stake() == 2 * MOR // 10
    assert await d.model_minimum_stake() == MOR // 10
    assert await d.min_max_bid_price_per_second() == (10**10, 2 * 10**19)
    assert await d.max_session_duration() == 86400
    assert len(await d.pools()) == 5
    assert await d.funding_account() == env.funding.address
    assert await d.token_address() == env.addresses.token
    assert await d.owner() == env.owner.address
    now = await env.now()
    assert await d.todays_budget(now) == await d.compute_balance(now) // 100 > 0
    assert await d.total_mor_supply(now) > 0
    assert await d.supports(abi.WITHDRAW_USER_STAKES)
    assert await env.user.token.total_supply() == 42_000_000 * MOR
