"""The application shell: sidebar navigation, status bar driven by core events, shortcuts, theme, crash handling."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from app.chain.tx_recovery import RecoveredTransaction
from app.errors import WalletError
from app.events import ChainStatus, EventBus, ServiceState, WalletState
from app.gui.async_slot import run_async
from app.gui.bridge import Bridge
from app.gui.crash import CrashReporter
from app.gui.main_window import MainWindow, Pane
from app.gui.theme import Theme, apply_theme

ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def window(qtbot: QtBot, bus: EventBus) -> MainWindow:
    panes = [Pane(key, key.title(), QLabel(f"{key} pane")) for key in ("settings", "chat", "dashboard")]
    win = MainWindow(Bridge(bus), panes)
    qtbot.addWidget(win)
    win.show()
    return win


def test_sidebar_lists_panes_in_product_order(window: MainWindow) -> None:
    assert window.pane_keys() == ["dashboard", "chat", "settings"]
    assert window.current_pane() == "dashboard"


def test_clicking_sidebar_switches_pane(window: MainWindow) -> None:
    window.sidebar.setCurrentRow(2)
    assert window.current_pane() == "settings"


def test_status_bar_follows_core_events(window: MainWindow, bus: EventBus) -> None:
    bus.publish(ChainStatus(network="devnet", chain_id=31337, block=1234, reachable=True))
    bus.publish(ServiceState("router", "running", "API on 127.0.0.1:8082"))
    bus.publish(WalletState(address=ADDRESS, locked=False))
    status = window.status
    assert status.network.text() == "network: devnet (31337)"
    assert status.block.text() == "block: 1,234"
    assert status.router.text() == "router: running"
    assert status.address.text() == "0xf39F…2266"
    assert status.lock.text().endswith("unlocked")


def test_status_bar_says_when_chain_is_unreachable(window: MainWindow, bus: EventBus) -> None:
    bus.publish(ChainStatus(network="devnet", chain_id=31337, block=None, reachable=False, detail="connection refused"))
    assert window.status.block.text() == "chain unreachable: connection refused"


def test_copy_button_puts_full_address_on_clipboard(window: MainWindow, bus: EventBus, qtbot: QtBot) -> None:
    bus.publish(WalletState(address=ADDRESS, locked=True))
    qtbot.mouseClick(window.status.copy_address, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == ADDRESS


def test_ctrl_n_opens_chat_and_requests_new_chat(window: MainWindow, qtbot: QtBot) -> None:
    with qtbot.waitSignal(window.new_chat_requested, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.current_pane() == "chat"


@pytest.mark.parametrize(
    ("key", "signal_name"),
    [(Qt.Key.Key_L, "lock_requested"), (Qt.Key.Key_K, "search_requested")],
)
def test_ctrl_shortcuts_emit_their_signal(window: MainWindow, qtbot: QtBot, key: Qt.Key, signal_name: str) -> None:
    with qtbot.waitSignal(getattr(window, signal_name), timeout=1000):
        qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)


def test_escape_requests_stop(window: MainWindow, qtbot: QtBot) -> None:
    with qtbot.waitSignal(window.stop_requested, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)


@pytest.mark.parametrize(("theme", "dark"), [(Theme.DARK, True), (Theme.LIGHT, False)])
def test_theme_switch_changes_palette(qtbot: QtBot, theme: Theme, dark: bool) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    assert apply_theme(app, theme) is dark
    window_color = app.palette().window().color()
    assert (window_color.lightness() < 128) is dark


async def test_async_action_disables_control_and_shows_app_error(qtbot: QtBot) -> None:
    button = QPushButton("Send")
    label = QLabel()
    qtbot.addWidget(button)
    release, started = asyncio.Event(), asyncio.Event()
    states: list[bool] = []

    async def action() -> None:
        states.append(button.isEnabled())
        started.set()
        await release.wait()
        raise WalletError("Wrong password. Try again.")

    task = run_async(action, name="unlock", busy=[button], error_label=label)
    await asyncio.wait_for(started.wait(), 5)
    assert states == [False]
    assert not button.isEnabled()  # still busy while the action runs
    release.set()
    await task
    assert button.isEnabled()
    assert label.text() == "Wrong password. Try again."


async def test_unexpected_exception_reaches_crash_reporter_not_the_user(tmp_path) -> None:  # type: ignore[no-untyped-def]
    reporter = CrashReporter(tmp_path / "app.log")
    reporter.install(asyncio.get_running_loop())

    async def buggy() -> None:
        raise RuntimeError("bug in a view")

    task = asyncio.get_running_loop().create_task(buggy())
    del task  # an unretrieved failure, as a forgotten task would produce
    for _ in range(100):
        await asyncio.sleep(0.01)
        import gc

        gc.collect()
        if reporter.reported:
            break
    assert reporter.reported == ["RuntimeError: bug in a view"]


def test_a_recovered_transaction_is_announced_in_the_status_bar(window: MainWindow, bus: EventBus) -> None:
    bus.publish(RecoveredTransaction("0x" + "ab" * 32, 7, "opening a session", "mined",
                                     "A transaction from before the restart (opening a session) was mined."))
    assert window.status.currentMessage() == "A transaction from before the restart (opening a session) was mined."
