"""Adds the marketplace, chat and provider panes to the main window, over live views of the router objects."""

from __future__ import annotations

from typing import cast

from app.bootstrap.services import Services
from app.chain.diamond import Diamond
from app.gui.async_slot import run_async
from app.gui.bridge import Bridge
from app.gui.live import LiveConsumer, LiveDiamond, live_fees
from app.gui.main_window import MainWindow, Pane
from app.gui.marketplace.wiring import Part2Panes, build_part2_panes, connect_shortcuts
from app.router.consumer.service import ConsumerService
from app.router.provider.backends import OpenAIBackend


class Part2:
    """Builds the three panes once per Services and connects them to the window's shortcuts."""

    def __init__(self) -> None:
        self.built: Part2Panes | None = None

    def panes(self, services: Services, _bridge: Bridge) -> list[Pane]:
        """The panes for a started Services (the wallet may lock and unlock later: they follow it)."""
        local_model = None
        demo = services.demo
        if demo is not None and demo.model_available:
            # The devnet's local model is also offered directly: "local model (no session)", free of charge.
            local_model = OpenAIBackend(demo.model_server.model_name, demo.model_server.chat_completions_url)
        consumer = cast(ConsumerService, LiveConsumer(services))
        self.built = build_part2_panes(
            services, consumer, local_model=local_model, local_label="SmolLM2 (local, no session)",
            diamond=cast(Diamond, LiveDiamond(services)), fees=live_fees(services),
        )  # fmt: skip
        return self.built.panes()

    def attach(self, window: MainWindow) -> None:
        """Connect Ctrl+N / Ctrl+K / Esc and load the panes' data."""
        if self.built is None:
            return
        built = self.built
        connect_shortcuts(window, built)
        run_async(built.refresh, name="load marketplace, chat and provider")
