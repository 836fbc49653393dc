"""A ping reply updates its bid's Online cell in place: no table rebuild, order, selection and tooltips kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from PySide6.QtWidgets import QTableWidgetItem
from pytestqt.qtbot import QtBot

from app.config.rating_config import DEFAULT_WEIGHTS
from app.errors import PeerError
from app.gui.marketplace.bid_table import COLUMNS, BidTable
from app.gui.marketplace.market_data import BidRow, ModelRow
from app.gui.marketplace.pane import MarketplacePane
from app.gui.marketplace.quote import QuoteInputs
from app.gui.marketplace.source import MarketView
from app.router.consumer.rating import RatingTerms
from app.storage.records import CachedSession, ProviderRequest
from app.storage.store import AsyncStorage
from tests.gui.chat.chat_env import wait_for

TERMS = RatingTerms(0.5, 0.5, 0.5, 1.0, 0.2)
MODEL = "0x" + "07" * 32


def _bid(rank: int) -> BidRow:
    return BidRow(rank, f"0x{rank:064x}", f"0x{rank:040x}", "127.0.0.1:1", rank * 10**14, 5 * 10**18, 10.0 / rank,
                  TERMS, TERMS.weighted(DEFAULT_WEIGHTS), 1.0, rank == 3, 20.0, 200.0, 9, 10, 600)


def _cell(table: BidTable, r: int, c: int) -> QTableWidgetItem:
    item = table.item(r, c)
    assert item is not None
    return item


def _look(table: BidTable) -> list[list[tuple[str, str, str]]]:
    """Every cell's text, tooltip and text colour."""
    return [[(_cell(table, r, c).text(), _cell(table, r, c).toolTip(), _cell(table, r, c).foreground().color().name())
             for c in range(len(COLUMNS))] for r in range(table.rowCount())]


class ScriptedSource:
    """Three ranked bids; each ping waits until the test answers it (a latency or an error)."""

    def __init__(self) -> None:
        self.rows = [_bid(1), _bid(2), _bid(3)]
        self.replies: dict[str, asyncio.Future[float]] = {}

    async def models(self) -> list[ModelRow]:
        return [ModelRow(MODEL, "m", ("llm",), 3, 10**14, 3 * 10**14)]

    async def market(self, model_id: str) -> MarketView:
        return MarketView(model_id, list(self.rows), QuoteInputs(10**24, 10**22, 1_700_000_000))

    async def ping(self, row: BidRow) -> float:
        self.replies[row.bid_id] = asyncio.get_running_loop().create_future()
        return await self.replies[row.bid_id]

    async def history(self, provider: str, model_id: str) -> list[ProviderRequest]:
        return []


class NoOpener:
    """Opening sessions is not part of these tests."""

    async def estimate_fee_wei(self) -> int | None:
        return None

    async def open(self, row: BidRow, duration_s: int, direct: bool, stage: object) -> CachedSession:
        raise AssertionError("no session is opened here")


@pytest.fixture
async def storage() -> AsyncIterator[AsyncStorage]:
    store = await AsyncStorage.open()
    yield store
    await store.close()


async def test_a_ping_reply_updates_only_its_online_cell_without_rebuilding_the_table(
        qtbot: QtBot, storage: AsyncStorage) -> None:
    source = ScriptedSource()
    pane = MarketplacePane(source, NoOpener(), storage)
    qtbot.addWidget(pane)
    table = pane.bids
    shown = asyncio.ensure_future(pane.show_model(MODEL))
    await wait_for(lambda: len(source.replies) == 3, what="the three pings to go out")
    assert table.column_texts("Online") == ["…", "…", "…"]
    table.selectRow(1)
    rebuilds = table.rebuilds
    items = [[_cell(table, r, c) for c in range(len(COLUMNS))] for r in range(3)]
    texts = [[item.text() for item in row] for row in items]
    tooltips = [[item.toolTip() for item in row] for row in items]

    source.replies[_bid(2).bid_id].set_result(12.4)
    await wait_for(lambda: table.column_texts("Online")[1] == "● 12 ms", what="bid 2's ping in its row")
    source.replies[_bid(1).bid_id].set_exception(PeerError("Provider 0x…01 did not answer the ping."))
    source.replies[_bid(3).bid_id].set_result(250.0)
    await shown

    assert table.rebuilds == rebuilds
    assert [[_cell(table, r, c) for c in range(len(COLUMNS))] for r in range(3)] == items  # the very same items
    assert table.column_texts("Online") == ["○ offline", "● 12 ms", "● 250 ms"]
    online = COLUMNS.index("Online")
    for r in range(3):
        others = [c for c in range(len(COLUMNS)) if c != online]
        assert [items[r][c].text() for c in others] == [texts[r][c] for c in others]
        assert [items[r][c].toolTip() for c in others] == [tooltips[r][c] for c in others]
    assert items[0][online].toolTip() == "Provider 0x…01 did not answer the ping."
    assert items[1][online].toolTip() == tooltips[1][online]  # the score explanation, as set_rows gives it
    assert items[1][online].foreground().color().name() == "#2e9d57"
    assert items[2][online].foreground().color().name() == "#b07a1a"  # cooling down wins over green
    selected = table.selected_row()
    assert selected is not None
    assert (selected.bid_id, selected.ping_ms) == (_bid(2).bid_id, 12.4)  # selection kept, with the new ping
    assert [r.ping_ms for r in pane.rows] == [None, 12.4, 250.0]


async def test_a_rebuild_after_pings_shows_the_same_cells_as_the_in_place_updates(
        qtbot: QtBot, storage: AsyncStorage) -> None:
    source = ScriptedSource()
    pane = MarketplacePane(source, NoOpener(), storage)
    qtbot.addWidget(pane)
    table = pane.bids
    shown = asyncio.ensure_future(pane.show_model(MODEL))
    await wait_for(lambda: len(source.replies) == 3, what="the three pings to go out")
    for i, reply in enumerate(source.replies.values()):
        reply.set_result(10.0 * (i + 1))
    await shown
    in_place = _look(table)
    rebuilds = table.rebuilds
    pane.min_tps.setValue(1.0)  # any filter change redraws the whole table from pane.rows
    assert table.rebuilds == rebuilds + 1
    assert _look(table) == in_place
