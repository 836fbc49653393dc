"""Marketplace and chat on a real anvil devnet with two real provider routers: the whole consumer journey."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.gui.chat.consumer_backend import ConsumerChatBackend, ConsumerSessions
from app.gui.chat.pane import ChatPane
from app.gui.marketplace.open_dialog import OpenSessionDialog
from app.gui.marketplace.pane import MarketplacePane
from app.gui.marketplace.source import ServiceMarketSource, ServiceSessionOpener
from app.storage.records import CachedSession
from tests.gui.chat.chat_env import wait_for as until
from tests.router.consumer.consumer_env import CHEAP, DEAR, running_market
from tests.support.openai_backend import Behaviour


async def test_browse_rank_open_chat_stop_receipt_and_close(qtbot: QtBot, tmp_path: Path) -> None:
    async with running_market(tmp_path) as market:
        consumer = market.consumer
        market_pane = MarketplacePane(ServiceMarketSource(consumer, market.storage),
                                      ServiceSessionOpener(consumer, market.user.sender.current_fees),
                                      market.storage)
        qtbot.addWidget(market_pane)
        market_pane.resize(1300, 800)
        market_pane.show()

        # browse models
        await market_pane.refresh()
        [model] = market_pane.shown_models()
        assert (model.name, model.active_bids, model.min_price, model.max_price) == ("test-llm", 2, CHEAP, DEAR)

        # ranked bids with metrics, pinged live
        await market_pane.show_model(market.model_hex)
        table = market_pane.bids
        assert [r.provider.lower() for r in table.rows] == [market.a.address.lower(), market.b.address.lower()]
        assert table.column_texts("#") == ["1", "2"]
        assert all(text.startswith("● ") and text.endswith(" ms") for text in table.column_texts("Online"))
        assert table.column_texts("MOR/hour") == ["0.36 MOR", "0.72 MOR"]
        assert table.column_texts("Sessions") == ["0", "0"]
        assert "Success rate²" in table.item(0, 0).toolTip()

        # open a session through the dialog: preview first, then approve → open → confirmed
        table.selectRow(0)
        dialog = market_pane.open_dialog()
        assert isinstance(dialog, OpenSessionDialog)
        dialog.slider.setValue(10)
        quote = dialog.current_quote()
        assert quote.duration_s == 600
        assert dialog.amount.text() != ""
        assert "(the whole stake)" in dialog.refund_expiry.text()
        await until(lambda: dialog.fee.text().startswith("≈"), what="the fee estimate")
        opened: list[CachedSession] = []
        market_pane.session_opened.connect(opened.append)
        dialog.open_button.click()
        await until(lambda: bool(opened), within=20, what="the session to open")
        assert dialog.stages_done == ["reading the bid…", "asking the provider to approve…", "approving MOR…",
                                      "opening the session…", "confirmed"]
        session = opened[0]
        assert session.provider.lower() == market.a.address.lower()
        assert session.stake_wei == quote.amount

        # chat over the session: tokens arrive, Stop disconnects the provider's backend, receipt shown
        chat = ChatPane(market.storage, ConsumerChatBackend(consumer), ConsumerSessions(consumer, market.user.diamond))
        qtbot.addWidget(chat)
        chat.resize(1100, 750)
        chat.show()
        await chat.refresh()
        await chat.add_session(session)
        assert chat.bar.current is not None
        assert chat.bar.current.session is not None
        assert chat.bar.current.session.id == session.id
        assert chat.bar.remaining.text().endswith("left")

        market.a.backend.behaviour = Behaviour(tokens=["Hello", " from", " provider", " A."])
        await chat.send("Say hello")
        answer = chat.transcript.widgets[-1]
        assert answer.text == "Hello from provider A."
        receipt_line = answer.receipt_label.text()
        assert f"session {session.id[:6]}" in receipt_line
        assert "4 tokens" in receipt_line
        assert "MOR" in receipt_line

        market.a.backend.behaviour = Behaviour(tokens=[f"w{i} " for i in range(300)], token_delay=0.02)
        chat.composer.setPlainText("Now a long story")
        chat.submit()
        await until(lambda: len(chat.transcript.widgets) == 4 and len(chat.transcript.widgets[3].text) > 12,
                    what="streamed tokens")
        chat.stop_button.click()
        await market.a.backend.wait_disconnect(within=5)
        await until(lambda: chat.answer_task is not None and chat.answer_task.done(), what="the stopped answer")
        stopped = chat.transcript.widgets[3]
        assert stopped.status.text() == "stopped"
        assert stopped.receipt_label.isVisible()
        sent = market.a.backend.requests[-1].body["messages"]
        assert [m["content"] for m in sent] == ["Say hello", "Hello from provider A.", "Now a long story"]

        # close the session from the chat's session bar
        chat.bar.close_button.click()
        await until(lambda: chat.bar.current is None or chat.bar.current.session is None, within=20,
                    what="the session to close")
        on_chain = await market.user.diamond.get_session(bytes.fromhex(session.id[2:]))
        assert on_chain.closed_at > 0
