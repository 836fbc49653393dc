"""Re-emits the core's dataclass events as Qt signals, so widgets connect to signals and never to the core."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.events import ChainStatus, EventBus, RecoveredTransaction, ServiceState, WalletState


class Bridge(QObject):
    """One Qt signal per core event type, delivered on the GUI thread (the single qasync loop).

    Signals:
        service_state: a ServiceState (startup screen, status bar)
        chain_status: a ChainStatus
        wallet_state: a WalletState
        tx_recovered: a RecoveredTransaction (a transaction from before a restart was found again)
    """

    service_state = Signal(object)
    chain_status = Signal(object)
    wallet_state = Signal(object)
    tx_recovered = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribers: list[Callable[[], None]] = [
            bus.subscribe(ServiceState, self.service_state.emit),
            bus.subscribe(ChainStatus, self.chain_status.emit),
            bus.subscribe(WalletState, self.wallet_state.emit),
            bus.subscribe(RecoveredTransaction, self.tx_recovered.emit),
        ]

    def detach(self) -> None:
        """Stop listening to the bus (on window close)."""
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()
