"""A provider that accepted the session but then stays silent (from the start or mid-answer), answers garbage or
signs with the wrong key: caught within the configured timeout, counted against it in the local stats (with the
cause), and the answer fails over; with failover off the error is clear and the partial answer is kept."""

from __future__ import annotations

import time

import pytest

from app.devnet.accounts import dev_private_keys
from app.router.consumer.failover import (
    CONTINUE_INSTRUCTION,
    FAILOVER_MESSAGE,
    NEW_SESSION_PREFIX,
    ChunkItem,
    ControlItem,
)
from app.router.consumer.failures import FailureKind, ProviderFailure
from app.router.consumer.prompt import content_of
from app.storage.records import Chat, Message, ProviderRequest, Receipt
from app.wallet.signer import KeySigner
from tests.faults.chaos_proxy import Mode
from tests.faults.market import FIRST_MESSAGE_TIMEOUT_S, FaultMarket, FaultyProvider
from tests.faults.stall_relay import going_silent_mid_answer
from tests.support.openai_backend import Behaviour

pytestmark = pytest.mark.asyncio(loop_scope="module")

SLACK_S = 1.0  # event-loop and chain round trips on top of the configured timeout


async def _chat_through_failure(market: FaultMarket, victim: FaultyProvider) -> tuple[str, list[str], float]:
    """Open on the victim's bid, chat; (answer text, control messages, seconds until the failover notice)."""
    session = await market.consumer.open_session(bid_id=victim.bid_hex, duration_s=600, failover=True)
    return await _chat(market, session.id)


async def _chat(market: FaultMarket, session_id: str) -> tuple[str, list[str], float]:
    text, controls, detected = "", [], float("inf")
    started = time.monotonic()
    async for item in market.consumer.chat(prompt="hello?", session_id=session_id):
        if isinstance(item, ControlItem):
            controls.append(item.text)
            if item.text == FAILOVER_MESSAGE:
                detected = time.monotonic() - started
        elif isinstance(item, ChunkItem):
            text += content_of(item.data)
    return text, controls, detected


async def _failures(market: FaultMarket, provider: FaultyProvider) -> list[ProviderRequest]:
    store = market.storage.sync
    requests = await market.storage.run(store.provider_stats.requests, provider.address, market.model_hex)
    return [r for r in requests if not r.ok]


def _rescued(market: FaultMarket, text: str, controls: list[str]) -> None:
    assert controls[0] == FAILOVER_MESSAGE
    assert controls[1].startswith(NEW_SESSION_PREFIX)
    assert text == "rescued!"


async def _prepare(market: FaultMarket) -> FaultyProvider:
    for rescuer in market.providers[1:]:
        rescuer.backend.behaviour = Behaviour(tokens=["rescued", "!"])
    return market.providers[0]


async def test_provider_that_never_answers_is_detected_at_the_first_message_timeout(market: FaultMarket) -> None:
    victim = await _prepare(market)
    before = len(await _failures(market, victim))
    victim.proxy.mode = Mode.HANG

    text, controls, detected = await _chat_through_failure(market, victim)

    assert FIRST_MESSAGE_TIMEOUT_S - 0.1 <= detected <= FIRST_MESSAGE_TIMEOUT_S + SLACK_S
    _rescued(market, text, controls)
    failures = await _failures(market, victim)
    assert len(failures) == before + 1
    assert f"sent nothing for {FIRST_MESSAGE_TIMEOUT_S:g} s" in failures[0].reason  # the stats say why
    assert victim.proxy.prompts == 1 and victim.backend.requests == []


async def test_provider_answering_garbage_is_detected_at_once(market: FaultMarket) -> None:
    victim = await _prepare(market)
    before = len(await _failures(market, victim))
    victim.proxy.mode = Mode.GARBAGE

    text, controls, detected = await _chat_through_failure(market, victim)

    assert detected < SLACK_S
    _rescued(market, text, controls)
    failures = await _failures(market, victim)
    assert len(failures) == before + 1
    # The stats row names the provider and the cause (an unparseable answer), not just "failed".
    assert f"Provider {victim.address} sent a malformed answer" in failures[0].reason
    assert victim.backend.requests == []  # the garbage came from the wire, not from its model


async def test_provider_signing_with_another_key_is_detected_at_the_first_chunk(market: FaultMarket) -> None:
    victim = await _prepare(market)
    before = len(await _failures(market, victim))
    session = await market.consumer.open_session(bid_id=victim.bid_hex, duration_s=600, failover=True)
    victim.sign_with(KeySigner(dev_private_keys()[8]))  # the session was approved with the registered key

    text, controls, detected = await _chat(market, session.id)

    assert detected < SLACK_S
    _rescued(market, text, controls)
    failures = await _failures(market, victim)
    assert len(failures) == before + 1
    assert "signature" in failures[0].reason.lower() or "signed" in failures[0].reason.lower()
    assert len(victim.backend.requests) == 1  # it did answer, just not as itself


# -- silent in the middle of an answer -------------------------------------------------------------------------------

