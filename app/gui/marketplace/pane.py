"""The marketplace pane: models with search and tag filter, ranked bids with presets and filters, detail, open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import AppError, PeerError
from app.gui.async_slot import run_async
from app.gui.chat.receipt_text import mor, short_hex
from app.gui.marketplace.bid_table import BidTable
from app.gui.marketplace.market_data import (
    SECONDS_PER_HOUR,
    BidFilter,
    BidRow,
    ModelRow,
    SortPreset,
    explain,
    filter_models,
    visible_rows,
    with_ping,
)
from app.gui.marketplace.open_dialog import OpenSessionDialog
from app.gui.marketplace.source import MarketSource, MarketView, SessionOpener
from app.gui.marketplace.trend_chart import TrendChart, series_from
from app.gui.widgets import error_label, role_label
from app.storage.store import AsyncStorage

ALLOW_KEY = "marketplace.allow"
DENY_KEY = "marketplace.deny"
MODEL_COLUMNS = ("Model", "Type", "Tags", "Bids", "MOR/hour")
ALL_TAGS = "All tags"


class MarketplacePane(QWidget):
    """Browse models and bids; everything the score depends on is visible, and opening goes through a preview.

    Signals:
        session_opened(object): a CachedSession opened from the dialog (the app hands it to the chat)
    """

    session_opened = Signal(object)

    def __init__(self, source: MarketSource, opener: SessionOpener, storage: AsyncStorage,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source, self.opener, self.storage = source, opener, storage
        self.models: list[ModelRow] = []
        self.view: MarketView | None = None
        self.rows: list[BidRow] = []
        self.allow: set[str] = set()
        self.deny: set[str] = set()
        self.dialog: OpenSessionDialog | None = None
        self._build()

    def _build(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models")
        self.search.setClearButtonEnabled(True)
        self.tag = QComboBox()
        self.tag.addItem(ALL_TAGS)
        self.model_table = QTableWidget(0, len(MODEL_COLUMNS))
        self.model_table.setHorizontalHeaderLabels(MODEL_COLUMNS)
        self.model_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.model_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.model_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.model_table.verticalHeader().hide()
        self.model_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.model_table.horizontalHeader().setStretchLastSection(True)
        left = QWidget()
        left_col = QVBoxLayout(left)
        left_col.addWidget(role_label("Models", "title"))
        left_col.addWidget(self.search)
        left_col.addWidget(self.tag)
        left_col.addWidget(self.model_table, 1)

        self.title = role_label("Pick a model", "title")
        self.preset = QComboBox()
        for preset in SortPreset:
            self.preset.addItem(preset.value, preset)
        self.min_tps = QDoubleSpinBox()
        self.min_tps.setRange(0, 10_000)
        self.min_tps.setSpecialValueText("any")
        self.max_price = QDoubleSpinBox()
        self.max_price.setRange(0, 1_000_000)
        self.max_price.setDecimals(4)
        self.max_price.setSpecialValueText("any")
        self.allow_button = QPushButton("Allow only this provider")
        self.deny_button = QPushButton("Deny provider")
        self.clear_lists_button = QPushButton("Clear allow/deny")
        self.lists_label = role_label("", "hint", wrap=False)
        self.refresh_button = QPushButton("Refresh")
        controls = QHBoxLayout()
        for label, widget in (("Sort:", self.preset), ("Min TPS:", self.min_tps), ("Max MOR/hour:", self.max_price)):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.refresh_button)
        lists = QHBoxLayout()
        for button in (self.allow_button, self.deny_button, self.clear_lists_button):
            lists.addWidget(button)
        lists.addWidget(self.lists_label)
        lists.addStretch(1)
        self.bids = BidTable()
        self.detail = QLabel("Select a bid to see why it ranks there.")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.detail.setMinimumWidth(340)
        self.chart = TrendChart()
        self.open_button = QPushButton("Open session…")
        self.open_button.setProperty("role", "primary")
        self.open_button.setEnabled(False)
        self.error = error_label()
        detail_row = QHBoxLayout()
        detail_col = QVBoxLayout()
        detail_col.addWidget(self.detail, 1)
        detail_col.addWidget(self.open_button)
        detail_row.addLayout(detail_col)
        chart_col = QVBoxLayout()
        chart_col.addWidget(role_label("Our measurements of this provider over time", "hint"))
        chart_col.addWidget(self.chart, 1)
        detail_row.addLayout(chart_col, 1)
        right = QWidget()
        right_col = QVBoxLayout(right)
        right_col.addWidget(self.title)
        right_col.addLayout(controls)
        right_col.addLayout(lists)
        right_col.addWidget(self.bids, 3)
        right_col.addWidget(self.error)
        right_col.addLayout(detail_row, 2)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 900])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.search.textChanged.connect(lambda _t: self._show_models())
        self.tag.currentIndexChanged.connect(lambda _i: self._show_models())
        self.model_table.itemSelectionChanged.connect(self._model_picked)
        self.preset.currentIndexChanged.connect(lambda _i: self._show_bids())
        self.min_tps.valueChanged.connect(lambda _v: self._show_bids())
        self.max_price.valueChanged.connect(lambda _v: self._show_bids())
        self.bids.itemSelectionChanged.connect(self._bid_picked)
        self.allow_button.clicked.connect(lambda: self._run(self.set_list(allow=True), "market-allow"))
        self.deny_button.clicked.connect(lambda: self._run(self.set_list(allow=False), "market-deny"))
        self.clear_lists_button.clicked.connect(lambda: self._run(self.clear_lists(), "market-clear-lists"))
        self.refresh_button.clicked.connect(lambda: self._run(self.refresh(), "market-refresh"))
        self.open_button.clicked.connect(lambda: self.open_dialog())

    def _run(self, coro: Coroutine[Any, Any, object], name: str) -> asyncio.Task[None]:
        return run_async(lambda: coro, name=name, error_label=self.error)

    # -- models ----------------------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Reload allow/deny lists, the models and (if one is shown) its bids."""
        await self._load_lists()
        self.models = await self.source.models()
        tags = sorted({t for m in self.models for t in m.tags}, key=str.lower)
        current = self.tag.currentText()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItems([ALL_TAGS, *tags])
        self.tag.setCurrentText(current if current in tags else ALL_TAGS)
        self.tag.blockSignals(False)
        self._show_models()
        if self.view is not None:
            await self.show_model(self.view.model_id)

    def shown_models(self) -> list[ModelRow]:
        """Models passing the search and tag filter, in table order."""
        tag = self.tag.currentText()
        return filter_models(self.models, self.search.text(), None if tag == ALL_TAGS else tag)

    def _show_models(self) -> None:
        shown = self.shown_models()
        self.model_table.blockSignals(True)
        self.model_table.setRowCount(len(shown))
        for r, m in enumerate(shown):
            price = ("—" if m.min_price is None or m.max_price is None else
                     f"{mor(m.min_price * SECONDS_PER_HOUR, 4)} – {mor(m.max_price * SECONDS_PER_HOUR, 4)}")
            for c, text in enumerate((m.name, m.kind, ", ".join(m.tags), str(m.active_bids), price)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, m.model_id)
                item.setToolTip(m.model_id)
                self.model_table.setItem(r, c, item)
        self.model_table.blockSignals(False)

    def _model_picked(self) -> None:
        items = self.model_table.selectedItems()
        if items:
            self._run(self.show_model(str(items[0].data(Qt.ItemDataRole.UserRole))), "market-model")

    def model_name(self, model_id: str) -> str:
        return next((m.name for m in self.models if m.model_id.lower() == model_id.lower()), short_hex(model_id))

    # -- bids ------------------------------------------------------------------------------------------------
    async def show_model(self, model_id: str) -> None:
        """Rank the model's bids, show them, then ping every provider (rows update as pongs arrive)."""
        self.title.setText(self.model_name(model_id))
        self.view = await self.source.market(model_id)
        self.rows = list(self.view.bids)
        self._show_bids()
        await asyncio.gather(*(self._ping(row.bid_id) for row in self.view.bids))

    async def _ping(self, bid_id: str) -> None:
        row = next(r for r in self.rows if r.bid_id == bid_id)
        try:
            updated = with_ping(row, await self.source.ping(row))
        except PeerError as e:
            updated = with_ping(row, None, e.user_message)
        self.rows = [updated if r.bid_id == bid_id else r for r in self.rows]
        # the ping is in no score, sort key, filter, tooltip or detail text: update its cell, don't rebuild the table
        self.bids.update_ping(updated)

    def current_filter(self) -> BidFilter:
        max_mor = self.max_price.value()
        max_wei = int(Decimal(str(max_mor)) * 10**18) if max_mor > 0 else None
        return BidFilter(self.min_tps.value(), max_wei, frozenset(self.allow), frozenset(self.deny))

    def _show_bids(self) -> None:
        preset = self.preset.currentData()
        self.bids.set_rows(visible_rows(self.rows, preset if isinstance(preset, SortPreset) else SortPreset.BEST,
                                        self.current_filter()))
        hidden = len(self.rows) - len(self.bids.rows)
        self.lists_label.setText(
            f"{len(self.allow)} allowed · {len(self.deny)} denied · {hidden} bid(s) hidden by filters")
        self._bid_picked()

    def _bid_picked(self) -> None:
        row = self.bids.selected_row()
        self.open_button.setEnabled(row is not None and self.view is not None)
        if row is None:
            return
        self.detail.setText(explain(row, others=self.rows) + f"\n\nProvider {row.provider}\nEndpoint {row.endpoint}")
        if self.view is not None:
            self._run(self._load_chart(row.provider, self.view.model_id), "market-chart")

    async def _load_chart(self, provider: str, model_id: str) -> None:
        self.chart.set_series(*series_from(await self.source.history(provider, model_id)))

    # -- allow / deny ----------------------------------------------------------------------------------------
    async def _load_lists(self) -> None:
        settings = self.storage.sync.settings
        allow = await self.storage.run(settings.get, ALLOW_KEY)
        deny = await self.storage.run(settings.get, DENY_KEY)
        self.allow = set(json.loads(allow)) if allow else set()
        self.deny = set(json.loads(deny)) if deny else set()

    async def _save_lists(self) -> None:
        settings = self.storage.sync.settings
        await self.storage.run(settings.set, ALLOW_KEY, json.dumps(sorted(self.allow)))
        await self.storage.run(settings.set, DENY_KEY, json.dumps(sorted(self.deny)))
        self._show_bids()

    async def set_list(self, *, allow: bool) -> None:
        """Allow (only) or deny the selected bid's provider; saved for next time."""
        row = self.bids.selected_row()
        if row is None:
            raise AppError("Select a bid first, then allow or deny its provider.")
        provider = row.provider.lower()
        (self.allow if allow else self.deny).add(provider)
        (self.deny if allow else self.allow).discard(provider)
        await self._save_lists()

    async def clear_lists(self) -> None:
        """Forget every allow/deny choice."""
        self.allow.clear()
        self.deny.clear()
        await self._save_lists()

    # -- opening ---------------------------------------------------------------------------------------------
    def open_dialog(self, row: BidRow | None = None) -> OpenSessionDialog | None:
        """Open the preview dialog for ``row`` (default: the selected bid, else the best visible one)."""
        row = row or self.bids.selected_row() or (self.bids.rows[0] if self.bids.rows else None)
        if row is None or self.view is None:
            self.error.setText("No bid to open a session with: pick a model that has bids.")
            self.error.show()
            return None
        dialog = OpenSessionDialog(self.model_name(self.view.model_id), row, self.view.inputs, self.opener, self)
        dialog.opened.connect(self.session_opened)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()  # never exec(): the loop keeps running
        self._run(dialog.estimate(), "open-session-fee")
        return dialog

    async def open_for_model(self, model_id: str) -> OpenSessionDialog | None:
        """The chat's "open a new session for this model": show the model here and open the dialog on its best bid."""
        if not self.models:
            await self.refresh()
        await self.show_model(model_id)
        return self.open_dialog(self.bids.rows[0] if self.bids.rows else None)
