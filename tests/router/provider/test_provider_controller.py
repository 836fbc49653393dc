"""The provider's MOR-RPC methods on a devnet, driven by a codec-only consumer: answers and every refusal."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from app.config.models_config import parse_models_config
from app.router.morrpc import signing
from app.router.morrpc.receipts import Approval, CloseoutReceipt, recover_personal_signer
from app.router.morrpc.rpc_errors import ERR_AUTH, ERR_CAPACITY, ERR_SESSION_CLOSED, ERR_SESSION_EXPIRED
from app.router.provider import controller as controller_module
from app.router.provider.controller import ERR_NOT_OUR_BID, ERR_NOT_OUR_SESSION, VERSION, ProviderController
from app.router.provider.relay_turns import RelayTurns
from app.router.provider.server import MorRpcServer
from app.router.provider.user_keys import StoredUserKeys
from app.storage.store import AsyncStorage
from tests.chain.conftest import eventually
from tests.chain.protocol_env import Party
from tests.router.provider import morrpc_consumer as c
from tests.router.provider.provider_env import STAKE, Devnet, models_config, running_provider, signer
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

Provider = tuple[MorRpcServer, ProviderController]
CHAT = {"messages": [{"role": "user", "content": "Say hello"}], "stream": True}


def port_of(provider: Provider) -> int:
    return provider[0].address[1]


async def still_serves(provider: Provider) -> None:
    """After any refusal the server still answers a valid ping with our signed nonce."""
    nonce = os.urandom(8)
    responses = await c.exchange(port_of(provider), c.ping(signer(9), nonce))
    c.pong(responses, provider[1].address, nonce)


async def open_via_provider(devnet: Devnet, provider: Provider, user: Party | None = None) -> tuple[bytes, bytes]:
    """session.request over MOR-RPC, then openSession on chain with that approval: (session id, provider key)."""
    user = user or devnet.protocol.user
    res = c.approval(await c.exchange(port_of(provider), c.session_request(user.signer, devnet.bid_id, STAKE)))
    session_id = await devnet.open_session(user, res.approval, res.approval_sig)
    return session_id, res.pub_key


async def test_ping_answers_the_nonce_signed_by_the_provider_with_a_version(provider: Provider) -> None:
    nonce = os.urandom(8)
    pong = c.pong(await c.exchange(port_of(provider), c.ping(signer(2), nonce)), provider[1].address, nonce)
    assert pong.version == VERSION


async def test_session_request_returns_an_approval_for_the_bid_signed_by_its_provider(
    fresh_chain: Devnet, provider: Provider
) -> None:
    user = fresh_chain.protocol.user
    res = c.approval(await c.exchange(port_of(provider), c.session_request(user.signer, fresh_chain.bid_id, STAKE)))
    approval = Approval.decode(res.approval)
    assert (approval.bid_id, approval.chain_id, approval.user) == (fresh_chain.bid_id, 31337, user.address)
    assert abs(approval.timestamp_ms - c.now_ms()) < 60_000  # milliseconds, as upstream stamps them
    assert recover_personal_signer(res.approval, res.approval_sig) == provider[1].address
    assert signing.public_key_to_address(res.pub_key) == provider[1].address
    assert provider[1].store.user_key(user.address) == user.signer.public_key


async def test_requests_in_one_millisecond_get_distinct_approvals(
    fresh_chain: Devnet, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The contract takes each approval once: the same bytes twice would make the second openSession revert.
    monkeypatch.setattr(controller_module, "_now_ms", lambda: 1_800_000_000_000)
    user = fresh_chain.protocol.user
    request = c.session_request(user.signer, fresh_chain.bid_id, STAKE)
    first, second = [c.approval(await c.exchange(port_of(provider), request)) for _ in range(2)]

    assert first.approval != second.approval
    stamps = [Approval.decode(r.approval).timestamp_ms for r in (first, second)]
    assert stamps[0] >= 1_800_000_000_000
    assert stamps[1] == stamps[0] + 1
    for res in (first, second):
        await fresh_chain.open_session(user, res.approval, res.approval_sig)


async def test_prompt_streams_each_backend_item_encrypted_to_the_consumer_and_signed(
    fresh_chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    user = fresh_chain.protocol.user
    session_id, provider_key = await open_via_provider(fresh_chain, provider)
    responses = await c.exchange(port_of(provider), c.prompt(user.signer, session_id, CHAT))
    assert all(isinstance(r.result["message"], str) and not r.result["message"].startswith("0x") for r in responses)
    answer = c.open_answer(responses, user.signer, provider_key)
    assert c.text_of(answer) == "Hello, world!"
    assert answer.items[-1] == "[DONE]"
    assert answer.error is None
    assert backend.requests[-1].body["model"] == "served-model"
    assert backend.requests[-1].body["messages"] == CHAT["messages"]
    state = provider[1].store.get(session_id)
    assert state is not None and state.last_prompt is not None
    assert (state.last_prompt.output_tokens, state.totals.count) == (4, 1)


async def test_backend_failure_comes_back_as_an_encrypted_signed_provider_model_error(
    fresh_chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    user = fresh_chain.protocol.user
    session_id, provider_key = await open_via_provider(fresh_chain, provider)
    backend.behaviour = Behaviour(fail_status=500)
    responses = await c.exchange(port_of(provider), c.prompt(user.signer, session_id, CHAT))
    [response] = responses
    assert response.error is not None
    assert not response.error.is_plaintext
    answer = c.open_answer(responses, user.signer, provider_key)
    assert answer.error == {"error": {"message": "backend failed on purpose", "type": "internal_server_error",
                                      "param": None, "code": None}}  # fmt: skip


async def test_report_averages_the_sessions_prompts_into_a_receipt_signed_by_the_provider(
    fresh_chain: Devnet, provider: Provider
) -> None:
    user = fresh_chain.protocol.user
    session_id, provider_key = await open_via_provider(fresh_chain, provider)
    prompts = []
    for _ in range(2):
        await c.exchange(port_of(provider), c.prompt(user.signer, session_id, CHAT))
        prompts.append(provider[1].store.get(session_id).last_prompt)  # type: ignore[union-attr]
    res = c.report_result(await c.exchange(port_of(provider), c.report(user.signer, session_id)), provider_key)
    receipt = CloseoutReceipt.decode(res.message)
    assert recover_personal_signer(res.message, res.signed_report) == provider[1].address
    assert (receipt.session_id, receipt.chain_id) == (session_id, 31337)
    assert receipt.ttft_ms == sum(p.ttft_ms for p in prompts if p) // 2
    assert receipt.tps_scaled1000 == sum(p.tps_scaled1000 for p in prompts if p) // 2 > 0
    assert (receipt.output_tokens, len(res.message)) == (8, 224)


async def test_consumer_hangup_mid_stream_cancels_the_backend_request(fresh_chain: Devnet) -> None:
    user = fresh_chain.protocol.user
    async with (
        OpenAIBackendServer(Behaviour(tokens=["tok"] * 200, token_delay=0.02)) as slow,
        running_provider(fresh_chain, models_config(fresh_chain.model_id, slow)) as provider,
    ):
        session_id, _ = await open_via_provider(fresh_chain, provider)
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(provider))
        writer.write(c.prompt(user.signer, session_id, CHAT))
        async with asyncio.timeout(5):
            await reader.read(1)  # the stream has started
        writer.close()
        gone = await slow.wait_disconnect(within=2)
        assert not gone.completed
        assert gone.tokens_sent < 200
        await still_serves(provider)


# -- refusals: each one answered with an error, after which the server still serves -----------------------------


async def test_session_request_signed_by_another_key_is_refused(fresh_chain: Devnet, provider: Provider) -> None:
    user, forger = fresh_chain.protocol.user.signer, signer(7)
    forged = c.session_request(forger, fresh_chain.bid_id, STAKE, key=user.public_key)
    forged = forged.replace(forger.address.lower()[2:].encode(), user.address.lower()[2:].encode())
    assert c.only_error(await c.exchange(port_of(provider), forged)) == ERR_AUTH
    await still_serves(provider)


async def test_session_request_with_a_key_that_is_not_the_users_is_refused(
    fresh_chain: Devnet, provider: Provider
) -> None:
    """A valid signature by a key of another address may not install that key for the user's sessions."""
    user, attacker = fresh_chain.protocol.user, signer(7)
    from app.router.morrpc.envelope import encode_request
    from app.router.morrpc.messages import SessionReq

    req = SessionReq(user=user.address, key=attacker.public_key, spend=STAKE, timestamp=c.now_ms(),
                     bid_id=fresh_chain.bid_id)  # fmt: skip
    raw = encode_request("x", "session.request", signing.sign(req, attacker))
    assert c.only_error(await c.exchange(port_of(provider), raw)).startswith(ERR_AUTH)
    assert provider[1].store.user_key(user.address) is None
    await still_serves(provider)


