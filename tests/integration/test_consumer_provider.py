"""Consumer ↔ provider over real TCP on a real anvil devnet: chat, stop, close with report, dispute, open errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.router.consumer.failover import ChunkItem, ControlItem
from app.router.consumer.prompt import content_of
from app.router.consumer.service import ConsumerService
from app.router.provider.controller import ProviderController
from tests.router.consumer.consumer_env import Market, running_market
from tests.support.openai_backend import Behaviour


@pytest.fixture
async def market(tmp_path: Path) -> AsyncIterator[Market]:
    async with running_market(tmp_path) as env:
        yield env


async def collect(items: AsyncIterator[Any]) -> tuple[str, list[str]]:
    text, controls = "", []
    async for item in items:
        if isinstance(item, ChunkItem):
            text += content_of(item.data)
        elif isinstance(item, ControlItem):
            controls.append(item.text)
    return text, controls


async def test_multi_turn_chat_sends_the_full_history_every_turn(market: Market) -> None:
    consumer: ConsumerService = market.consumer
    session = await consumer.open_session(market.model_hex, duration_s=600)
    assert session.provider.lower() == market.a.address.lower()
    market.a.backend.behaviour = Behaviour(tokens=["Answer", " one"])
    text1, _ = await collect(consumer.chat(prompt="first question", session_id=session.id))
    chats = await market.storage.run(market.storage.sync.chats.list_chats)
    chat_id = chats[0].id
    market.a.backend.behaviour = Behaviour(tokens=["Answer", " two"])
    await collect(consumer.chat(prompt="second question", chat_id=chat_id))
    market.a.backend.behaviour = Behaviour(tokens=["Answer", " three"])
    text3, _ = await collect(consumer.chat(prompt="third question", chat_id=chat_id))

    assert (text1, text3) == ("Answer one", "Answer three")
    third = market.a.backend.requests[2].body["messages"]
    assert [(m["role"], m["content"]) for m in third] == [
        ("user", "first question"), ("assistant", "Answer one"),
        ("user", "second question"), ("assistant", "Answer two"),
        ("user", "third question"),
    ]
    receipts = await market.storage.run(market.storage.sync.receipts.for_chat, chat_id)
    assert len(receipts) == 3
    r = next(iter(receipts.values()))
    assert r.provider is not None
    assert r.provider.lower() == market.a.address.lower()
    assert r.output_tokens == 2
    assert r.ttft_ms is not None
    assert r.cost_wei is not None
    assert r.cost_wei >= 0


async def test_stop_mid_stream_disconnects_the_providers_backend_and_keeps_the_partial_answer(market: Market) -> None:
    consumer = market.consumer
    session = await consumer.open_session(market.model_hex, duration_s=600)
    market.a.backend.behaviour = Behaviour(tokens=[f"t{i} " for i in range(200)], token_delay=0.02)
    received: list[str] = []
    first = asyncio.Event()

    async def chat() -> None:
        async for item in consumer.chat(prompt="tell me a long story", session_id=session.id):
            if isinstance(item, ChunkItem) and content_of(item.data):
                received.append(content_of(item.data))
                first.set()

    task = asyncio.create_task(chat())
    await asyncio.wait_for(first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    record = await market.a.backend.wait_disconnect(within=3)
    assert record.disconnected
    assert not record.completed
    chat_id = (await market.storage.run(market.storage.sync.chats.list_chats))[0].id
    messages = await market.storage.run(market.storage.sync.chats.messages, chat_id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content.startswith("".join(received))
    assert 0 < len(messages[1].content) < 200 * 3
    receipts = await market.storage.run(market.storage.sync.receipts.for_chat, chat_id)
    assert receipts[messages[1].id].failover_note == "stopped by the user"


async def test_close_with_the_providers_report_is_not_a_dispute(market: Market) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=600)
    await collect(market.consumer.chat(prompt="hi", session_id=session.id))

    result = await market.consumer.close_session(session.id)

    on_chain = await market.user.diamond.get_session(bytes.fromhex(session.id[2:]))
    assert (result.disputed, on_chain.closeout_type, on_chain.closed_at > 0) == (False, 0, True)
    assert await market.consumer.sessions() == []


async def test_close_with_the_provider_down_signs_the_dispute_receipt_ourselves(market: Market) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=600)
    await collect(market.consumer.chat(prompt="hi", session_id=session.id))
    await market.a.kill()

    result = await market.consumer.close_session(session.id)

    on_chain = await market.user.diamond.get_session(bytes.fromhex(session.id[2:]))
    assert (result.disputed, on_chain.closeout_type, on_chain.closed_at > 0) == (True, 1, True)
    assert "Cannot connect" in result.reason


async def test_open_by_model_lists_every_provider_and_its_reason_when_all_fail(market: Market) -> None:
    from app.router.consumer.failures import NoProviderError

    await market.a.kill()
    await market.b.kill()

    with pytest.raises(NoProviderError) as caught:
        await market.consumer.open_session(market.model_hex, duration_s=600)

    attempts = {a.provider.lower(): a.reason for a in caught.value.attempts}
    assert set(attempts) == {market.a.address.lower(), market.b.address.lower()}
    assert all("Cannot connect" in reason for reason in attempts.values())
    assert market.a.address in caught.value.user_message
    assert market.b.address in caught.value.user_message


async def test_ranked_bids_put_the_cheaper_of_two_equal_providers_first_with_inputs_kept(market: Market) -> None:
    snapshot = await market.consumer.ranked_bids(market.model_hex)

    assert [b.provider_address for b in snapshot.bids] == [market.a.address, market.b.address]
    assert snapshot.bids[0].scored.score == pytest.approx(2 * snapshot.bids[1].scored.score)
    assert snapshot.supply > 0
    assert snapshot.budget > 0
    assert snapshot.min_stake > 0


async def test_a_provider_shopping_for_its_own_model_never_sees_its_own_bid(market: Market) -> None:
    a = market.a.party
    as_provider = ConsumerService(a.signer, a.diamond, a.token, market.client, market.storage)

    snapshot = await as_provider.ranked_bids(market.model_hex)

    assert [b.provider_address for b in snapshot.bids] == [market.b.address]
    assert snapshot.skipped_own == 1


async def test_concurrent_opens_each_get_their_allowance_and_both_open(market: Market) -> None:
    first, second = await asyncio.gather(
        market.consumer.open_session(market.model_hex, duration_s=600),
        market.consumer.open_session(market.model_hex, duration_s=600),
    )

    assert first.id != second.id
    # Without counting the first open's stake, the second would find the allowance already spent and revert.
    assert {s.id for s in await market.consumer.sessions()} == {first.id, second.id}
    assert first.stake_wei > 0
    assert second.stake_wei > 0


async def test_concurrent_opens_get_distinct_approvals_from_a_provider_that_stamps_by_the_clock_alone(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Go router stamps approvals with time.Now().UnixMilli(): two requests in one millisecond get the same bytes,
    # which the contract takes once. Here the first two requests land in the same millisecond, then time moves on.
    stamps = iter([1_800_000_000_000, 1_800_000_000_000, *range(1_800_000_000_001, 1_800_000_000_100)])
    monkeypatch.setattr(ProviderController, "_approval_timestamp", lambda self: next(stamps))

    first, second = await asyncio.gather(
        market.consumer.open_session(market.model_hex, duration_s=600),
        market.consumer.open_session(market.model_hex, duration_s=600),
    )

    assert {s.id for s in await market.consumer.sessions()} == {first.id, second.id}
    assert next(stamps) == 1_800_000_000_002  # exactly one request was asked again


async def test_a_restarted_consumer_finds_its_open_sessions_on_chain(market: Market, tmp_path: Path) -> None:
    from app.storage.store import AsyncStorage

    session = await market.consumer.open_session(market.model_hex, duration_s=600)
    fresh = await AsyncStorage.open(tmp_path / "fresh.sqlite3")
    user = market.user
    try:
        restarted = ConsumerService(user.signer, user.diamond, user.token, market.client, fresh)
        found = await restarted.start()
        await restarted.stop()
        assert found == 1
        assert [s.id for s in await restarted.sessions()] == [session.id]
        # The provider key was not cached (no session.request on this run): it is recovered from a pong.
        text, _ = await collect(restarted.chat(prompt="still there?", session_id=session.id))
        assert text == "Hello, world!"
    finally:
        await fresh.close()


async def test_expired_sessions_are_closed_by_the_expiry_check(market: Market) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=300)
    await market.client.rpc("evm_increaseTime", [400])
    await market.client.rpc("evm_mine", [])

    closed = await market.consumer.sessions_manager.close_expired()

    assert [c.session_id for c in closed] == [session.id]
    on_chain = await market.user.diamond.get_session(bytes.fromhex(session.id[2:]))
    assert on_chain.closed_at > 0


async def test_an_api_style_chat_sends_the_callers_messages_and_can_skip_the_history(market: Market) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=600)
    conversation = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"}, {"role": "user", "content": "again"}]

    text, _ = await collect(market.consumer.chat(messages=conversation, session_id=session.id,
                                                 params={"temperature": 0.1}, store=False))

    assert text == "Hello, world!"
    body = market.a.backend.requests[0].body
    assert body["messages"] == conversation
    assert body["temperature"] == 0.1
    assert await market.storage.run(market.storage.sync.chats.list_chats) == []


async def test_direct_payment_sessions_escrow_price_times_duration(market: Market) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=600, direct=True)

    on_chain = await market.user.diamond.get_session(bytes.fromhex(session.id[2:]))
    assert on_chain.is_direct_payment_from_user
    assert on_chain.stake >= 600 * session.price_per_second_wei
    assert on_chain.ends_at - on_chain.opened_at >= 590


async def test_withdrawing_released_stakes_after_an_early_close_is_a_mined_transaction(market: Market) -> None:
    session = await market.consumer.open_session(market.model_hex, duration_s=600)
    await market.client.rpc("evm_increaseTime", [120])  # used for a while, then closed early
    await market.client.rpc("evm_mine", [])
    await market.consumer.close_session(session.id)
    assert (await market.user.diamond.user_stakes_on_hold(market.user.address)).on_hold > 0
    await market.client.rpc("evm_increaseTime", [86_400])  # past the next UTC midnight: the hold is released
    await market.client.rpc("evm_mine", [])
    balance_before = await market.user.token.balance_of(market.user.address)

    tx_hash = await market.consumer.withdraw_user_stakes()

    receipt = await market.client.rpc("eth_getTransactionReceipt", [tx_hash])
    assert int(receipt["status"], 16) == 1
    assert await market.user.token.balance_of(market.user.address) > balance_before
