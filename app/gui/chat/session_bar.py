"""Model/session picker with the session's countdown, provider, stake and Close; warns before a session expires."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.gui.chat.receipt_text import mor, short_hex
from app.gui.chat.stream import ChatTarget
from app.gui.widgets import role_label
from app.storage.records import CachedSession

WARN_BEFORE_S = 120  # warn this long before the session ends: enough to open the next one


def countdown(seconds: float) -> str:
    """``1:05:09`` / ``4:09`` / ``ended``."""
    if seconds <= 0:
        return "ended"
    s = int(seconds)
    hours, rest = divmod(s, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class SessionBar(QWidget):
    """The top bar of the chat: pick where prompts go, see what it costs and how long it lasts.

    Signals:
        target_changed(object): the ChatTarget picked (None when a "open new session" row was picked)
        open_session_requested(str): model id to open a new session for (goes through the open-session dialog)
        close_requested(str): session id to close
    """

    target_changed = Signal(object)
    open_session_requested = Signal(str)
    close_requested = Signal(str)

    def __init__(self, clock: Callable[[], float] = time.time, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.picker = QComboBox()
        self.picker.setMinimumWidth(340)
        self.picker.activated.connect(self._picked)
        self.remaining = QLabel("")
        self.remaining.setToolTip("Time left in this session")
        self.provider = role_label("", "hint", wrap=False)
        self.stake = role_label("", "hint", wrap=False)
        self.close_button = QPushButton("Close session")
        self.close_button.setToolTip("Close the session now; unused stake is refunded (part may be held until "
                                     "00:00 UTC)")
        self.close_button.clicked.connect(self._close)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.picker)
        row.addWidget(self.remaining)
        row.addWidget(self.provider)
        row.addWidget(self.stake)
        row.addStretch(1)
        row.addWidget(self.close_button)
        self.banner = QFrame()
        self.banner.setProperty("role", "card")
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(10, 4, 10, 4)
        self.banner_text = role_label("", "error")
        self.next_button = QPushButton("Open the next session")
        self.next_button.clicked.connect(self._open_next)
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.next_button)
        self.banner.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.banner)
        self._targets: list[ChatTarget | str] = []  # str = "open a new session for this model id"
        self.current: ChatTarget | None = None
        self.in_conversation = False
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self._show_session(None)

    def set_options(
        self,
        sessions: Sequence[CachedSession],
        model_names: Mapping[str, str],
        *,
        local_label: str | None = None,
        select_session: str | None = None,
    ) -> None:
        """Fill the picker: open sessions, "open a new session for <model>" per model, the local model."""
        previous = self.current
        self.picker.clear()
        self._targets = []
        for s in sessions:
            name = model_names.get(s.model_id.lower(), short_hex(s.model_id))
            target = ChatTarget("session", s.model_id, f"{name} · {short_hex(s.provider)}", s)
            self._targets.append(target)
            self.picker.addItem(f"● {target.label} · session {short_hex(s.id)}")
        for model_id, name in model_names.items():
            self._targets.append(model_id)
            self.picker.addItem(f"＋ Open a new session for {name}…")
        if local_label is not None:
            self._targets.append(ChatTarget("local", "local", local_label))
            self.picker.addItem(f"◆ {local_label} (local, no session)")
        wanted = select_session or (previous.session.id if previous and previous.session else None)
        index = next((i for i, t in enumerate(self._targets) if isinstance(t, ChatTarget) and t.session
                      and t.session.id == wanted), None)
        if index is None:
            index = next((i for i, t in enumerate(self._targets)
                          if isinstance(t, ChatTarget) and previous and t.kind == previous.kind == "local"), None)
        if index is None:
            index = next((i for i, t in enumerate(self._targets) if isinstance(t, ChatTarget)), -1)
        self.picker.setCurrentIndex(index)
        self._set_current(self._targets[index] if index >= 0 else None)

    def options(self) -> list[str]:
        """The picker's rows as shown."""
        return [self.picker.itemText(i) for i in range(self.picker.count())]

    def pick(self, index: int) -> None:
        """Pick row ``index`` as if the person chose it."""
        self.picker.setCurrentIndex(index)
        self._picked(index)

    def _picked(self, index: int) -> None:
        if not 0 <= index < len(self._targets):
            return
        target = self._targets[index]
        if isinstance(target, str):
            self.open_session_requested.emit(target)
            # the row is an action, not a place to send prompts: go back to the previous target
            previous = next((i for i, t in enumerate(self._targets) if t is self.current), -1)
            self.picker.setCurrentIndex(previous)
            return
        self._set_current(target)

    def _set_current(self, target: ChatTarget | str | None) -> None:
        self.current = target if isinstance(target, ChatTarget) else None
        self._show_session(self.current.session if self.current else None)
        self.target_changed.emit(self.current)

    def _show_session(self, session: CachedSession | None) -> None:
        is_session = session is not None
        for widget in (self.remaining, self.provider, self.stake, self.close_button):
            widget.setVisible(is_session)
        if session is not None:
            self.provider.setText(f"provider {short_hex(session.provider)}")
            self.provider.setToolTip(session.provider)
            self.stake.setText(f"staked {mor(session.stake_wei, 4)}")
        self.tick()

    def seconds_left(self) -> float | None:
        """Seconds until the current session ends (None for the local model)."""
        if self.current is None or self.current.session is None:
            return None
        return self.current.session.ends_at - self.clock()

    def tick(self) -> None:
        """Update the countdown and show the expiry warning while a conversation is going on."""
        left = self.seconds_left()
        if left is None:
            self.banner.hide()
            return
        self.remaining.setText(f"{countdown(left)} left" if left > 0 else "session ended")
        warn = self.in_conversation and left < WARN_BEFORE_S
        if warn:
            self.banner_text.setText(
                f"This session ends in {countdown(left)}; an answer in progress would be cut off."
                if left > 0 else "This session has ended. Open the next one to continue this chat.")
        self.banner.setVisible(warn)

    def _close(self) -> None:
        if self.current is not None and self.current.session is not None:
            self.close_requested.emit(self.current.session.id)

    def _open_next(self) -> None:
        if self.current is not None:
            self.open_session_requested.emit(self.current.model_id)
