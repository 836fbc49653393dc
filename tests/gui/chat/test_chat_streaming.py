"""Streaming answers in the chat pane: batched rendering, Stop end to end, receipts, regenerate and edit-resend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.gui.chat.stream import AnswerReceipt, ChatRequest, Notice, StreamItem
from tests.gui.chat.chat_env import local_chat, wait_for
from tests.support.openai_backend import Behaviour

TOKENS = [f"tok{i} " for i in range(60)]


async def test_tokens_appear_in_the_view_while_streaming_in_batches(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=TOKENS, token_delay=0.005)) as (pane, _server):
        pane.composer.setPlainText("Count for me")
        pane.submit()
        await wait_for(lambda: len(pane.transcript.widgets) == 2 and pane.transcript.widgets[1].text != "",
                       what="first tokens")
        partial = pane.transcript.widgets[1].text
        assert pane.answering
        assert partial != "".join(TOKENS)  # visible before the answer ended
        assert pane.answer_task is not None
        await pane.answer_task
        answer = pane.transcript.widgets[1]
        assert answer.text == "".join(TOKENS)
        assert 1 <= pane.batcher.flushes < len(TOKENS) // 2  # one repaint per batch, not per token
        assert answer.receipt_label.isVisible()
        assert "→ 60 tokens" in answer.receipt_label.text()


async def test_finished_answer_is_stored_with_its_receipt(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["Hello", " there"])) as (pane, _server):
        await pane.send("Hi")
        assert pane.chat is not None
        stored = await pane.storage.run(pane.storage.sync.chats.messages, pane.chat.id)
        assert [(m.role, m.content) for m in stored] == [("user", "Hi"), ("assistant", "Hello there")]
        receipt = await pane.storage.run(pane.storage.sync.receipts.get, stored[1].id)
        assert receipt is not None
        assert receipt.output_tokens == 2
        assert receipt.ttft_ms is not None
        assert receipt.cost_wei == 0
        assert "no cost (local)" in pane.transcript.widgets[1].receipt_label.text()


async def test_stop_mid_stream_disconnects_the_backend_and_keeps_the_part_received(
    qtbot: QtBot, tmp_path: Path
) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=TOKENS, token_delay=0.03)) as (pane, server):
        pane.composer.setPlainText("Tell me a long story")
        pane.submit()
        await wait_for(lambda: len(pane.transcript.widgets) == 2 and len(pane.transcript.widgets[1].text) > 10,
                       what="some tokens")
        pane.stop_button.click()
        request = await server.wait_disconnect(within=2)
        assert request.disconnected
        assert not request.completed
        assert pane.answer_task is not None
        await wait_for(lambda: pane.answer_task is not None and pane.answer_task.done(), what="task end")
        answer = pane.transcript.widgets[1]
        assert answer.status.text() == "stopped"
        assert "stopped by you" in answer.notice_texts()
        await wait_for(pane.send_button.isEnabled, what="Send enabled again (a done-callback of the task)")
        assert not pane.stop_button.isEnabled()
        assert pane.chat is not None
        stored = await pane.storage.run(pane.storage.sync.chats.messages, pane.chat.id)
        assert stored[1].content == answer.text
        assert 0 < len(answer.text) < len("".join(TOKENS))
        receipt = await pane.storage.run(pane.storage.sync.receipts.get, stored[1].id)
        assert receipt is not None
        assert receipt.failover_note == "stopped by you"


async def test_every_turn_sends_the_whole_conversation_with_chat_settings(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["A1"])) as (pane, server):
        await pane.send("Q1")
        pane.settings_panel.system_prompt.setPlainText("Be brief.")
        pane.settings_panel.temperature.setValue(0.3)
        pane.settings_panel.max_tokens.setValue(256)
        await pane.save_settings()
        await pane.send("Q2")
        body = server.requests[1].body
        assert body["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "Q2"},
        ]
        assert body["temperature"] == 0.3
        assert body["max_tokens"] == 256
        assert "temperature" not in server.requests[0].body  # "model default" sends nothing


async def test_regenerate_replaces_the_last_answer(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["first"])) as (pane, server):
        await pane.send("Q")
        server.behaviour = Behaviour(tokens=["second"])
        await pane.regenerate()
        assert [w.text for w in pane.transcript.widgets] == ["Q", "second"]
        assert server.requests[1].body["messages"] == [{"role": "user", "content": "Q"}]


async def test_edit_and_resend_drops_later_turns_and_answers_the_new_text(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["ok"])) as (pane, server):
        await pane.send("one")
        await pane.send("two")
        first_user = pane.transcript.widgets[0].message_id
        await pane.begin_edit(first_user)
        assert pane.composer.toPlainText() == "one"
        assert pane.edit_hint.isVisibleTo(pane)
        await pane.edit_and_resend(first_user, "uno")
        assert [w.text for w in pane.transcript.widgets] == ["uno", "ok"]
        assert server.requests[-1].body["messages"] == [{"role": "user", "content": "uno"}]


class FailoverBackend:
    """Scripted consumer-side stream: part of an answer, a failover notice, the rest and the receipt."""

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        yield "Part one. "
        yield Notice("provider 0xAb12…34cd failed after 8 s; continued on 0xCd56…78ef")
        yield "Part two."
        yield AnswerReceipt(provider="0xCd5678901234567890123456789012345678ef00", session_id="0x" + "12" * 32,
                            input_tokens=12, output_tokens=40, ttft_ms=210.0, tps=38.2, cost_wei=1_230_000_000_000_000)


async def test_failover_shows_inline_and_the_receipt_names_the_final_provider(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, backend=FailoverBackend()) as (pane, _server):
        await pane.send("Q")
        answer = pane.transcript.widgets[1]
        assert answer.text == "Part one. Part two."
        assert answer.notice_texts() == ["provider 0xAb12…34cd failed after 8 s; continued on 0xCd56…78ef"]
        line = answer.receipt_label.text()
        assert "provider 0xCd56…ef00" in line
        assert "12 → 40 tokens" in line
        assert "TTFT 210 ms" in line
        assert "38.2 tok/s" in line
        assert "0.00123 MOR" in line


async def test_backend_failure_is_shown_in_words_and_the_part_received_is_kept(qtbot: QtBot, tmp_path: Path) -> None:
    async with local_chat(qtbot, tmp_path, Behaviour(tokens=["a", "b", "c", "d"], error_after=2)) as (pane, _server):
        pane.composer.setPlainText("Q")
        pane.submit()
        assert pane.answer_task is not None
        await wait_for(lambda: pane.answer_task is not None and pane.answer_task.done(), what="answer end")
        answer = pane.transcript.widgets[1]
        assert answer.text == "ab"
        assert answer.status.text() == "failed"
        assert pane.error.isVisibleTo(pane)
        assert "backend" in pane.error.text().lower()
