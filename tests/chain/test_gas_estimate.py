"""Gas estimates are made for the block a transaction lands in; an out-of-gas revert is named as such."""

from __future__ import annotations

import pytest

from app.chain import diamond_abi as abi
from app.chain.client import ChainClient
from app.chain.errors import ContractRevertError
from app.chain.messages import encode_approval, encode_receipt
from app.chain.tx import TxSender
from app.wallet.signer import KeySigner
from tests.chain.conftest import FAST_POLICY
from tests.chain.protocol_env import MOR, PRICE, Protocol, deploy_funded_protocol

STAKE = 50 * MOR


@pytest.fixture
async def env(client: ChainClient, signers: list[KeySigner]) -> Protocol:
    return await deploy_funded_protocol(client, signers)


async def _open_session(env: Protocol) -> bytes:
    """A listed bid and a stake-mode session on it; returns the session id."""
    p = env.provider
    await p.token.approve(env.addresses.diamond, 10 * MOR)
    await p.diamond.provider_register(p.address, 5 * MOR, "127.0.0.1:3333")
    model = await p.diamond.model_register(p.address, b"\x42" * 32, b"\x07" * 32, 0, MOR, "llm", ["llm"])
    bid = await p.diamond.post_model_bid(p.address, model.id, PRICE)
    approval = encode_approval(bid.id, env.client.chain_id, env.user.address, await env.now())
    async with env.user.token.reserve_allowance(env.addresses.diamond, STAKE):
        created = await env.user.diamond.open_session(env.user.address, STAKE, False, approval,
                                                      p.signer.sign_personal_hash(approval))
    return created.id


def _signed_receipt(env: Protocol, session_id: bytes, ts: int) -> tuple[bytes, bytes]:
    receipt = encode_receipt(session_id, env.client.chain_id, ts, 1000, 100)
    return receipt, env.provider.signer.sign_personal_hash(receipt)


async def test_a_close_sent_after_chain_time_moved_is_estimated_for_the_next_block(env: Protocol) -> None:
    # Regression: the estimate used to run on the latest block (the one that opened the session), where closing
    # pays the provider nothing; the tx then ran in a block 120 s later, paid the provider and ran out of gas.
    session_id = await _open_session(env)
    await env.client.rpc("evm_increaseTime", [120])  # no block mined: only the pending block has the new time
    provider_before = await env.provider.token.balance_of(env.provider.address)
    # No percentage margin on top of the estimate, so only an estimate made for the right block is enough.
    exact = TxSender(env.client, env.user.signer, policy=FAST_POLICY, gas_margin_percent=0)
    data = abi.CLOSE_SESSION.encode(*_signed_receipt(env, session_id, await env.now()))

    await exact.send(env.addresses.diamond, data, purpose="closing the session")

    session = await env.user.diamond.get_session(session_id)
    paid = (session.closed_at - session.opened_at) * PRICE
    assert paid > 0  # the costlier path: the close paid the provider for the time that passed
    assert await env.provider.token.balance_of(env.provider.address) == provider_before + paid


async def test_a_transaction_that_runs_out_of_gas_inside_the_diamond_says_out_of_gas(env: Protocol) -> None:
    session_id = await _open_session(env)
    await env.travel(120)
    data = abi.CLOSE_SESSION.encode(*_signed_receipt(env, session_id, await env.now()))
    needed = await env.client.estimate_gas({"from": env.user.address, "to": env.addresses.diamond, "data": data})

    with pytest.raises(ContractRevertError) as caught:
        await env.user.sender.send(env.addresses.diamond, data, purpose="closing the session", gas=needed * 3 // 4)

    assert caught.value.error_name == "OutOfGas"
    assert "ran out of gas" in caught.value.user_message
    assert (await env.user.diamond.get_session(session_id)).closed_at == 0
