"""Server-side failover on a real devnet: a provider dies mid-answer and the next-best one finishes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.router.consumer.events import ProviderFailed
from app.router.consumer.failover import CONTINUE_INSTRUCTION, FAILOVER_MESSAGE, ChunkItem, ControlItem
from app.router.consumer.failures import FailureKind, ProviderFailure
from app.router.consumer.prompt import content_of
from tests.router.consumer.consumer_env import Market, running_market
from tests.support.openai_backend import Behaviour


@pytest.fixture
async def market(tmp_path: Path) -> AsyncIterator[Market]:
    async with running_market(tmp_path) as env:
        yield env


async def test_provider_killed_mid_stream_the_answer_completes_from_the_second_provider(market: Market) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=900)
    market.a.backend.behaviour = Behaviour(tokens=[f"a{i} " for i in range(100)], token_delay=0.03)
    market.b.backend.behaviour = Behaviour(tokens=["and", " the", " end."])
    text, controls, killed = "", [], False

    async for item in market.consumer.chat(prompt="a long answer please", session_id=session.id):
        if isinstance(item, ControlItem):
            controls.append(item.text)
        elif isinstance(item, ChunkItem):
            text += content_of(item.data)
            if not killed and text.count(" ") >= 3:
                killed = True
                await market.a.kill()

    assert controls[0] == FAILOVER_MESSAGE
    assert controls[1].startswith("new session opened: 0x")
    new_id = controls[1].removeprefix("new session opened: ")
    assert new_id != session.id
    partial = text.removesuffix("and the end.")
    assert partial.startswith("a0 a1 a2 ")
    assert text.endswith("and the end.")
    # The second provider got the whole conversation plus what was already streamed.
    sent = market.b.backend.requests[0].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "a long answer please"
    assert sent[1]["content"] == partial
    assert sent[2]["content"] == CONTINUE_INSTRUCTION
    # Both parts stored with their own receipt; the failed session is closed, the new one is ours and open.
    chat = (await market.storage.run(market.storage.sync.chats.list_chats))[0]
    receipts = await market.storage.run(market.storage.sync.receipts.for_chat, chat.id)
    by_session = {r.session_id: r for r in receipts.values()}
    assert set(by_session) == {session.id, new_id}
    assert by_session[session.id].provider == market.a.address.lower()
    assert by_session[new_id].provider == market.b.address.lower()
    assert by_session[new_id].failover_note is not None
    assert chat.session_id == new_id
    old = await market.user.diamond.get_session(bytes.fromhex(session.id[2:]))
    assert old.closed_at > 0
    assert [s.id for s in await market.consumer.sessions()] == [new_id]
    failures = [e for e in market.events if isinstance(e, ProviderFailed)]
    assert [(f.provider, f.failover) for f in failures] == [(market.a.address.lower(), True)]


async def test_a_refused_connection_before_the_first_token_fails_over_and_cools_the_provider_down(
    market: Market,
) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=900)
    await market.a.kill()
    market.b.backend.behaviour = Behaviour(tokens=["from", " B"])

    items = [i async for i in market.consumer.chat(prompt="hello", session_id=session.id)]

    text = "".join(content_of(i.data) for i in items if isinstance(i, ChunkItem))
    assert text == "from B"
    assert market.b.backend.requests[0].body["messages"] == [{"role": "user", "content": "hello"}]
    ranked = await market.consumer.ranked_bids(market.model_hex)
    assert [(b.provider_address, b.scored.cooling_down) for b in ranked.bids] == [
        (market.b.address, False), (market.a.address, True)]


async def test_failover_switched_off_per_request_surfaces_the_failure(market: Market) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=900)
    market.a.backend.behaviour = Behaviour(tokens=["x"] * 5, error_after=2)

    with pytest.raises(ProviderFailure) as caught:
        async for _ in market.consumer.chat(prompt="hello", session_id=session.id, failover=False):
            pass

    assert caught.value.kind is FailureKind.BACKEND
    assert market.b.backend.requests == []
    assert [s.id for s in await market.consumer.sessions()] == [session.id]
