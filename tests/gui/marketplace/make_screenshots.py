"""Screenshots of the marketplace, the open-session dialog, a chat mid-stream and the provider dashboard.

Everything shown is real: an anvil devnet with two provider routers (one with closed sessions and our own
measurements behind it), and an eth-tester devnet for the provider pane.

Run from the repo root: python3 -m tests.gui.marketplace.make_screenshots  (writes docs/screenshots/*.png)
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication, QWidget

from app.gui.chat.consumer_backend import ConsumerChatBackend, ConsumerSessions
from app.gui.chat.pane import ChatPane
from app.gui.marketplace.pane import MarketplacePane
from app.gui.marketplace.source import ServiceMarketSource, ServiceSessionOpener
from app.gui.provider.pane import ProviderPane
from app.gui.theme import Theme, apply_theme
from tests.gui.chat.chat_env import wait_for
from tests.gui.support import running_services
from tests.router.consumer.consumer_env import Market, running_market
from tests.support.openai_backend import Behaviour

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
MOR = 10**18
ANSWER = (
    "Sessions on Morpheus work like this:\n\n1. You **stake MOR** for a duration; the stake comes back.\n"
    "2. The provider is paid from the compute pool per second.\n\nHere is how to open one from Python:\n\n"
    "```python\nsession = await consumer.open_session(model_id, duration_s=3600)\n"
    "async for item in consumer.chat(prompt=\"Hello\", session_id=session.id):\n    print(item)\n```\n\n"
    "Closing early refunds the unused stake; today's usage is held until 00:00 UTC, then released. "
    "The receipt under each answer shows what it cost."
)


def save(widget: QWidget, name: str) -> None:
    QApplication.processEvents()
    path = OUT / name
    widget.grab().save(str(path))
    print("wrote", path)


async def history(market: Market) -> None:
    """A closed session with provider A (on-chain stats) and a few measured requests (our own stats)."""
    consumer = market.consumer
    session = await consumer.open_session(market.model_hex, duration_s=600)
    for i, delay in enumerate((0.004, 0.002, 0.003, 0.001)):
        market.a.backend.behaviour = Behaviour(tokens=[f"w{j} " for j in range(40 + 10 * i)], token_delay=delay)
        async for _item in consumer.chat(prompt=f"warm-up {i}", session_id=session.id):
            pass
    await consumer.close_session(session.id)


async def consumer_shots(tmp: Path) -> None:
    async with running_market(tmp) as market:
        await history(market)
        consumer = market.consumer
        market_pane = MarketplacePane(ServiceMarketSource(consumer, market.storage),
                                      ServiceSessionOpener(consumer, market.user.sender.current_fees), market.storage)
        market_pane.resize(1280, 780)
        market_pane.show()
        await market_pane.refresh()
        market_pane.model_table.selectRow(0)
        await market_pane.show_model(market.model_hex)
        market_pane.bids.selectRow(0)
        await wait_for(lambda: market_pane.chart.has_data(), what="the chart")
        save(market_pane, "marketplace.png")

        dialog = market_pane.open_dialog()
        assert dialog is not None
        dialog.slider.setValue(60)
        await wait_for(lambda: dialog.fee.text().startswith("≈"), what="the fee")
        save(dialog, "open-session-dialog.png")
        opened: list[object] = []
        market_pane.session_opened.connect(opened.append)
        dialog.open_button.click()
        await wait_for(lambda: bool(opened), within=30, what="the session")

        chat = ChatPane(market.storage, ConsumerChatBackend(consumer), ConsumerSessions(consumer, market.user.diamond))
        chat.resize(1280, 780)
        chat.show()
        await chat.refresh()
        await chat.add_session(opened[0])  # type: ignore[arg-type]
        await chat.new_chat()  # the warm-up chats stay in the list
        market.a.backend.behaviour = Behaviour(tokens=["Sessions are time-boxed rentals of a provider's model."])
        await chat.send("What is a session?")
        tokens = [ANSWER[i:i + 3] for i in range(0, len(ANSWER), 3)]
        market.a.backend.behaviour = Behaviour(tokens=tokens, token_delay=0.01)
        chat.composer.setPlainText("How do I open one from Python, and what does closing early cost?")
        chat.submit()
        await wait_for(lambda: "print(item)" in chat.transcript.widgets[-1].text,
                       what="the answer mid-stream")
        save(chat, "chat-mid-stream.png")
        chat.stop()
        await wait_for(lambda: chat.answer_task is not None and chat.answer_task.done(), what="stop")
        for widget in (market_pane, chat):
            widget.close()


async def provider_shot(tmp: Path) -> None:
    async with running_services(tmp) as services:
        assert services.diamond is not None
        assert services.token is not None
        me = services.wallet.address
        assert me is not None
        await services.token.approve(services.diamond.address, 10 * MOR)
        await services.diamond.provider_register(me, 2 * MOR, "node.example.com:3333")
        created = await services.diamond.model_register(me, b"\x42" * 32, b"\0" * 32, 0, MOR // 2, "llama-3-8b",
                                                        ["llm", "chat"])
        await services.diamond.post_model_bid(me, created.id, 10**14)
        pane = ProviderPane(services, tmp / "models-config.json")
        pane.resize(1280, 780)
        pane.show()
        await pane.refresh()
        save(pane, "provider-dashboard.png")
        pane.close()


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        await consumer_shots(Path(a))
        os.environ["MOR_DATA_DIR"] = b
        await provider_shot(Path(b))


if __name__ == "__main__":
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app, Theme.LIGHT)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main())
