"""The ranked-bids table: one row per bid with price, on-chain claims, our measurements, stake, score and ping."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from app.gui.chat.receipt_text import mor, short_hex
from app.gui.marketplace.market_data import BidRow, explain

COLUMNS = (
    "#", "Provider", "Online", "MOR/s", "MOR/hour", "TPS\nchain", "TPS\nours", "TTFT ms\nchain",
    "TTFT ms\nours", "Success\nchain", "Success\nours", "Sessions", "Served", "Stake", "Score",
)
BID_ROLE = Qt.ItemDataRole.UserRole
ONLINE = COLUMNS.index("Online")
COOLING = "#b07a1a"


def _num(value: float | None, fmt: str = "{:,.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m {rest % 60:02d}s"


def online_text(row: BidRow) -> str:
    """'● 12 ms', '○ offline' or '…' while the ping is pending."""
    if row.ping_ms is not None:
        return f"● {row.ping_ms:,.0f} ms"
    return "○ offline" if row.ping_error else "…"


def cells(row: BidRow) -> list[str]:
    """The row's texts, in COLUMNS order."""
    m = row.measured
    return [
        str(row.rank), short_hex(row.provider), online_text(row), mor(row.price_per_second, 8),
        mor(row.price_per_hour, 4), _num(row.chain_tps), _num(m.tps if m else None),
        _num(row.chain_ttft_ms, "{:,.0f}"), _num(m.ttft_ms if m else None, "{:,.0f}"), _pct(row.chain_success_rate),
        _pct(m.success_rate if m else None), str(row.chain_sessions), _duration(row.total_duration_s),
        mor(row.provider_stake, 2), f"{row.score:,.4g}",
    ]


def _style_online(item: QTableWidgetItem, row: BidRow, tooltip: str) -> None:
    """Colour and tooltip of the Online cell: green when it answered, grey otherwise, the failure as tooltip."""
    colour = "#2e9d57" if row.ping_ms is not None else "#8a8f98"
    item.setForeground(QColor(COOLING if row.cooling_down else colour))
    item.setToolTip(row.ping_error or tooltip)


class BidTable(QTableWidget):
    """Shows bid rows; the tooltip of every cell explains the score."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.rows: list[BidRow] = []
        self.rebuilds = 0  # full redraws (set_rows); a ping reply must not add one

    def set_rows(self, rows: Sequence[BidRow], keep_selection: bool = True) -> None:
        """Show ``rows`` in order, keeping the selected bid selected."""
        self.rebuilds += 1
        selected = self.selected_row() if keep_selection else None
        self.rows = list(rows)
        self.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            tooltip = explain(row, others=self.rows)
            for c, text in enumerate(cells(row)):
                item = QTableWidgetItem(text)
                item.setData(BID_ROLE, row.bid_id)
                item.setToolTip(tooltip)
                if c >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == ONLINE:
                    _style_online(item, row, tooltip)
                elif row.cooling_down:
                    item.setForeground(QColor(COOLING))
                self.setItem(r, c, item)
        if selected is not None:
            self.select_bid(selected.bid_id)

    def update_ping(self, row: BidRow) -> bool:
        """Show a ping result in place: only the Online cell of ``row``'s bid changes (False if it is not shown).

        The ping is not part of the score, the sort or the filters, so the order and the other cells stay valid;
        rebuilding the table per reply cost ~30 ms of GUI time each.
        """
        for r, shown in enumerate(self.rows):
            if shown.bid_id != row.bid_id:
                continue
            self.rows[r] = row
            item, rank_item = self.item(r, ONLINE), self.item(r, 0)
            if item is None or rank_item is None:
                return False
            item.setText(online_text(row))
            # explain() does not read the ping, so the row's score tooltip (on every other cell) is still right
            _style_online(item, row, rank_item.toolTip())
            return True
        return False

    def selected_row(self) -> BidRow | None:
        """The selected bid, if any."""
        indexes = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not indexes:
            return None
        index = indexes[0].row()
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def select_bid(self, bid_id: str) -> None:
        """Select the row of ``bid_id``."""
        for r, row in enumerate(self.rows):
            if row.bid_id == bid_id:
                self.selectRow(r)
                return

    def column_texts(self, column: str) -> list[str]:
        """The texts of one column, top to bottom."""
        c = COLUMNS.index(column)
        return [item.text() if (item := self.item(r, c)) is not None else "" for r in range(self.rowCount())]