async def test_session_request_for_an_unknown_bid_is_refused(fresh_chain: Devnet, provider: Provider) -> None:
    raw = c.session_request(fresh_chain.protocol.user.signer, b"\x99" * 32, STAKE)
    assert "does not exist or was deleted" in c.only_error(await c.exchange(port_of(provider), raw))
    await still_serves(provider)


async def test_session_request_for_a_deleted_bid_is_refused(fresh_chain: Devnet, provider: Provider) -> None:
    await fresh_chain.protocol.provider.diamond.delete_model_bid(fresh_chain.bid_id)
    raw = c.session_request(fresh_chain.protocol.user.signer, fresh_chain.bid_id, STAKE)
    assert "does not exist or was deleted" in c.only_error(await c.exchange(port_of(provider), raw))
    await still_serves(provider)


async def test_session_request_for_another_providers_bid_is_refused(fresh_chain: Devnet, provider: Provider) -> None:
    raw = c.session_request(fresh_chain.protocol.user.signer, fresh_chain.other_bid_id, STAKE)
    assert c.only_error(await c.exchange(port_of(provider), raw)) == ERR_NOT_OUR_BID
    await still_serves(provider)


async def test_session_request_beyond_the_models_concurrent_slots_is_refused(
    fresh_chain: Devnet, backend: OpenAIBackendServer
) -> None:
    models = models_config(fresh_chain.model_id, backend, concurrentSlots=1, capacityPolicy="simple")
    async with running_provider(fresh_chain, models) as provider:
        first = c.session_request(fresh_chain.protocol.user.signer, fresh_chain.bid_id, STAKE)
        c.approval(await c.exchange(port_of(provider), first))
        c.approval(await c.exchange(port_of(provider), first))  # the same consumer retrying keeps its slot
        second = c.session_request(fresh_chain.second_user.signer, fresh_chain.bid_id, STAKE)
        assert c.only_error(await c.exchange(port_of(provider), second)) == ERR_CAPACITY
        await still_serves(provider)


