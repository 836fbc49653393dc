"""The provider pane: dashboard, register/bid forms and the models-config editor in tabs, refreshed from chain."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from app.bootstrap.services import Services
from app.errors import ChainError
from app.gui.async_slot import run_async
from app.gui.provider.dashboard import CheckRunner, ProviderDashboard
from app.gui.provider.forms import BidsCard, DeregisterCard, PostBidCard, RegisterModelCard, RegisterProviderCard
from app.gui.provider.models_form import ModelsConfigEditor
from app.gui.provider.status import ProviderReader, ProviderStatus
from app.gui.widgets import error_label, role_label

_PAGE = 100


class ProviderPane(QWidget):
    """Everything a provider does from the app. ``refresh()`` re-reads the chain; cards refresh after each tx."""

    def __init__(
        self,
        services: Services,
        models_config_path: Path,
        *,
        run_checks: CheckRunner | None = None,
        server_state: Callable[[], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.status: ProviderStatus | None = None
        self.dashboard = ProviderDashboard(services, run_checks, server_state)
        self.bids = BidsCard(services)
        self.register_provider = RegisterProviderCard(services)
        self.register_model = RegisterModelCard(services)
        self.post_bid = PostBidCard(services)
        self.deregister = DeregisterCard(services)
        self.models_config = ModelsConfigEditor(models_config_path)
        self.error = error_label()
        self.refresh_button = QPushButton("Refresh")
        dash = QWidget()
        dash_col = QVBoxLayout(dash)
        dash_col.addWidget(self.dashboard)
        dash_col.addWidget(self.bids, 1)
        forms = QWidget()
        forms_col = QVBoxLayout(forms)
        for card in (self.register_provider, self.register_model, self.post_bid, self.deregister):
            forms_col.addWidget(card)
        forms_col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(forms)
        self.tabs = QTabWidget()
        self.tabs.addTab(dash, "Dashboard")
        self.tabs.addTab(scroll, "Register and bid")
        self.tabs.addTab(self.models_config, "models-config.json")
        header = QHBoxLayout()
        header.addWidget(role_label("Provider", "title"))
        header.addStretch(1)
        header.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.error)
        layout.addWidget(self.tabs, 1)
        for tx_card in (self.bids, self.register_provider, self.register_model, self.post_bid, self.deregister):
            tx_card.done.connect(self._refresh_soon)
        self.refresh_button.clicked.connect(self._refresh_soon)

    def _refresh_soon(self) -> None:
        run_async(self.refresh, name="provider-refresh", busy=[self.refresh_button], error_label=self.error)

    def _reader(self) -> ProviderReader:
        if self.services.diamond is None or self.services.chain is None:
            raise ChainError("The chain is not connected yet; the provider page loads once it is.")
        return ProviderReader(self.services.diamond, self.services.chain)

    async def refresh(self) -> ProviderStatus | None:
        """Live limits, the model list for bids, our status (when a wallet is unlocked) and models-config.json."""
        reader = self._reader()
        limits, models = await asyncio.gather(reader.limits(), self._models())
        for card in (self.register_provider, self.register_model, self.post_bid):
            card.set_limits(limits)
        self.post_bid.set_models(models)
        await self.models_config.load()
        if self.services.sender is None:
            return None
        self.status = await reader.status(self.services.sender.address)
        self.dashboard.show_status(self.status)
        self.bids.set_bids(self.status.bids)
        e = self.status.earnings
        self.deregister.refund = self.status.provider.stake - e.period_earned if self.status.registered else 0
        return self.status

    async def _models(self) -> list[tuple[str, str]]:
        diamond = self.services.diamond
        assert diamond is not None
        ids: list[bytes] = []
        while True:
            page = await diamond.active_model_ids(len(ids), _PAGE)
            ids.extend(page.items)
            if not page.items or len(ids) >= page.total:
                break
        models = await diamond.get_models(ids) if ids else []
        return [("0x" + m.id.hex(), m.name) for m in models]
