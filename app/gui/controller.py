"""The app's flow: start services → setup wizard or unlock → main window; lock and reset return to the entry screens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QApplication

from app.bootstrap.services import Services
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.errors import AppError
from app.events import ChainStatus, EventBus, ServiceState, WalletState
from app.gui.async_slot import run_async, supervisor
from app.gui.bridge import Bridge
from app.gui.entry_window import EntryWindow
from app.gui.prefs import GuiPrefs, load_prefs, network_settings, save_network, settings_file
from app.gui.theme import Theme, apply_theme
from app.gui.unlock_view import UnlockView
from app.gui.wizard_view import SetupWizardView
from app.wallet.manager import LockState, WalletManager
from app.wallet.networks import NetworkChoice
from app.wallet.wizard import SetupWizard

if TYPE_CHECKING:  # the main window's parts pull in web3 and the router: loaded once the chain is starting
    from app.devnet.service import EngineChoice
    from app.gui.main_window import MainWindow, Pane
    from app.gui.wallet_model import WalletModel
    from app.router.api.server import ApiServer

log = logging.getLogger(__name__)

PaneFactory = Callable[[Services, Bridge], "Pane | list[Pane]"]
"""Builds extra panes (marketplace, chat, provider) for a started Services."""
WindowHook = Callable[["MainWindow"], None]
"""Called once the main window exists (e.g. to connect pane shortcuts)."""
ACTIVITY_POLL_SECONDS = 5.0


async def probe_chain_id(url: str) -> int:
    """The wizard's custom-RPC check (app.gui.chain_probe), imported on first use: it needs web3."""
    from app.gui.chain_probe import probe_chain_id as probe

    return await probe(url)


def _import_main_window() -> None:
    """Import the main window's modules (worker thread: no Qt object is made, only Python modules loaded)."""
    import app.gui.dashboard
    import app.gui.main_window
    import app.gui.settings_pane
    import app.gui.staking
    import app.gui.wallet_model  # noqa: F401


