"""The three part-2 panes built over started services: in the main window, connected to each other and shortcuts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.gui.bridge import Bridge
from app.gui.main_window import MainWindow
from app.gui.marketplace.wiring import build_part2_panes, connect_shortcuts
from app.router.consumer.service import ConsumerService
from tests.gui.chat.chat_env import wait_for
from tests.gui.support import running_services


async def test_panes_join_the_main_window_and_answer_its_shortcuts(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        assert services.storage is not None
        assert services.diamond is not None
        assert services.token is not None
        assert services.chain is not None
        consumer = ConsumerService(services.wallet.signer, services.diamond, services.token, services.chain,
                                   services.storage, bus=services.bus)
        built = build_part2_panes(services, consumer)
        window = MainWindow(Bridge(services.bus), built.panes())
        qtbot.addWidget(window)
        connect_shortcuts(window, built)
        window.show()
        await built.refresh()
        assert window.pane_keys() == ["marketplace", "chat", "provider"]
        assert built.provider.register_provider.limits is not None  # live limits read from the devnet

        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        await wait_for(lambda: built.chat.chat is not None, what="a new chat")
        assert window.current_pane() == "chat"
        assert built.chat.conversations.group_labels() == ["Today"]

        qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        assert built.chat.conversations.search.hasFocus()
