"""The conversation list, per-chat persistence, search, rename, delete and export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.gui.chat.conversation_list import ConversationList
from app.storage.records import Chat
from tests.gui.chat.chat_env import local_chat
from tests.support.openai_backend import Behaviour

NOW = dt.datetime(2026, 5, 20, 12, 0, tzinfo=dt.UTC)


def _chat(title: str, days_ago: float) -> Chat:
    at = int((NOW - dt.timedelta(days=days_ago)).timestamp() * 1000)
    return Chat("0x" + f"{abs(hash(title)):x}".rjust(64, "0")[:64], title, "m", None, True, "", None, None, at, at)


def test_chats_are_grouped_by_date_newest_first(qapp: QApplication) -> None:
    view = ConversationList()
    view.show_chats([_chat("old", 40), _chat("today", 0), _chat("week", 3), _chat("yesterday", 1)], now=NOW)
    assert view.group_labels() == ["Today", "Yesterday", "Previous 7 days", "April 2026"]


async def test_first_prompt_titles_the_chat_and_lists_it(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["x"])) as (pane, _server):
        await pane.send("How do sessions work on Morpheus?")
        assert pane.chat is not None
        assert pane.chat.title == "How do sessions work on Morpheus?"
        assert pane.conversations.chat_ids() == [pane.chat.id]
        assert pane.conversations.group_labels() == ["Today"]


async def test_search_finds_chats_by_message_content(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["The capital is Paris"])) as (pane, server):
        await pane.send("France?")
        paris_chat = pane.chat
        server.behaviour = Behaviour(tokens=["Nothing to do with it"])
        await pane.new_chat()
        await pane.send("Something else")
        await pane.search("paris")
        assert paris_chat is not None
        assert pane.conversations.chat_ids() == [paris_chat.id]
        await pane.search("")
        assert len(pane.conversations.chat_ids()) == 2


async def test_rename_and_delete_persist(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["x"])) as (pane, _server):
        await pane.send("hello")
        assert pane.chat is not None
        chat_id = pane.chat.id
        await pane.rename_chat(chat_id, "Greetings")
        stored = await pane.storage.run(pane.storage.sync.chats.get_chat, chat_id)
        assert stored is not None
        assert stored.title == "Greetings"
        await pane.delete_chat(chat_id)
        assert await pane.storage.run(pane.storage.sync.chats.get_chat, chat_id) is None
        assert pane.conversations.chat_ids() == []
        assert pane.transcript.widgets == []


async def test_reopening_a_chat_restores_turns_and_receipts(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["stored answer"])) as (pane, _server):
        await pane.send("Q")
        assert pane.chat is not None
        chat_id = pane.chat.id
        await pane.new_chat()
        assert pane.transcript.widgets == []
        await pane.open_chat(chat_id)
        assert [w.text for w in pane.transcript.widgets] == ["Q", "stored answer"]
        assert pane.transcript.widgets[1].receipt_label.text().startswith("provider local model")


async def test_export_writes_markdown_and_json_with_receipts(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["```python\n", "print(1)\n", "```"])) as (pane, _server):
        await pane.send("Code please")
        await pane.export(tmp_path / "chat.md")
        await pane.export(tmp_path / "chat.json")
        markdown = (tmp_path / "chat.md").read_text(encoding="utf-8")
        assert "## User\n\nCode please" in markdown
        assert "```python\nprint(1)\n```" in markdown
        assert "*provider local model · 1 → 3 tokens" in markdown or "*provider local model ·" in markdown
        document = json.loads((tmp_path / "chat.json").read_text(encoding="utf-8"))
        assert [m["role"] for m in document["messages"]] == ["user", "assistant"]
        assert document["messages"][0]["receipt"] is None
        assert document["messages"][1]["receipt"]["output_tokens"] == 3
        assert document["messages"][1]["receipt"]["cost_wei"] == "0"