class AppController(QObject):
    """Owns the Services and the windows; switches between them as the wallet's state changes.

    Signals:
        main_shown: the main window is on screen (tests and screenshots wait for it)
        finished: the app is closing (services stopped)
    """

    main_shown = Signal()
    finished = Signal()

    def __init__(
        self,
        app: QApplication,
        data_dir: Path,
        *,
        argv: list[str] | None = None,
        environ: dict[str, str] | None = None,
        dotenv_path: Path | None = None,
        devnet_engine: EngineChoice = "auto",
        demo: bool = True,
        wallet_factory: Callable[[Path], WalletManager] | None = None,
        extra_panes: list[PaneFactory] | None = None,
        window_hooks: list[WindowHook] | None = None,
        serve_api: bool = True,
        entry: EntryWindow | None = None,
    ) -> None:
        super().__init__()
        self.app = app
        # Closing a window must not stop the loop: the controller stops the services first, then finishes.
        app.setQuitOnLastWindowClosed(False)
        self.data_dir = data_dir
        self.argv = argv or []
        self.environ = environ
        self.dotenv_path = dotenv_path
        self.devnet_engine: EngineChoice = devnet_engine
        self.demo = demo
        self.wallet_factory = wallet_factory or (lambda d: WalletManager(d, environ=environ))
        self.extra_panes = extra_panes or []
        self.window_hooks = window_hooks or []
        self.serve_api = serve_api
        self.api: ApiServer | None = None
        # The latest of each event, for the status bar of a main window created after they were published.
        self._last_states: dict[str, ServiceState] = {}
        self._last_chain: ChainStatus | None = None
        self.entry = entry or EntryWindow()
        self.entry.startup.retry_requested.connect(self._retry_from_startup)
        self.entry.chain_retry_requested.connect(lambda: self.retry_chain())
        self.services: Services | None = None
        # The chain side (devnet, demo, RPC, HTTP API) starting behind the wizard or the unlock screen; its result
        # says whether it came up (its failure is on the screen the person is on, see EntryWindow.chain_failed).
        self.chain_ready: asyncio.Task[bool] | None = None
        self.bridge: Bridge | None = None
        self.main: MainWindow | None = None
        self.model: WalletModel | None = None
        self.prefs = GuiPrefs()
        self.done = asyncio.Event()
        # Activity for auto-lock: pointer movement and focus changes. (An application-wide eventFilter would see
        # every event, but on qasync it also intercepts the executor's wake-up events and stalls to_thread calls.)
        self._last_cursor = QCursor.pos()
        self.activity_timer = QTimer(self)
        self.activity_timer.setInterval(int(ACTIVITY_POLL_SECONDS * 1000))
        self.activity_timer.timeout.connect(self._poll_activity)
        self.activity_timer.start()
        app.focusChanged.connect(self._activity)

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def _build_services(self) -> Services:
        settings = load_settings(self.argv, environ=self.environ, settings_path=settings_file(self.data_dir),
                                 dotenv_path=self.dotenv_path)  # fmt: skip
        bus = EventBus()
        services = Services(load_node_config(settings), self.data_dir, bus=bus, devnet_engine=self.devnet_engine,
                            wallet=self.wallet_factory(self.data_dir), demo=self.demo)  # fmt: skip
        self.bridge = Bridge(bus)
        self.bridge.service_state.connect(self.entry.startup.on_service_state)
        self.bridge.wallet_state.connect(self._on_wallet_state)
        self._last_states = {}
        self._last_chain = None
        self.bridge.service_state.connect(lambda state: self._last_states.__setitem__(state.service, state))
        self.bridge.chain_status.connect(lambda status: setattr(self, "_last_chain", status))
        return services

    def start(self) -> None:
        """Start (or retry starting) the services, then show the wizard, the unlock screen or the main window."""
        self.entry.startup.reset()
        self.entry.chain_up()
        self.entry.setCurrentWidget(self.entry.startup)
        self.entry.show()
        run_async(self.start_services, name="start services")

    async def start_services(self) -> None:
        """The start sequence as a plain coroutine (awaited by tests and screenshots).

        Only what the entry screens need is awaited before routing (storage and the wallet's state); the chain
        (the devnet with its demo and local model, or the RPC) and the HTTP API start behind the wizard or the unlock
        screen. The main window waits for them (:meth:`show_main_when_ready`).
        """
        try:
            self.services = self._build_services()
            await self.services.open_local()
        except AppError as e:
            log.warning("start failed: %s", e.user_message)
            self.entry.startup.failed(e.user_message)
            return
        services = self.services
        assert services.storage is not None
        self.prefs = await load_prefs(services.storage)
        apply_theme(self.app, self.prefs.theme)
        services.wallet.auto_lock_seconds = self.prefs.auto_lock_minutes * 60 or None
        self.chain_ready = supervisor().spawn(self._start_chain_side(services), name="start the chain")
        await self.route()

    async def _start_chain_side(self, services: Services) -> bool:
        """The chain and the HTTP API. A failure is shown with Retry on the wizard or unlock screen (which keep
        their state) or, when the person is waiting for the chain, on the start-up screen."""
        try:
            await services.start_chain()
            await asyncio.to_thread(_import_main_window)  # so showing it later does not stall the loop
        except AppError as e:
            log.warning("start failed: %s", e.user_message)
            if self.services is services:
                self._close_main()
                self.entry.chain_failed(e.user_message)
            return False
        if self.services is services:
            self.entry.chain_up()
        if self.serve_api and self.services is services:
            await self._start_api(services)
        return self.services is services

    async def wait_for_chain(self) -> bool:
        """Wait (with the start-up progress on screen) until the chain side is up; False if it failed."""
        ready = self.chain_ready
        if ready is None:
            return False
        if not ready.done():
            self.entry.setCurrentWidget(self.entry.startup)
            self.entry.show()
        # Shielded: a caller giving up (e.g. a wizard page closing) must not cancel the start itself.
        up = await asyncio.shield(ready)
        if not up and self.chain_ready is ready and self.entry.chain_failure is not None:
            self.entry.show_chain_failure_screen()  # it failed behind the wizard / unlock screen: needed now
        return up

    def retry_chain(self, *, then_main: bool = False) -> None:
        """Start the chain side again after its failure, on the same services (the wizard or unlock screen stays);
        ``then_main``: show the main window once it is up. A failure before the chain (storage) restarts all."""
        services, ready = self.services, self.chain_ready
        if services is None or ready is None:
            run_async(self.restart, name="retry start")
            return
        if not ready.done():
            return  # a start is under way already
        self.entry.chain_retrying()
        self.chain_ready = supervisor().spawn(self._start_chain_side(services), name="start the chain")
        if then_main:
            run_async(self.show_main_when_ready, name="main window")

    def _retry_from_startup(self) -> None:
        # On the start-up screen after a chain failure the person was on their way to the main window.
        ready = self.chain_ready
        chain_failed = ready is not None and ready.done() and not ready.cancelled() and ready.exception() is None
        if chain_failed and self.entry.chain_failure is not None:
            self.retry_chain(then_main=True)
        else:
            run_async(self.restart, name="retry start")

    async def show_main_when_ready(self) -> MainWindow | None:
        """The main window once the chain side is up (None if it failed: the start-up screen says why)."""
        services = self.services
        if not await self.wait_for_chain() or self.services is not services or services is None:
            return None
        return self.show_main()

    async def _start_api(self, services: Services) -> None:
        """The Go-compatible HTTP API next to the GUI (WEB_ADDRESS, loopback by default). A failure to listen is
        shown on the startup screen's log and the status bar, never fatal: the app works without it."""
        from app.bootstrap.api_wiring import build_api_server, load_auth

        try:
            auth = await load_auth(services)
            self.api = build_api_server(services, auth, lambda: services.consumer, wallet_api=False)
            await self.api.start()
        except AppError as e:
            self.api = None
            log.warning("HTTP API not started: %s", e.user_message)
            services.bus.publish(ServiceState("api", "failed", e.user_message))
            return
        services.bus.publish(ServiceState("api", "running", f"{self.api.url} (Swagger at /swagger/index.html)"))

    async def _stop_api(self) -> None:
        api, self.api = self.api, None
        if api is not None:
            await api.stop()

    async def route(self) -> None:
        """Show what the wallet's state calls for."""
        assert self.services is not None
        state = self.services.wallet.state
        if state is LockState.NO_WALLET:
            await self.show_wizard()
        elif state is LockState.LOCKED:
            self.show_unlock()
        else:
            await self.show_main_when_ready()  # a wallet from the environment

    async def _stop_chain_side(self) -> None:
        """Cancel a chain start still in progress (the devnet cleans up what it started) before stopping."""
        ready, self.chain_ready = self.chain_ready, None
        if ready is not None and not ready.done():
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready

    async def stop(self) -> None:
        """Close the windows and stop the services."""
        self._close_main()
        await self._stop_chain_side()
        await self._stop_api()
        if self.services is not None:
            await self.services.stop()
            self.services = None
        # Whatever the panes still had running (refreshes, pings) belongs to the services just stopped.
        await supervisor().close()
        self.entry.close()
        self.done.set()
        self.finished.emit()

    # -- entry screens -------------------------------------------------------------------------------------------
    async def show_wizard(self) -> SetupWizardView:
        """The setup wizard (first launch, or after a reset)."""
        assert self.services is not None
        wizard = SetupWizardView(SetupWizard(self.services.wallet, probe_chain_id), self._preview_balances)
        wizard.completed.connect(self._wizard_completed)
        self.entry.set_wizard(wizard)
        self.entry.setCurrentWidget(wizard)
        self.entry.show()
        await wizard.start()
        return wizard

    async def _preview_balances(self, addresses: Sequence[str]) -> dict[str, tuple[int, int]]:
        services = self.services
        if self.chain_ready is not None and not await asyncio.shield(self.chain_ready):
            return {}
        if services is None or services.chain is None or services.token is None:
            return {}
        chain, token = services.chain, services.token
        eth = await asyncio.gather(*(chain.get_balance(a) for a in addresses))
        mor = await asyncio.gather(*(token.balance_of(a) for a in addresses))
        return {a: (e, m) for a, e, m in zip(addresses, eth, mor, strict=True)}

    def _wizard_completed(self, choice: NetworkChoice) -> None:
        run_async(lambda: self._apply_network(choice), name="apply network")

    async def _apply_network(self, choice: NetworkChoice) -> None:
        assert self.services is not None
        current = network_settings(choice)
        settings = self.services.settings
        same = (settings.eth_node_address or "") == current["ETH_NODE_ADDRESS"] and (
            not settings.eth_node_address or settings.eth_node_chain_id == choice.chain_id
        )
        await save_network(self.data_dir, choice)
        if same:
            await self.show_main_when_ready()
        else:
            await self.restart()

    async def restart(self) -> None:
        """Rebuild the services (after a network change); the wallet must be unlocked again on the new chain."""
        self._close_main()
        await self._stop_chain_side()
        await self._stop_api()
        if self.services is not None:
            await self.services.stop()
            self.services = None
        self.start()

    async def reset_devnet(self) -> None:
        """Settings → Reset devnet: stop everything, erase the local chain and its deployment, start afresh.

        The wallet and the chats stay; the new chain has fresh contracts, demo providers and history.
        """
        self._close_main()
        await self._stop_chain_side()
        await self._stop_api()
        if self.services is not None:
            await self.services.stop()
            self.services = None
        from app.devnet.service import wipe_devnet

        await asyncio.to_thread(wipe_devnet, self.data_dir)
        self.start()

    def show_unlock(self, reason: str = "") -> UnlockView:
        """The unlock screen (later launches, after lock or auto-lock)."""
        assert self.services is not None
        if self.entry.unlock is None or self.entry.unlock.manager is not self.services.wallet:
            view = UnlockView(self.services.wallet)
            view.unlocked.connect(lambda _address: run_async(self.show_main_when_ready, name="main window"))
            view.reset_requested.connect(self._forgot_password)
            self.entry.set_unlock(view)
        unlock = self.entry.unlock
        assert unlock is not None
        unlock.prepare(reason)
        self.entry.setCurrentWidget(unlock)
        self.entry.show()
        return unlock

    def _forgot_password(self) -> None:
        # Without the password the wallet can only be set up again (from the recovery phrase or key): the wizard
        # stores it anew with a new app password, replacing the one that was forgotten.
        run_async(self.show_wizard, name="wizard after a forgotten password")

    # -- main window ---------------------------------------------------------------------------------------------
    def show_main(self) -> MainWindow:
        """Build (once per services) and show the main window with its panes."""
        assert self.services is not None
        assert self.bridge is not None
        if self.main is None:
            from app.gui.dashboard import DashboardPane
            from app.gui.main_window import MainWindow, Pane
            from app.gui.settings_pane import SettingsPane
            from app.gui.staking import StakingPane
            from app.gui.wallet_model import WalletModel

            self.model = WalletModel(self.services, self.bridge)
            settings_pane = SettingsPane(self.services, probe_chain_id, self.prefs)
            settings_pane.theme_changed.connect(self._theme_changed)
            settings_pane.network_changed.connect(lambda _c: run_async(self.restart, name="restart services"))
            settings_pane.wallet_reset.connect(self._wallet_reset)
            settings_pane.devnet_reset_requested.connect(lambda: run_async(self.reset_devnet, name="reset devnet"))
            panes = [
                Pane("dashboard", "Dashboard", DashboardPane(self.services, self.model)),
                Pane("staking", "Staking", StakingPane(self.services, self.model)),
                Pane("settings", "Settings", settings_pane),
            ]
            for factory in self.extra_panes:
                extra = factory(self.services, self.bridge)
                panes.extend(extra if isinstance(extra, list) else [extra])
            self.main = MainWindow(self.bridge, panes)
            for hook in self.window_hooks:
                hook(self.main)
            self.model.setParent(self.main)
            self.main.lock_requested.connect(lambda: self.services.wallet.lock("manual") if self.services else None)
            self.main.closing.connect(lambda: run_async(self.stop, name="shutdown"))
            self._replay_status()
        self.entry.hide()
        self.main.show()
        assert self.model is not None
        self.model.request_refresh()
        self.main_shown.emit()
        return self.main

    def _replay_status(self) -> None:
        """The status bar missed the events before the window existed: tell it the current state."""
        assert self.services is not None
        assert self.main is not None
        wallet = self.services.wallet
        self.main.status.on_wallet_state(WalletState(wallet.address, wallet.state is not LockState.UNLOCKED))
        if self.services.network is not None:
            network = self.services.network
            self.main.status.devnet.setText(f"chain: running ({network.name}, chain id {network.chain_id})")
        for state in self._last_states.values():
            if state.service != "chain":
                self.main.status.on_service_state(state)
        if self._last_chain is not None:
            self.main.status.on_chain_status(self._last_chain)

    def _close_main(self) -> None:
        if self.main is not None:
            main, self.main = self.main, None
            main.closing.disconnect()
            main.close()
            main.deleteLater()
            if self.model is not None:
                self.model.close()
            self.model = None

    def _theme_changed(self, theme: Theme) -> None:
        apply_theme(self.app, theme)

    def _wallet_reset(self) -> None:
        self._close_main()
        run_async(self.show_wizard, name="wizard after reset")

    def _on_wallet_state(self, state: WalletState) -> None:
        if state.locked and state.address is not None and self.main is not None and self.main.isVisible():
            self.main.hide()
            self.show_unlock("Locked. Enter your app password to continue.")

    # -- activity for auto-lock ----------------------------------------------------------------------------------
    def _poll_activity(self) -> None:
        position = QCursor.pos()
        if position != self._last_cursor:
            self._last_cursor = position
            self._activity()

    def _activity(self, *_args: object) -> None:
        if self.services is not None and self.services.wallet.state is LockState.UNLOCKED:
            self.services.wallet.touch()
