"""Chats and messages: create, stream, edit-and-resend, search, long chats, date groups, upstream shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.errors import StorageError
from app.storage import Receipt, Storage
from app.storage.convert import chat_history, chat_list_item
from app.storage.dates import group_by_date

MODEL = "0x" + "ab" * 32


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Storage]:
    s = Storage(tmp_path / "node.sqlite3")
    yield s
    s.close()


def test_new_chat_gets_an_upstream_shaped_id_and_keeps_its_options(store: Storage) -> None:
    chat = store.chats.create_chat("Hi", MODEL, system_prompt="be brief", temperature=0.2, max_tokens=64)
    assert chat.id.startswith("0x")
    assert len(chat.id) == 66
    assert store.chats.get_chat(chat.id) == chat


def test_update_chat_changes_only_the_given_fields(store: Storage) -> None:
    chat = store.chats.create_chat("Hi", MODEL, session_id="0x" + "11" * 32, temperature=0.5)
    updated = store.chats.update_chat(chat.id, title="Renamed", session_id=None)
    assert (updated.title, updated.session_id, updated.temperature) == ("Renamed", None, 0.5)


def test_update_of_a_missing_chat_is_an_error(store: Storage) -> None:
    with pytest.raises(StorageError, match="No chat"):
        store.chats.update_chat("0x" + "00" * 32, title="x")


def test_invalid_chat_id_is_rejected(store: Storage) -> None:
    with pytest.raises(StorageError, match="0x followed by 64 hex"):
        store.chats.create_chat("x", MODEL, chat_id="chat-1")


def test_messages_come_back_in_order_and_append_streams_into_one(store: Storage) -> None:
    chat = store.chats.create_chat("Hi", MODEL)
    store.chats.add_message(chat.id, "user", "hello")
    answer = store.chats.add_message(chat.id, "assistant", "")
    for delta in ["Hel", "lo ", "there"]:
        store.chats.append_to_message(answer.id, delta)
    assert [(m.position, m.role, m.content) for m in store.chats.messages(chat.id)] == [
        (0, "user", "hello"), (1, "assistant", "Hello there"),
    ]


def test_edit_and_resend_deletes_every_later_message(store: Storage) -> None:
    chat = store.chats.create_chat("Hi", MODEL)
    first = store.chats.add_message(chat.id, "user", "q1")
    store.chats.add_message(chat.id, "assistant", "a1")
    store.chats.add_message(chat.id, "user", "q2")
    store.chats.add_message(chat.id, "assistant", "a2")
    edited = store.chats.edit_message(first.id, "q1 edited")
    assert edited.content == "q1 edited"
    assert [m.content for m in store.chats.messages(chat.id)] == ["q1 edited"]
    # The next message goes right after the edited one.
    assert store.chats.add_message(chat.id, "assistant", "new").position == 1


def test_deleting_a_chat_deletes_its_messages_and_receipts(store: Storage) -> None:
    chat = store.chats.create_chat("Hi", MODEL)
    answer = store.chats.add_message(chat.id, "assistant", "a")
    store.receipts.save(Receipt(answer.id, provider="0x" + "22" * 20, cost_wei=1))
    assert store.chats.delete_chat(chat.id)
    assert store.chats.get_message(answer.id) is None
    assert store.receipts.get(answer.id) is None
    assert not store.chats.delete_chat(chat.id)


def test_receipt_keeps_wei_amounts_above_64_bits(store: Storage) -> None:
    chat = store.chats.create_chat("Hi", MODEL)
    answer = store.chats.add_message(chat.id, "assistant", "a")
    receipt = Receipt(answer.id, provider="0x" + "22" * 20, bid_id="0x" + "33" * 32, session_id="0x" + "44" * 32,
                      model_id=MODEL, input_tokens=12, output_tokens=345, ttft_ms=812.5, tps=41.2,
                      cost_wei=123 * 10**24, failover_note="provider A failed; switched to B")
    store.receipts.save(receipt)
    assert store.receipts.get(answer.id) == receipt
    assert store.receipts.for_chat(chat.id) == {answer.id: receipt}


def test_search_finds_titles_and_message_words_by_prefix(store: Storage) -> None:
    a = store.chats.create_chat("Rust lifetimes", MODEL)
    b = store.chats.create_chat("Cooking", MODEL)
    msg = store.chats.add_message(b.id, "user", "How long do I boil an artichoke?")
    hits = store.chats.search("artich")
    assert [(h.chat_id, h.message_id) for h in hits] == [(b.id, msg.id)]
    assert "[artichoke]" in hits[0].snippet
    assert [h.chat_id for h in store.chats.search("lifetime")] == [a.id]


def test_search_treats_punctuation_as_text_not_query_syntax(store: Storage) -> None:
    chat = store.chats.create_chat("x", MODEL)
    store.chats.add_message(chat.id, "user", 'what does "NEAR(a b)" * OR mean')
    assert len(store.chats.search('"NEAR(a OR')) == 1
    assert store.chats.search("   ") == []


def test_search_follows_streamed_and_edited_content(store: Storage) -> None:
    chat = store.chats.create_chat("x", MODEL)
    msg = store.chats.add_message(chat.id, "assistant", "")
    store.chats.append_to_message(msg.id, "photosynthesis")
    assert len(store.chats.search("photosynth")) == 1
    store.chats.edit_message(msg.id, "respiration")
    assert store.chats.search("photosynth") == []
    assert len(store.chats.search("respiration")) == 1


def test_search_falls_back_to_like_without_the_fts_index(store: Storage) -> None:
    chat = store.chats.create_chat("x", MODEL)
    store.chats.add_message(chat.id, "user", "100% sure_thing")
    with store.db.write() as conn:
        for name in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE messages_fts")
    assert len(store.chats.search("0% sure_")) == 1
    assert store.chats.search("0%x") == []


def test_five_thousand_message_chat_loads_in_order_through_the_index(store: Storage) -> None:
    chat = store.chats.create_chat("long", MODEL)
    with store.db.write() as conn:
        conn.executemany(
            "INSERT INTO messages (chat_id, position, role, content, created, updated) VALUES (?,?,?,?,0,0)",
            [(chat.id, i, "user" if i % 2 == 0 else "assistant", f"message {i} " * 20) for i in range(5000)],
        )
        plan = " ".join(
            str(tuple(r)) for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE chat_id = ? AND position >= 0 ORDER BY position",
                (chat.id,),
            )
        )
    assert "USING INDEX" in plan
    assert "TEMP B-TREE" not in plan
    messages = store.chats.messages(chat.id)
    assert len(messages) == 5000
    assert messages[-1].position == 4999


def test_chats_are_grouped_by_date_newest_first(store: Storage) -> None:
    tz = dt.UTC
    now = dt.datetime(2026, 3, 15, 12, 0, tzinfo=tz)

    def at(days_ago: float) -> int:
        return int((now - dt.timedelta(days=days_ago)).timestamp() * 1000)

    for title, days in [("today", 0.1), ("yesterday", 1), ("week", 4), ("month", 20), ("old", 60), ("older", 61)]:
        store.chats.create_chat(title, MODEL, at=at(days))
    groups = group_by_date(store.chats.list_chats(), now)
    assert [(label, [c.title for c in chats]) for label, chats in groups] == [
        ("Today", ["today"]),
        ("Yesterday", ["yesterday"]),
        ("Previous 7 days", ["week"]),
        ("Previous 30 days", ["month"]),
        ("January 2026", ["old", "older"]),
    ]


def test_upstream_chat_shapes_pair_prompts_with_responses(store: Storage) -> None:
    chat = store.chats.create_chat("Upstream", MODEL, system_prompt="be nice", at=1_700_000_000_000)
    store.chats.add_message(chat.id, "user", "hi", at=1_700_000_001_000)
    answer = store.chats.add_message(chat.id, "assistant", "", at=1_700_000_002_000)
    store.chats.append_to_message(answer.id, "hello!")
    store.chats.add_message(chat.id, "user", "pending question", at=1_700_000_009_000)
    chat = store.chats.get_chat(chat.id) or chat

    assert chat_list_item(chat) == {
        "chatId": chat.id, "modelId": MODEL, "title": "Upstream", "isLocal": False, "createdAt": 1_700_000_000,
    }
    history = chat_history(chat, store.chats.messages(chat.id))
    assert (history["title"], history["modelId"], history["isLocal"]) == ("Upstream", MODEL, False)
    first, second = history["messages"]
    assert first["prompt"]["messages"] == [
        {"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"},
    ]
    assert (first["response"], first["promptAt"]) == ("hello!", 1_700_000_001)
    assert first["responseAt"] >= 1_700_000_002
    assert (second["response"], second["promptAt"], second["isImageContent"]) == ("", 1_700_000_009, False)