PARTIAL_TOKENS = ["part", "ial", " never", " sent"]
PASSED = 3  # MOR-RPC messages that get through: the role chunk, "part", "ial"


async def _chat_until_cut(market: FaultMarket, session_id: str
                          ) -> tuple[str, list[str], float, ProviderFailure | None]:
    """(answer text, control messages, seconds from the last chunk before the failover notice to it, the error)."""
    text, controls, gap, last_chunk = "", [], float("inf"), time.monotonic()
    try:
        async for item in market.consumer.chat(prompt="tell me a story", session_id=session_id):
            if isinstance(item, ControlItem):
                controls.append(item.text)
                if item.text == FAILOVER_MESSAGE:
                    gap = time.monotonic() - last_chunk
            elif isinstance(item, ChunkItem):
                text += content_of(item.data)
                if not controls:
                    last_chunk = time.monotonic()
    except ProviderFailure as failure:
        gap = time.monotonic() - last_chunk
        return text, controls, gap, failure
    return text, controls, gap, None


async def _stored_answers(market: FaultMarket, session_id: str) -> tuple[list[Message], dict[int, Receipt]]:
    """The assistant turns (and their receipts) of the chat that ended up on ``session_id``."""
    store = market.storage.sync
    chats: list[Chat] = await market.storage.run(store.chats.list_chats)
    [chat] = [c for c in chats if c.session_id == session_id]
    messages = await market.storage.run(store.chats.messages, chat.id)
    receipts = await market.storage.run(store.receipts.for_chat, chat.id)
    return [m for m in messages if m.role == "assistant"], receipts


def _timed_out_mid_answer(reason: str) -> bool:
    return f"sent nothing for {FIRST_MESSAGE_TIMEOUT_S:g} s (in the middle of its answer)" in reason


async def test_provider_going_silent_mid_answer_is_caught_at_the_idle_timeout_and_the_answer_continues_elsewhere(
    market: FaultMarket,
) -> None:
    victim = await _prepare(market)
    victim.backend.behaviour = Behaviour(tokens=PARTIAL_TOKENS)
    before = len(await _failures(market, victim))
    session = await market.consumer.open_session(bid_id=victim.bid_hex, duration_s=600, failover=True)

    async with going_silent_mid_answer(victim, PASSED) as stall:
        text, controls, gap, error = await _chat_until_cut(market, session.id)

    assert error is None and stall.prompts == 1 and stall.stalled.is_set()
    assert FIRST_MESSAGE_TIMEOUT_S - 0.1 <= gap <= FIRST_MESSAGE_TIMEOUT_S + SLACK_S  # idle timeout, not later
    assert text == "partialrescued!"  # the partial stays, the rescuer continues it
    assert controls[0] == FAILOVER_MESSAGE and controls[1].startswith(NEW_SESSION_PREFIX)
    failures = await _failures(market, victim)
    assert len(failures) == before + 1 and _timed_out_mid_answer(failures[0].reason)
    [rescuer] = [p for p in market.providers[1:] if p.backend.requests]
    sent = rescuer.backend.requests[-1].body["messages"]
    assert sent[-2:] == [{"role": "assistant", "content": "partial"}, {"role": "user", "content": CONTINUE_INSTRUCTION}]
    answers, receipts = await _stored_answers(market, controls[1].removeprefix(NEW_SESSION_PREFIX))
    assert [m.content for m in answers] == ["partial", "rescued!"]
    cut, rest = receipts[answers[0].id], receipts[answers[1].id]
    assert cut.provider == victim.address and cut.failover_note is not None
    assert _timed_out_mid_answer(cut.failover_note)
    assert rest.provider == rescuer.address and f"provider {victim.address} failed" in (rest.failover_note or "")


async def test_provider_going_silent_mid_answer_without_failover_is_a_clear_error_and_the_partial_is_kept(
    market: FaultMarket,
) -> None:
    victim = await _prepare(market)
    victim.backend.behaviour = Behaviour(tokens=PARTIAL_TOKENS)
    before = len(await _failures(market, victim))
    session = await market.consumer.open_session(bid_id=victim.bid_hex, duration_s=600, failover=False)

    async with going_silent_mid_answer(victim, PASSED):
        text, controls, gap, error = await _chat_until_cut(market, session.id)

    assert error is not None and error.kind is FailureKind.TIMEOUT
    assert _timed_out_mid_answer(error.user_message) and victim.address in error.user_message
    assert FIRST_MESSAGE_TIMEOUT_S - 0.1 <= gap <= FIRST_MESSAGE_TIMEOUT_S + SLACK_S
    assert text == "partial" and controls == []
    failures = await _failures(market, victim)
    assert len(failures) == before + 1 and _timed_out_mid_answer(failures[0].reason)
    assert all(not p.backend.requests for p in market.providers[1:])  # no failover happened
    answers, receipts = await _stored_answers(market, session.id)
    assert [m.content for m in answers] == ["partial"]
    assert _timed_out_mid_answer(receipts[answers[0].id].failover_note or "")
