"""Build the marketplace, chat and provider panes for the main window, connected to each other and its shortcuts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.bootstrap.services import Services
from app.chain.fees import Fees
from app.errors import ChainError, WalletError
from app.gui.async_slot import run_async
from app.gui.chat.consumer_backend import ConsumerChatBackend, ConsumerSessions
from app.gui.chat.pane import ChatPane
from app.gui.chat.stream import LocalModelBackend, RoutedBackend
from app.gui.main_window import MainWindow, Pane
from app.gui.marketplace.pane import MarketplacePane
from app.gui.marketplace.source import ServiceMarketSource, ServiceSessionOpener
from app.gui.provider.pane import ProviderPane
from app.router.consumer.service import ConsumerService
from app.router.ports import MarketplacePort
from app.router.provider.backends import OpenAIBackend
from app.router.provider.node import ProviderNode
from app.router.provider.selfcheck import ProviderCheck
from app.storage.records import CachedSession


@dataclass
class Part2Panes:
    """The three panes, built and connected; ``panes()`` gives them in MainWindow's Pane form."""

    marketplace: MarketplacePane
    chat: ChatPane
    provider: ProviderPane

    def panes(self) -> list[Pane]:
        return [Pane("marketplace", "Marketplace", self.marketplace), Pane("chat", "Chat", self.chat),
                Pane("provider", "Provider", self.provider)]

    async def refresh(self) -> None:
        """Load every pane's data (call once the services and the consumer are up)."""
        await self.marketplace.refresh()
        await self.chat.refresh()
        await self.provider.refresh()


def build_part2_panes(
    services: Services,
    consumer: ConsumerService,
    *,
    local_model: OpenAIBackend | None = None,
    local_label: str = "Local model",
    provider_node: ProviderNode | None = None,
    diamond: MarketplacePort | None = None,
    fees: Callable[[], Awaitable[Fees]] | None = None,
) -> Part2Panes:
    """Build the panes over started services and a started ConsumerService (the wallet is unlocked).

    "Open a new session for this model" in the chat opens the marketplace's preview dialog for the model's best
    bid, and a session opened there becomes the chat's target. ``diamond`` and ``fees`` default to the services'
    current ones; pass live views (app/gui/live.py) when the panes outlive a wallet lock.
    """
    if services.storage is None or services.diamond is None:
        raise ChainError("Start the services before building the marketplace, chat and provider pages.")
    storage = services.storage
    if fees is None and services.sender is not None:
        fees = services.sender.current_fees
    diamond = diamond or services.diamond
    marketplace = MarketplacePane(ServiceMarketSource(consumer, storage), ServiceSessionOpener(consumer, fees),
                                  storage)
    local = LocalModelBackend(local_model, local_label) if local_model is not None else None
    chat = ChatPane(storage, RoutedBackend(ConsumerChatBackend(consumer), local),
                    ConsumerSessions(consumer, diamond), local_label=local_label if local else None)
    models_path = services.settings.resolve(services.settings.models_config_path)
    if provider_node is not None:
        provider = ProviderPane(services, models_path, run_checks=provider_node.run_checks,
                                server_state=lambda: provider_node.state)
    else:  # the provider node of whichever wallet is unlocked now, if any
        provider = ProviderPane(services, models_path, run_checks=_live_checks(services),
                                server_state=lambda: services.provider.state if services.provider else "locked")

    def open_for_model(model_id: str) -> None:
        run_async(lambda: marketplace.open_for_model(model_id), name="open-session-for-model",
                  error_label=chat.error)

    def opened(session: CachedSession) -> None:
        run_async(lambda: chat.add_session(session), name="chat-add-session", error_label=chat.error)

    chat.open_session_requested.connect(open_for_model)
    marketplace.session_opened.connect(opened)
    return Part2Panes(marketplace, chat, provider)


def _live_checks(services: Services) -> Callable[[], Awaitable[list[ProviderCheck]]]:
    async def run_checks() -> list[ProviderCheck]:
        if services.provider is None:
            raise WalletError("Unlock the wallet to run the provider self-checks.")
        return await services.provider.run_checks()

    return run_checks


def connect_shortcuts(window: MainWindow, panes: Part2Panes) -> None:
    """Ctrl+N: new chat; Ctrl+K: search chats; Esc: stop the answer in progress."""
    chat = panes.chat

    def search() -> None:
        window.show_pane("chat")
        chat.conversations.search.setFocus()

    window.new_chat_requested.connect(lambda: run_async(chat.new_chat, name="chat-new", error_label=chat.error))
    window.search_requested.connect(search)
    window.stop_requested.connect(chat.stop)
