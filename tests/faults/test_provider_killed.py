"""A provider dies mid-answer, 20 times over: with failover the answer always completes elsewhere, without it the
user gets a clear error and keeps the partial answer."""

from __future__ import annotations

import pytest

from app.router.consumer.failover import FAILOVER_MESSAGE, NEW_SESSION_PREFIX, ChunkItem, ControlItem
from app.router.consumer.failures import FailureKind, ProviderFailure
from app.router.consumer.prompt import content_of
from app.storage.records import Receipt
from tests.faults.market import FaultMarket, FaultyProvider
from tests.support.openai_backend import Behaviour

pytestmark = pytest.mark.asyncio(loop_scope="module")

TRIALS = 20
SESSION_S = 600  # well above the 5-minute minimum: see the report on stake rounding
SLOW = Behaviour(tokens=[f"w{i} " for i in range(60)], token_delay=0.01)
RESCUE_TOKENS = ["fin", "ished."]


async def _stored(market: FaultMarket, chat_id: str) -> tuple[list[tuple[str, str]], dict[int, Receipt]]:
    store = market.storage.sync
    messages = await market.storage.run(store.chats.messages, chat_id)
    receipts = await market.storage.run(store.receipts.for_chat, chat_id)
    return [(m.role, m.content) for m in messages], receipts


async def _chat_ids(market: FaultMarket) -> set[str]:
    return {c.id for c in await market.storage.run(market.storage.sync.chats.list_chats)}


async def _new_chat_id(market: FaultMarket, before: set[str]) -> str:
    [chat_id] = await _chat_ids(market) - before
    return chat_id


async def _read_killing(market: FaultMarket, victim: FaultyProvider, prompt: str, session_id: str, after: int,
                        received: list[ChunkItem | ControlItem]) -> None:
    """Stream the answer into ``received``, killing ``victim`` once ``after`` content chunks arrived."""
    async for item in market.consumer.chat(prompt=prompt, session_id=session_id):
        received.append(item)
        if len(received) == after + 1:  # +1: the role-only first chunk
            await victim.proxy.kill()


async def test_with_failover_every_killed_answer_completes_on_another_provider_with_both_receipts(
    market: FaultMarket,
) -> None:
    victim = market.providers[0]
    for trial in range(TRIALS):
        await market.reset()
        victim.backend.behaviour = SLOW
        for rescuer in market.providers[1:]:
            rescuer.backend.behaviour = Behaviour(tokens=list(RESCUE_TOKENS))
        session = await market.consumer.open_session(bid_id=victim.bid_hex, duration_s=SESSION_S, failover=True)
        before = await _chat_ids(market)
        kill_after = 1 + trial % 5  # vary the point of death over the first chunks
        text, controls, chunks = "", [], 0
        async for item in market.consumer.chat(prompt=f"trial {trial}", session_id=session.id):
            if isinstance(item, ControlItem):
                controls.append(item.text)
                continue
            assert isinstance(item, ChunkItem)
            text += content_of(item.data)
            chunks += 1
            if chunks == kill_after + 1 and victim.proxy.alive:  # +1: the role-only first chunk
                await victim.proxy.kill()

        assert controls[0] == FAILOVER_MESSAGE, (trial, controls)
        new_id = controls[1].removeprefix(NEW_SESSION_PREFIX)
        assert text.endswith("finished."), (trial, text)
        partial = text.removesuffix("finished.")
        assert partial == "".join(f"w{i} " for i in range(kill_after)), (trial, text)
        messages, receipts = await _stored(market, await _new_chat_id(market, before))
        assert messages == [("user", f"trial {trial}"), ("assistant", partial), ("assistant", "finished.")]
        providers = {r.session_id: r.provider for r in receipts.values()}
        rescuer_address = providers[new_id]
        assert providers == {session.id: victim.address, new_id: rescuer_address}, trial
        assert rescuer_address != victim.address
        await market.consumer.close_session(new_id)  # the rescuer reports and the stake comes back


async def test_without_failover_a_killed_answer_is_a_clear_error_and_the_partial_is_kept(market: FaultMarket) -> None:
    victim = market.providers[0]
    for trial in range(TRIALS):
        await market.reset()
        victim.backend.behaviour = SLOW
        session = await market.consumer.open_session(bid_id=victim.bid_hex, duration_s=SESSION_S, failover=False)
        kill_after = 1 + trial % 5
        before = await _chat_ids(market)
        received: list[ChunkItem | ControlItem] = []
        with pytest.raises(ProviderFailure) as caught:
            await _read_killing(market, victim, f"no failover {trial}", session.id, kill_after, received)

        assert caught.value.kind in (FailureKind.EOF, FailureKind.CONNECT), trial
        assert victim.address in caught.value.user_message.lower()  # names who failed
        assert "closed the connection" in caught.value.user_message or "connect" in caught.value.user_message.lower()
        assert all(isinstance(i, ChunkItem) for i in received)  # no failover notices
        text = "".join(content_of(i.data) for i in received if isinstance(i, ChunkItem))
        assert text == "".join(f"w{i} " for i in range(kill_after))
        messages, receipts = await _stored(market, await _new_chat_id(market, before))
        assert messages == [("user", f"no failover {trial}"), ("assistant", text)]
        assert [r.session_id for r in receipts.values()] == [session.id]
        for other in market.providers[1:]:
            assert other.backend.requests == []
        await victim.reset()
