"""Forged, expired, replayed and cross-session MOR-RPC messages are refused by a real provider on the devnet."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from app.chain.errors import ChainError
from app.router.morrpc import signing
from app.router.morrpc.envelope import encode_request
from app.router.morrpc.messages import SessionPromptReq
from app.router.morrpc.rpc_errors import ERR_AUTH, ERR_SESSION_CLOSED, ERR_SESSION_EXPIRED
from app.router.provider import sessions as provider_sessions
from app.router.provider.controller import ERR_REPLAYED_PROMPT, ERR_STALE_PROMPT, ProviderController
from app.router.provider.server import MorRpcServer
from tests.chain.protocol_env import Party
from tests.router.provider import morrpc_consumer as c
from tests.router.provider.provider_env import STAKE, Devnet, models_config, running_devnet, running_provider, signer
from tests.support.openai_backend import OpenAIBackendServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHAT = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
Provider = tuple[MorRpcServer, ProviderController]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def devnet() -> AsyncIterator[Devnet]:
    async with running_devnet() as env:
        yield env


@pytest_asyncio.fixture(loop_scope="module")
async def chain(devnet: Devnet) -> AsyncIterator[Devnet]:
    await devnet.snapshot()
    try:
        yield devnet
    finally:
        await devnet.revert()


@pytest_asyncio.fixture(loop_scope="module")
async def backend() -> AsyncIterator[OpenAIBackendServer]:
    async with OpenAIBackendServer() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="module")
async def provider(chain: Devnet, backend: OpenAIBackendServer) -> AsyncIterator[Provider]:
    async with running_provider(chain, models_config(chain.model_id, backend)) as running:
        yield running


def port(provider: Provider) -> int:
    return provider[0].address[1]


async def open_session(devnet: Devnet, provider: Provider, user: Party) -> tuple[bytes, bytes, bytes, bytes]:
    """session.request then openSession: (session id, provider key, approval, approval signature)."""
    res = c.approval(await c.exchange(port(provider), c.session_request(user.signer, devnet.bid_id, STAKE)))
    session_id = await devnet.open_session(user, res.approval, res.approval_sig)
    return session_id, res.pub_key, res.approval, res.approval_sig


async def still_serves(provider: Provider) -> None:
    nonce = os.urandom(8)
    c.pong(await c.exchange(port(provider), c.ping(signer(9), nonce)), provider[1].address, nonce)


async def test_forged_prompt_whose_text_was_changed_after_signing_is_refused(
    chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    user = chain.protocol.user
    session_id, _, _, _ = await open_session(chain, provider, user)
    signed = signing.sign(SessionPromptReq(session_id=session_id, message=json.dumps(CHAT), timestamp=c.now_ms()),
                          user.signer)
    other = {**CHAT, "messages": [{"role": "user", "content": "pwn"}]}
    tampered = dataclasses.replace(signed, message=json.dumps(other))

    answer = await c.exchange(port(provider), encode_request("f1", "session.prompt", tampered))

    assert c.only_error(answer) == ERR_AUTH
    assert backend.requests == []
    await still_serves(provider)


async def test_expired_session_refuses_a_correctly_signed_prompt(
    chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    user = chain.protocol.user
    session_id, _, _, _ = await open_session(chain, provider, user)
    ends_at = (await user.diamond.get_session(session_id)).ends_at
    await chain.protocol.travel(ends_at - await chain.client.block_timestamp() + 1)
    chain_now_ms = await chain.client.block_timestamp() * 1000  # a consumer stamping by the chain's clock

    answer = await c.exchange(port(provider), c.prompt(user.signer, session_id, CHAT, timestamp=chain_now_ms))

    assert c.only_error(answer) == ERR_SESSION_EXPIRED
    assert backend.requests == []
    await still_serves(provider)


async def test_replayed_prompt_and_replayed_approval_are_refused(
    chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    user = chain.protocol.user
    session_id, provider_key, approval, approval_sig = await open_session(chain, provider, user)
    prompt = c.prompt(user.signer, session_id, CHAT)
    assert c.text_of(c.open_answer(await c.exchange(port(provider), prompt), user.signer, provider_key))
    report = c.report_result(await c.exchange(port(provider), c.report(user.signer, session_id)), provider_key)
    await user.diamond.close_session(report.message, report.signed_report)

    # The captured prompt bytes, sent again after the session closed.
    assert c.only_error(await c.exchange(port(provider), prompt)) == ERR_SESSION_CLOSED
    assert len(backend.requests) == 1
    # The captured approval cannot open a second session.
    with pytest.raises(ChainError, match=r"(?i)approval|used"):
        await chain.open_session(user, approval, approval_sig)
    await still_serves(provider)


async def test_prompt_replayed_while_the_session_is_open_is_refused_and_fresh_prompts_still_work(
    chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    user = chain.protocol.user
    session_id, provider_key, _, _ = await open_session(chain, provider, user)
    prompt = c.prompt(user.signer, session_id, CHAT)
    assert c.text_of(c.open_answer(await c.exchange(port(provider), prompt), user.signer, provider_key))

    # The captured bytes again, the session still open: no second answer at the consumer's expense.
    assert c.only_error(await c.exchange(port(provider), prompt)) == ERR_REPLAYED_PROMPT
    assert len(backend.requests) == 1
    # The consumer's next prompt, signed afresh, is served as usual.
    fresh = c.prompt(user.signer, session_id, CHAT, timestamp=c.now_ms() + 1)
    assert c.text_of(c.open_answer(await c.exchange(port(provider), fresh), user.signer, provider_key))
    assert len(backend.requests) == 2


async def test_a_prompt_replayed_after_the_replay_window_let_it_go_is_refused_by_its_timestamp(
    chain: Devnet, provider: Provider, backend: OpenAIBackendServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provider_sessions, "REPLAY_WINDOW", 2)  # the real window is 32 prompts
    user = chain.protocol.user
    session_id, provider_key, _, _ = await open_session(chain, provider, user)
    captured = c.prompt(user.signer, session_id, CHAT, timestamp=c.now_ms())
    assert c.text_of(c.open_answer(await c.exchange(port(provider), captured), user.signer, provider_key))
    for step in range(1, 4):  # the consumer goes on; the captured prompt drops out of the remembered ones
        later = c.prompt(user.signer, session_id, CHAT, timestamp=c.now_ms() + step)
        assert c.text_of(c.open_answer(await c.exchange(port(provider), later), user.signer, provider_key))
    served = len(backend.requests)

    assert c.only_error(await c.exchange(port(provider), captured)) == ERR_STALE_PROMPT
    assert len(backend.requests) == served
    await still_serves(provider)


async def test_cross_session_prompt_signed_by_another_known_user_is_refused(
    chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    victim, attacker = chain.protocol.user, chain.second_user
    victim_session, _, _, _ = await open_session(chain, provider, victim)
    await open_session(chain, provider, attacker)  # the provider knows the attacker's key too

    answer = await c.exchange(port(provider), c.prompt(attacker.signer, victim_session, CHAT))

    assert c.only_error(answer) == ERR_AUTH
    assert backend.requests == []
    await still_serves(provider)
