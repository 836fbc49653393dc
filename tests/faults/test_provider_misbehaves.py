"""A provider that accepted the session but then stays silent, answers garbage or signs with the wrong key:
caught within the configured timeout, counted against it in the local stats, and the answer fails over."""

from __future__ import annotations

import time

import pytest

from app.devnet.accounts import dev_private_keys
from app.router.consumer.failover import FAILOVER_MESSAGE, NEW_SESSION_PREFIX, ChunkItem, ControlItem
from app.router.consumer.prompt import content_of
from app.storage.records import ProviderRequest
from app.wallet.signer import KeySigner
from tests.faults.chaos_proxy import Mode
from tests.faults.market import FIRST_MESSAGE_TIMEOUT_S, FaultMarket, FaultyProvider
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
    assert failures[0].reason  # a stated cause, not an empty row


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
