"""Keeps the unlocked wallet's MOR picture and history fresh for the panes, refreshing on new blocks (throttled)."""

from __future__ import annotations

import asyncio
import logging
import time

from PySide6.QtCore import QObject, Signal

from app.bootstrap.services import Services
from app.errors import AppError
from app.events import ChainStatus
from app.gui.async_slot import supervisor
from app.gui.bridge import Bridge
from app.gui.history import HistoryEntry, load_history
from app.gui.mor_picture import MorPicture, load_mor_picture

log = logging.getLogger(__name__)


class WalletModel(QObject):
    """One shared reader of the wallet's on-chain state; panes connect to its signals.

    Signals:
        picture_changed: a new MorPicture
        history_changed: a new list of HistoryEntry, newest first
        failed: an AppError's user message (chain unreachable…)
    """

    picture_changed = Signal(object)
    history_changed = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        services: Services,
        bridge: Bridge | None = None,
        *,
        min_interval: float = 2.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.min_interval = min_interval
        self.picture: MorPicture | None = None
        self.history: list[HistoryEntry] = []
        self._running: asyncio.Task[None] | None = None
        self._last_block: int | None = None
        self._last_refresh = 0.0
        self._again = False
        self._closed = False
        if bridge is not None:
            bridge.chain_status.connect(self._on_chain_status)

    @property
    def address(self) -> str | None:
        return self.services.wallet.address

    async def refresh(self) -> MorPicture | None:
        """Read the picture and history now (the caller awaits it; used after a transaction and by tests)."""
        address = self.address
        if address is None:
            return None
        self._last_refresh = time.monotonic()
        try:
            picture, history = await asyncio.gather(
                load_mor_picture(self.services, address), load_history(self.services, address)
            )
        except AppError as e:
            log.info("wallet refresh failed: %s", e.user_message)
            if not self._closed:
                self.failed.emit(e.user_message)
            return None
        if address != self.address or self._closed:  # the wallet changed (reset, lock) or the window closed
            return None
        self.picture, self.history = picture, history
        self.picture_changed.emit(picture)
        self.history_changed.emit(history)
        return picture

    def close(self) -> None:
        """Stop refreshing (the window is closing or the services stop); pending results are dropped."""
        self._closed = True
        if self._running is not None:
            self._running.cancel()

    def request_refresh(self) -> None:
        """Refresh soon, at most once per ``min_interval``; calls during a refresh fold into one more."""
        if self._closed:
            return
        if self._running is not None and not self._running.done():
            self._again = True
            return
        self._running = supervisor().spawn(self._throttled(), name="wallet refresh")

    async def _throttled(self) -> None:
        while True:
            wait = self.min_interval - (time.monotonic() - self._last_refresh)
            if wait > 0:
                await asyncio.sleep(wait)
            self._again = False
            await self.refresh()
            if not self._again:
                return

    def _on_chain_status(self, status: ChainStatus) -> None:
        if status.reachable and status.block is not None and status.block != self._last_block:
            self._last_block = status.block
            self.request_refresh()
