"""MOR token wrapper: transfers, allowance top-ups only when short, concurrent session opens without races."""

from __future__ import annotations

import asyncio

from app.chain.client import ChainClient
from app.chain.messages import encode_approval
from app.wallet.signer import KeySigner
from tests.chain.protocol_env import MOR, Protocol, deploy_funded_protocol
from tests.chain.test_protocol_flow import _listed_bid


async def test_ensure_allowance_sends_a_tx_only_when_the_allowance_is_short(
    anvil_client: ChainClient, signers: list[KeySigner]
) -> None:
    env = await deploy_funded_protocol(anvil_client, signers)
    token, spender = env.user.token, env.addresses.diamond

    first = await token.ensure_allowance(spender, 5 * MOR)
    second = await token.ensure_allowance(spender, 3 * MOR)
    third = await token.ensure_allowance(spender, 7 * MOR)

    assert first is not None
    assert second is None
    assert third is not None
    assert await token.allowance(env.user.address, spender) == 7 * MOR


async def test_transfer_moves_mor_and_total_supply_is_fixed(
    anvil_client: ChainClient, signers: list[KeySigner]
) -> None:
    env = await deploy_funded_protocol(anvil_client, signers)
    before = await env.user.token.balance_of(signers[4].address)
    receipt = await env.user.token.transfer(signers[4].address, MOR)
    assert receipt.one("Transfer").args == {"from": env.user.address, "to": signers[4].address, "value": MOR}
    assert await env.user.token.balance_of(signers[4].address) == before + MOR
    assert await env.user.token.total_supply() == 42_000_000 * MOR


async def _open_with(env: Protocol, bid_id: bytes, ts: int, stake: int) -> bytes:
    approval = encode_approval(bid_id, env.client.chain_id, env.user.address, ts)
    signature = env.provider.signer.sign_personal_hash(approval)
    async with env.user.token.reserve_allowance(env.addresses.diamond, stake):
        created = await env.user.diamond.open_session(env.user.address, stake, False, approval, signature)
    return created.id


async def test_concurrent_opens_each_get_enough_allowance(anvil_client: ChainClient, signers: list[KeySigner]) -> None:
    env = await deploy_funded_protocol(anvil_client, signers)
    _model, bid_id = await _listed_bid(env)
    now = await env.now()

    ids = await asyncio.gather(*(_open_with(env, bid_id, now + i, (20 + i) * MOR) for i in range(4)))

    assert len(set(ids)) == 4
    assert (await env.user.diamond.user_sessions(env.user.address, 0, 0)).total == 4
    # Every open found its allowance; in-flight reservations may over-grant a little, never under-grant.
    assert await env.user.token.allowance(env.user.address, env.addresses.diamond) <= sum(range(20, 24)) * MOR