async def test_prompt_after_the_session_ended_is_refused_as_expired(fresh_chain: Devnet, provider: Provider) -> None:
    session_id, _ = await open_via_provider(fresh_chain, provider)
    ends_at = (await fresh_chain.protocol.user.diamond.get_session(session_id)).ends_at
    late = c.prompt(fresh_chain.protocol.user.signer, session_id, CHAT, timestamp=(ends_at + 1) * 1000)
    assert c.only_error(await c.exchange(port_of(provider), late)) == ERR_SESSION_EXPIRED
    await still_serves(provider)


async def test_prompt_for_a_session_on_another_providers_bid_is_refused(
    fresh_chain: Devnet, provider: Provider
) -> None:
    user = fresh_chain.protocol.user
    c.approval(await c.exchange(port_of(provider), c.session_request(user.signer, fresh_chain.bid_id, STAKE)))
    foreign = await fresh_chain.open_session_directly(user, fresh_chain.other, fresh_chain.other_bid_id)
    raw = c.prompt(user.signer, foreign, CHAT)
    assert c.only_error(await c.exchange(port_of(provider), raw)) == ERR_NOT_OUR_SESSION
    await still_serves(provider)


async def test_prompt_signed_by_another_key_is_refused(
    fresh_chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    session_id, _ = await open_via_provider(fresh_chain, provider)
    raw = c.prompt(signer(7), session_id, CHAT)
    assert c.only_error(await c.exchange(port_of(provider), raw)) == ERR_AUTH
    assert backend.requests == []
    await still_serves(provider)


async def test_replayed_prompt_of_a_closed_session_is_refused(
    fresh_chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    user = fresh_chain.protocol.user
    session_id, provider_key = await open_via_provider(fresh_chain, provider)
    prompt = c.prompt(user.signer, session_id, CHAT)
    await c.exchange(port_of(provider), prompt)
    res = c.report_result(await c.exchange(port_of(provider), c.report(user.signer, session_id)), provider_key)
    await user.diamond.close_session(res.message, res.signed_report)
    assert c.only_error(await c.exchange(port_of(provider), prompt)) == ERR_SESSION_CLOSED
    assert len(backend.requests) == 1
    await still_serves(provider)


async def test_unsupported_prompt_type_is_refused_without_reaching_the_backend(
    fresh_chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    session_id, _ = await open_via_provider(fresh_chain, provider)
    raw = c.prompt(fresh_chain.protocol.user.signer, session_id, {"type": "audio_speech", "input": "hi"})
    assert "chat completions only" in c.only_error(await c.exchange(port_of(provider), raw))
    assert backend.requests == []
    await still_serves(provider)


async def test_session_request_for_a_model_without_a_configured_backend_is_refused(
    fresh_chain: Devnet, backend: OpenAIBackendServer
) -> None:
    elsewhere = models_config(b"\x77" * 32, backend)
    async with running_provider(fresh_chain, elsewhere) as provider:
        raw = c.session_request(fresh_chain.protocol.user.signer, fresh_chain.bid_id, STAKE)
        assert "is not served by this provider" in c.only_error(await c.exchange(port_of(provider), raw))
        await still_serves(provider)


async def test_prompts_of_one_session_reach_the_backend_one_at_a_time(
    fresh_chain: Devnet, provider: Provider, backend: OpenAIBackendServer
) -> None:
    user = fresh_chain.protocol.user
    session_id, _ = await open_via_provider(fresh_chain, provider)
    backend.behaviour = Behaviour(tokens=["t"] * 10, token_delay=0.02)
    first = asyncio.ensure_future(c.exchange(port_of(provider), c.prompt(user.signer, session_id, CHAT)))
    await eventually(lambda: len(backend.requests) == 1)
    second = asyncio.ensure_future(c.exchange(port_of(provider), c.prompt(user.signer, session_id, CHAT)))
    await eventually(lambda: len(backend.requests) == 2)
    assert backend.requests[0].completed  # the second prompt waited for the first answer to end
    await asyncio.gather(first, second)


async def test_streams_that_wait_for_relay_budget_still_get_every_chunk_in_order(
    fresh_chain: Devnet, provider: Provider, backend: OpenAIBackendServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A budget of nothing: one chunk per loop iteration is sealed at once, every other one waits for a later turn.
    turns = RelayTurns(budget_s=0.0)
    monkeypatch.setattr(provider[1], "_turns", turns)
    user = fresh_chain.protocol.user
    sessions = [await open_via_provider(fresh_chain, provider) for _ in range(3)]
    backend.behaviour = Behaviour(tokens=[f"<{i}>" for i in range(30)])
    answers = await asyncio.gather(*(c.exchange(port_of(provider), c.prompt(user.signer, session_id, CHAT))
                                     for session_id, _ in sessions))

    for responses, (_, provider_key) in zip(answers, sessions, strict=True):
        answer = c.open_answer(responses, user.signer, provider_key)
        assert c.text_of(answer) == "".join(f"<{i}>" for i in range(30))
        assert answer.items[-1] == "[DONE]" and answer.error is None
    assert turns.queued > 0 and turns.waiting == 0


async def test_sessions_requested_before_a_restart_keep_working_with_stored_keys(
    fresh_chain: Devnet, backend: OpenAIBackendServer, tmp_path: Path
) -> None:
    user = fresh_chain.protocol.user
    models = models_config(fresh_chain.model_id, backend)
    storage = await AsyncStorage.open(tmp_path / "node.sqlite")
    try:
        async with running_provider(fresh_chain, models, user_keys=StoredUserKeys(storage)) as before:
            session_id, provider_key = await open_via_provider(fresh_chain, before)
        async with running_provider(fresh_chain, models, user_keys=StoredUserKeys(storage)) as after:
            responses = await c.exchange(port_of(after), c.prompt(user.signer, session_id, CHAT))
            assert c.text_of(c.open_answer(responses, user.signer, provider_key)) == "Hello, world!"
        async with running_provider(fresh_chain, models) as forgetful:  # without the store: refused
            raw = c.prompt(user.signer, session_id, CHAT)
            assert c.only_error(await c.exchange(port_of(forgetful), raw)) == ERR_AUTH
    finally:
        await storage.close()


async def test_legacy_openai_base_url_serves_any_model_with_the_clients_model_name(
    fresh_chain: Devnet, backend: OpenAIBackendServer
) -> None:
    legacy = parse_models_config({"models": []}, "empty models-config", legacy_openai_base_url=backend.base_url)
    async with running_provider(fresh_chain, legacy) as provider:
        user = fresh_chain.protocol.user
        session_id, provider_key = await open_via_provider(fresh_chain, provider)
        raw = c.prompt(user.signer, session_id, {**CHAT, "model": "client-model"})
        responses = await c.exchange(port_of(provider), raw)
        assert c.text_of(c.open_answer(responses, user.signer, provider_key)) == "Hello, world!"
    assert backend.requests[-1].body["model"] == "client-model"


async def test_unreachable_backend_is_reported_to_the_consumer_without_its_address(
    fresh_chain: Devnet, backend: OpenAIBackendServer
) -> None:
    user = fresh_chain.protocol.user
    dead = parse_models_config(
        {"models": [{"modelId": "0x" + fresh_chain.model_id.hex(), "modelName": "m", "apiType": "openai",
                     "apiUrl": "http://127.0.0.1:1/v1"}]}, "dead backend",
    )  # fmt: skip
    async with running_provider(fresh_chain, dead) as provider:
        session_id, provider_key = await open_via_provider(fresh_chain, provider)
        responses = await c.exchange(port_of(provider), c.prompt(user.signer, session_id, CHAT))
    answer = c.open_answer(responses, user.signer, provider_key)
    assert answer.items == []
    assert "unavailable" in answer.error
    assert "127.0.0.1:1" not in answer.error
