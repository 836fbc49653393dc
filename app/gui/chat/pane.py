"""The chat pane: conversation list, session bar, streaming transcript, composer with Send/Stop/Regenerate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.errors import AppError, PeerError
from app.gui.async_slot import run_async
from app.gui.chat.answer import AnswerRecorder
from app.gui.chat.batcher import DeltaBatcher
from app.gui.chat.chat_settings import ChatSettingsPanel
from app.gui.chat.conversation_list import ConversationList
from app.gui.chat.export import write_export
from app.gui.chat.message_widget import MessageWidget
from app.gui.chat.session_bar import SessionBar
from app.gui.chat.stream import AnswerReceipt, ChatBackend, ChatRequest, Notice, StreamItem
from app.gui.chat.transcript import TranscriptView
from app.gui.widgets import error_label, role_label, show_error
from app.storage.records import CachedSession, Chat
from app.storage.store import AsyncStorage

NEW_CHAT_TITLE = "New chat"
PERSIST_EVERY_S = 0.5  # streamed text reaches SQLite at least this often (a crash keeps what arrived)


class SessionControl(Protocol):
    """What the chat needs from the consumer side besides streaming."""

    async def open_sessions(self) -> list[CachedSession]: ...

    async def close_session(self, session_id: str) -> None: ...

    async def model_names(self) -> dict[str, str]: ...


class Composer(QPlainTextEdit):
    """The prompt box: Enter sends, Shift+Enter inserts a newline.

    Signals:
        submitted(): Enter was pressed
    """

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class ChatPane(QWidget):
    """Everything in the Chat page. Public coroutines (``send``, ``regenerate``, …) are what the slots run.

    Signals:
        open_session_requested(str): model id; the app opens the marketplace's open-session dialog for it
    """

    open_session_requested = Signal(str)

    def __init__(
        self,
        storage: AsyncStorage,
        backend: ChatBackend,
        sessions: SessionControl | None = None,
        *,
        local_label: str | None = None,
        clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.storage = storage
        self.backend = backend
        self.sessions = sessions
        self.local_label = local_label
        self.chat: Chat | None = None
        self.answer_task: asyncio.Task[None] | None = None
        self._editing: int | None = None
        self._models: dict[str, str] = {}
        self.batcher = DeltaBatcher(parent=self)
        self._build(clock)

    # -- layout ----------------------------------------------------------------------------------------------
    def _build(self, clock: Callable[[], float]) -> None:
        self.conversations = ConversationList()
        self.bar = SessionBar(clock)
        self.settings_panel = ChatSettingsPanel()
        self.settings_panel.hide()
        self.transcript = TranscriptView()
        self.error = error_label()
        self.edit_hint = role_label("Editing an earlier message: Send resends the conversation from there "
                                    "(later turns are replaced).", "hint")
        self.edit_hint.hide()
        self.composer = Composer()
        self.composer.setPlaceholderText("Message (Enter to send, Shift+Enter for a new line)")
        self.composer.setFixedHeight(84)
        self.send_button = QPushButton("Send")
        self.send_button.setProperty("role", "primary")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.regenerate_button = QPushButton("Regenerate")
        self.settings_button = QPushButton("Chat settings")
        self.settings_button.setCheckable(True)
        self.export_md_button = QPushButton("Export .md")
        self.export_json_button = QPushButton("Export .json")

        actions = QHBoxLayout()
        for button in (self.settings_button, self.export_md_button, self.export_json_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.regenerate_button)
        actions.addWidget(self.stop_button)
        actions.addWidget(self.send_button)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(8, 8, 8, 8)
        column.addWidget(self.bar)
        column.addWidget(self.settings_panel)
        column.addWidget(self.transcript, 1)
        column.addWidget(self.error)
        column.addWidget(self.edit_hint)
        column.addWidget(self.composer)
        column.addLayout(actions)
        splitter = QSplitter()
        splitter.addWidget(self.conversations)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 900])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.send_button.clicked.connect(self.submit)
        self.composer.submitted.connect(self.submit)
        self.stop_button.clicked.connect(self.stop)
        self.regenerate_button.clicked.connect(lambda: self._start(self.regenerate(), "chat-regenerate"))
        self.settings_button.toggled.connect(self.settings_panel.setVisible)
        self.settings_panel.changed.connect(lambda: self._run(self.save_settings(), "chat-settings"))
        self.export_md_button.clicked.connect(lambda: self._ask_export(".md"))
        self.export_json_button.clicked.connect(lambda: self._ask_export(".json"))
        self.conversations.new_requested.connect(lambda: self._run(self.new_chat(), "chat-new"))
        self.conversations.chat_selected.connect(lambda cid: self._run(self.open_chat(cid), "chat-open"))
        self.conversations.rename_requested.connect(lambda cid, t: self._run(self.rename_chat(cid, t), "chat-rename"))
        self.conversations.delete_requested.connect(lambda cid: self._run(self.delete_chat(cid), "chat-delete"))
        self.conversations.search_changed.connect(lambda text: self._run(self.search(text), "chat-search"))
        self.transcript.edit_requested.connect(lambda mid: self._run(self.begin_edit(mid), "chat-edit"))
        self.bar.open_session_requested.connect(self.open_session_requested)
        self.bar.close_requested.connect(lambda sid: self._run(self.close_session(sid), "chat-close-session"))
        self.bar.target_changed.connect(lambda _t: self._run(self._remember_target(), "chat-target"))
        self.batcher.flushed.connect(self._show_delta)
        self._streaming_widget: MessageWidget | None = None

    def _run(self, coro: Coroutine[Any, Any, object], name: str) -> asyncio.Task[None]:
        return run_async(lambda: coro, name=name, error_label=self.error)

    # -- chats -----------------------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Reload open sessions, model names and the chat list (open the newest chat if none is open)."""
        if self.sessions is not None:
            self._models = await self.sessions.model_names()
            open_sessions = await self.sessions.open_sessions()
        else:
            open_sessions = []
        self.bar.set_options(open_sessions, self._models, local_label=self.local_label,
                             select_session=self.chat.session_id if self.chat else None)
        chats = await self.storage.run(self.storage.sync.chats.list_chats)
        self.conversations.show_chats(chats, self.chat.id if self.chat else None)
        if self.chat is None and chats:
            await self.open_chat(chats[0].id)

    async def add_session(self, session: CachedSession) -> None:
        """A session was just opened (from the marketplace dialog): list it and send prompts to it."""
        if self.sessions is not None:
            self._models = await self.sessions.model_names()
            open_sessions = await self.sessions.open_sessions()
        else:
            open_sessions = [session]
        if all(s.id != session.id for s in open_sessions):
            open_sessions.append(session)
        self.bar.set_options(open_sessions, self._models, local_label=self.local_label, select_session=session.id)

    async def new_chat(self) -> Chat:
        """Create an empty chat for the current target and open it."""
        target = self.bar.current
        chat = await self.storage.run(
            self.storage.sync.chats.create_chat, NEW_CHAT_TITLE, target.model_id if target else "",
            session_id=target.session.id if target and target.session else None,
            is_local=bool(target and target.kind == "local"),
        )
        await self._reload_list(chat.id)
        await self.open_chat(chat.id)
        return chat

    async def open_chat(self, chat_id: str) -> None:
        """Show a chat: its settings and transcript (only the latest turns are built as widgets)."""
        chats = self.storage.sync.chats
        chat = await self.storage.run(chats.get_chat, chat_id)
        if chat is None:
            raise AppError("That chat no longer exists; pick another one.")
        messages = await self.storage.run(chats.messages, chat_id)
        receipts = await self.storage.run(self.storage.sync.receipts.for_chat, chat_id)
        self.chat = chat
        self.settings_panel.load(chat)
        self.transcript.set_messages(messages, receipts)
        self.bar.in_conversation = bool(messages)
        if chat.session_id:
            self.bar.set_options(await self._open_sessions(), self._models, local_label=self.local_label,
                                 select_session=chat.session_id)

    async def _open_sessions(self) -> list[CachedSession]:
        return await self.sessions.open_sessions() if self.sessions is not None else []

    async def rename_chat(self, chat_id: str, title: str) -> None:
        """Rename a chat."""
        chat = await self.storage.run(self.storage.sync.chats.update_chat, chat_id, title=title)
        if self.chat and self.chat.id == chat.id:
            self.chat = chat

    async def delete_chat(self, chat_id: str) -> None:
        """Delete a chat with its messages and receipts."""
        await self.storage.run(self.storage.sync.chats.delete_chat, chat_id)
        if self.chat and self.chat.id == chat_id:
            self.chat = None
            self.transcript.set_messages([], {})
        await self._reload_list(None)

    async def search(self, text: str) -> None:
        """Search titles and content; an empty search lists every chat again."""
        if not text:
            await self._reload_list(self.chat.id if self.chat else None)
            return
        hits = await self.storage.run(self.storage.sync.chats.search, text)
        self.conversations.show_hits(hits)

    async def _reload_list(self, select: str | None) -> None:
        chats = await self.storage.run(self.storage.sync.chats.list_chats)
        self.conversations.show_chats(chats, select)

    async def save_settings(self) -> None:
        """Store the settings panel's values on the current chat."""
        if self.chat is None:
            return
        prompt, temperature, max_tokens = self.settings_panel.values()
        self.chat = await self.storage.run(self.storage.sync.chats.update_chat, self.chat.id,
                                           system_prompt=prompt, temperature=temperature, max_tokens=max_tokens)

    async def _remember_target(self) -> None:
        target = self.bar.current
        if self.chat is None or target is None:
            return
        self.chat = await self.storage.run(
            self.storage.sync.chats.update_chat, self.chat.id, model_id=target.model_id,
            session_id=target.session.id if target.session else None, is_local=target.kind == "local")

    async def close_session(self, session_id: str) -> None:
        """Close the session on chain (through the consumer side) and refresh the picker."""
        if self.sessions is None:
            raise PeerError("Sessions are not available: unlock the wallet first.")
        await self.sessions.close_session(session_id)
        self.bar.set_options(await self._open_sessions(), self._models, local_label=self.local_label)

    # -- turns -----------------------------------------------------------------------------------------------
    def submit(self) -> None:
        """Send (or resend an edited message) the composer's text, as a task Stop can cancel."""
        text = self.composer.toPlainText().strip()
        if not text or self.answering:
            return
        self.composer.clear()
        if self._editing is not None:
            message_id, self._editing = self._editing, None
            self.edit_hint.hide()
            self._start(self.edit_and_resend(message_id, text), "chat-resend")
        else:
            self._start(self.send(text), "chat-send")

    def _start(self, coro: Coroutine[Any, Any, object], name: str) -> None:
        self.answer_task = self._run(coro, name)
        self._set_answering(True)
        self.answer_task.add_done_callback(lambda _t: self._set_answering(False))

    @property
    def answering(self) -> bool:
        return self.answer_task is not None and not self.answer_task.done()

    def _set_answering(self, answering: bool) -> None:
        self.send_button.setEnabled(not answering)
        self.regenerate_button.setEnabled(not answering)
        self.stop_button.setEnabled(answering)

    def stop(self) -> None:
        """Cancel the answer in progress end to end (the provider's backend sees the disconnect)."""
        if self.answer_task is not None and not self.answer_task.done():
            self.answer_task.cancel()

    async def send(self, text: str) -> None:
        """Add a user turn (creating a chat if needed, titled after the first prompt) and stream the answer."""
        if self.chat is None:
            await self.new_chat()
        assert self.chat is not None
        chats = self.storage.sync.chats
        message = await self.storage.run(chats.add_message, self.chat.id, "user", text)
        self.transcript.append_message(message)
        self.transcript.scroll_to_bottom()
        if self.chat.title == NEW_CHAT_TITLE:
            self.chat = await self.storage.run(chats.update_chat, self.chat.id, title=_title_from(text))
            await self._reload_list(self.chat.id)
        await self.answer()

    async def regenerate(self) -> None:
        """Drop the last answer and ask again with the same conversation."""
        if self.chat is None:
            return
        chats = self.storage.sync.chats
        messages = await self.storage.run(chats.messages, self.chat.id)
        if not messages or messages[-1].role != "assistant":
            raise AppError("There is no answer to regenerate yet; send a message first.")
        await self.storage.run(chats.delete_messages_from, self.chat.id, messages[-1].position)
        await self.open_chat(self.chat.id)
        await self.answer()

    async def begin_edit(self, message_id: int) -> None:
        """Put an earlier user message into the composer; Send then resends from there."""
        message = await self.storage.run(self.storage.sync.chats.get_message, message_id)
        if message is None:
            return
        self._editing = message_id
        self.composer.setPlainText(message.content)
        self.edit_hint.show()
        self.composer.setFocus()

    async def edit_and_resend(self, message_id: int, text: str) -> None:
        """Replace an earlier user message, drop every later turn, and stream a new answer."""
        await self.storage.run(self.storage.sync.chats.edit_message, message_id, text)
        assert self.chat is not None
        await self.open_chat(self.chat.id)
        await self.answer()

    def _show_delta(self, text: str) -> None:
        widget = self._streaming_widget
        if widget is not None:
            widget.append_text(text)
            widget.set_status("")

    async def answer(self) -> None:
        """Stream an answer to the whole conversation into a new assistant turn, with its receipt underneath."""
        target = self.bar.current
        if self.chat is None:
            return
        if target is None:
            raise PeerError("Pick an open session or the local model above, or open a new session first.")
        chats = self.storage.sync.chats
        history = await self.storage.run(chats.messages, self.chat.id)
        payload = [{"role": "system", "content": self.chat.system_prompt}] if self.chat.system_prompt else []
        payload += [{"role": m.role, "content": m.content} for m in history if m.role in ("user", "assistant")]
        request = ChatRequest(target, payload, self.chat.temperature, self.chat.max_tokens)
        message = await self.storage.run(chats.add_message, self.chat.id, "assistant", "")
        widget = self.transcript.append_message(message)
        widget.set_status("waiting for the first token…")
        self._streaming_widget = widget
        self.bar.in_conversation = True
        recorder = AnswerRecorder(self.storage, message.id, target)
        try:
            await self._consume(self.backend.stream(request), recorder, widget)
        except asyncio.CancelledError:
            recorder.stopped = True
            raise
        except AppError as e:
            recorder.failed = e.user_message
            raise
        finally:
            self.batcher.flush()
            self._streaming_widget = None
            receipt = await recorder.finish()
            if recorder.stopped:
                widget.set_status("stopped")
            elif recorder.failed:
                widget.set_status("failed")
                widget.add_notice(recorder.failed)
            else:
                widget.set_status("")
            widget.set_receipt(receipt)
        moved = recorder.reported.session_id if recorder.reported else None
        if target.session is not None and moved and moved != target.session.id:
            # failover continued on a new session: prompts go there from now on
            self.bar.set_options(await self._open_sessions(), self._models, local_label=self.local_label,
                                 select_session=moved)

    async def _consume(self, items: AsyncIterator[StreamItem], recorder: AnswerRecorder, widget: MessageWidget
                       ) -> None:
        try:
            async for item in items:
                if isinstance(item, str):
                    recorder.text(item)
                    self.batcher.push(item)
                elif isinstance(item, Notice):
                    self.batcher.flush()
                    recorder.notices.append(item.text)
                    widget.add_notice(item.text)
                elif isinstance(item, AnswerReceipt):
                    recorder.reported = item
                await recorder.persist_if_due(PERSIST_EVERY_S)
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:  # close the backend's generator now: it drops the connection
                await aclose()

    # -- export ----------------------------------------------------------------------------------------------
    async def export(self, path: Path) -> None:
        """Write the current chat (with receipts) to ``path`` (.md or .json)."""
        if self.chat is None:
            raise AppError("Open a chat to export it.")
        messages = await self.storage.run(self.storage.sync.chats.messages, self.chat.id)
        receipts = await self.storage.run(self.storage.sync.receipts.for_chat, self.chat.id)
        await asyncio.to_thread(write_export, path, self.chat, messages, receipts)

    def _ask_export(self, suffix: str) -> None:
        if self.chat is None:
            show_error(self.error, "Open a chat to export it.")
            return
        dialog = QFileDialog(self, "Export chat", f"{_title_from(self.chat.title)}{suffix}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(suffix.lstrip("."))
        dialog.fileSelected.connect(lambda name: self._run(self.export(Path(name)), "chat-export"))
        dialog.open()  # never exec(): the loop keeps running


def _title_from(text: str) -> str:
    first = " ".join(text.split())
    return first[:48] + ("…" if len(first) > 48 else "") or NEW_CHAT_TITLE
