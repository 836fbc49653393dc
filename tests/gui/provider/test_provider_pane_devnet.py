"""The provider pane on a real devnet: register provider, model and bid, see the rank, delete the bid, deregister."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.bootstrap.services import Services
from app.gui.provider.pane import ProviderPane
from tests.gui.support import answer_confirmation, click, running_services, until

MOR = 10**18


async def _confirm(qtbot: QtBot, pane: ProviderPane, count: int) -> None:
    for _ in range(count):
        dialog = await answer_confirmation(qtbot, pane)
        await until(lambda d=dialog: not d.isVisible(), what="the confirmation to close")


async def _provider(services: Services) -> bool:
    assert services.diamond is not None
    assert services.wallet.address is not None
    return (await services.diamond.get_provider(services.wallet.address)).is_active


async def test_register_provider_model_and_bid_then_delete_and_deregister(qtbot: QtBot, isolated_data_dir: Path
                                                                          ) -> None:
    async with running_services(isolated_data_dir) as services:
        pane = ProviderPane(services, isolated_data_dir / "models-config.json")
        qtbot.addWidget(pane)
        pane.resize(1200, 900)
        pane.show()
        await pane.refresh()
        assert "Live minimum stake: 0.2 MOR" in pane.register_provider.hint.text()
        assert "posting costs 0.3 MOR" in pane.post_bid.hint.text()
        assert pane.status is not None
        assert not pane.status.registered

        # register as a provider: approve, then register (two confirmations)
        pane.tabs.setCurrentIndex(1)
        pane.register_provider.stake.edit.setText("1")
        pane.register_provider.endpoint.edit.setText("127.0.0.1:3333")
        click(qtbot, pane.register_provider.button)
        await _confirm(qtbot, pane, 2)
        await until(lambda: pane.status is not None and pane.status.registered, what="the registration")
        assert await _provider(services)

        # register a model
        pane.register_model.name.edit.setText("my-llm")
        pane.register_model.tags.edit.setText("llm, test")
        pane.register_model.stake.edit.setText("0.5")
        click(qtbot, pane.register_model.button)
        await _confirm(qtbot, pane, 2)
        await until(lambda: "my-llm" in [pane.post_bid.model.itemText(i).split(" (")[0]
                                          for i in range(pane.post_bid.model.count())], what="the model")

        # post a bid on it: the bid fee is approved first
        pane.post_bid.model.setCurrentIndex(pane.post_bid.model.findText("my-llm", Qt.MatchFlag.MatchStartsWith))
        pane.post_bid.price.edit.setText("0.0001")
        click(qtbot, pane.post_bid.button)
        await _confirm(qtbot, pane, 2)
        await until(lambda: len(pane.bids.bids) == 1, what="the bid in the dashboard")
        [bid] = pane.bids.bids
        assert (bid.model_name, bid.price_per_second, bid.rank, bid.competitors) == ("my-llm", 10**14, 1, 0)
        assert pane.dashboard.sessions.text() == "0 active · 0 closed"
        assert pane.dashboard.claimable.text() == "Claimable now: 0 MOR"
        assert "Earned 0 MOR of 1 MOR" in pane.dashboard.limit_text.text()

        # delete the bid, then deregister
        pane.tabs.setCurrentIndex(0)
        pane.bids.table.selectRow(0)
        click(qtbot, pane.bids.button)
        await _confirm(qtbot, pane, 1)
        await until(lambda: pane.bids.bids == [], what="the bid to go")
        pane.tabs.setCurrentIndex(1)
        click(qtbot, pane.deregister.button)
        await _confirm(qtbot, pane, 1)
        await until(lambda: pane.status is not None and not pane.status.registered, what="the deregistration")
        assert not await _provider(services)


async def test_bad_input_is_refused_inline_before_any_dialog(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        pane = ProviderPane(services, isolated_data_dir / "models-config.json")
        qtbot.addWidget(pane)
        pane.show()
        await pane.refresh()
        pane.tabs.setCurrentIndex(1)
        pane.register_provider.stake.edit.setText("0.1")
        pane.register_provider.endpoint.edit.setText("127.0.0.1:3333")
        click(qtbot, pane.register_provider.button)
        assert pane.register_provider.error.text() == "The provider stake must be at least 0.2 MOR (live minimum)."
        pane.register_provider.stake.edit.setText("1")
        pane.register_provider.endpoint.edit.setText("http://no-port")
        click(qtbot, pane.register_provider.button)
        assert "host:port" in pane.register_provider.error.text()
        pane.post_bid.price.edit.setText("1")
        click(qtbot, pane.post_bid.button)
        assert "Pick a model" in pane.post_bid.error.text()
        assert not await _provider(services)
