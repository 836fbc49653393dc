"""A chat pane over a real SQLite store and a real OpenAI-shaped HTTP backend on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.gui.chat.pane import ChatPane
from app.gui.chat.stream import ChatBackend, LocalModelBackend
from app.router.provider.backends import OpenAIBackend
from app.storage.records import CachedSession
from app.storage.store import AsyncStorage
from tests.support.openai_backend import Behaviour, OpenAIBackendServer


class StaticSessions:
    """SessionControl over a fixed list (the consumer service stands here in the app)."""

    def __init__(self, sessions: list[CachedSession], names: dict[str, str]) -> None:
        self.sessions = sessions
        self.names = names
        self.closed: list[str] = []

    async def open_sessions(self) -> list[CachedSession]:
        return [s for s in self.sessions if s.id not in self.closed]

    async def close_session(self, session_id: str) -> None:
        self.closed.append(session_id)

    async def model_names(self) -> dict[str, str]:
        return dict(self.names)


async def wait_for(condition: Callable[[], object], within: float = 10.0, what: str = "condition") -> None:
    """Poll ``condition`` on the running loop (never qtbot.waitUntil inside an async test)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def local_chat(
    qtbot: QtBot, tmp_path: Path, behaviour: Behaviour | None = None, backend: ChatBackend | None = None
) -> AsyncIterator[tuple[ChatPane, OpenAIBackendServer]]:
    """A shown ChatPane whose 'local model' is the test backend server."""
    storage = await AsyncStorage.open(tmp_path / "chat.sqlite3")
    async with OpenAIBackendServer(behaviour or Behaviour()) as server:
        http = OpenAIBackend("test-model", server.base_url)
        pane = ChatPane(storage, backend or LocalModelBackend(http, "local model"), local_label="SmolLM2 (local)")
        qtbot.addWidget(pane)  # qtbot closes it after the test; closing here would quit the app's loop
        pane.resize(1000, 700)
        pane.show()
        try:
            await pane.refresh()
            yield pane, server
        finally:
            pane.stop()
            if pane.answer_task is not None:
                await asyncio.wait([pane.answer_task], timeout=2)
            await http.close()
            await storage.close()
