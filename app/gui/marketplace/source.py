"""Where the marketplace reads from and opens sessions through: small Protocols and their ConsumerService adapters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from app.chain.fees import Fees
from app.errors import ChainError
from app.gui.marketplace.market_data import BidRow, ModelRow, bid_rows
from app.gui.marketplace.quote import QuoteInputs
from app.router.consumer.client import Endpoint
from app.router.consumer.service import ConsumerService
from app.router.consumer.sessions import open_stake
from app.storage.records import CachedSession, ProviderRequest
from app.storage.store import AsyncStorage

_PAGE = 100
# Typical gas of MOR approve + openSession on the reference contracts; the preview says it is an estimate.
APPROVE_GAS = 60_000
OPEN_GAS = 450_000


@dataclass(frozen=True, slots=True)
class MarketView:
    """A model's ranked bids and the chain values the open-session preview needs."""

    model_id: str
    bids: list[BidRow]
    inputs: QuoteInputs


class MarketSource(Protocol):
    """Reads for the marketplace pane."""

    async def models(self) -> list[ModelRow]: ...

    async def market(self, model_id: str) -> MarketView: ...

    async def ping(self, row: BidRow) -> float: ...

    async def history(self, provider: str, model_id: str) -> list[ProviderRequest]: ...


class SessionOpener(Protocol):
    """Opens a session on one bid, reporting each stage (approve → open → confirmed)."""

    async def estimate_fee_wei(self) -> int | None: ...

    async def open(self, row: BidRow, duration_s: int, direct: bool, stage: Callable[[str], None]
                   ) -> CachedSession: ...


class ServiceMarketSource:
    """MarketSource over ConsumerService (ranking, ping) and storage (our measurements)."""

    def __init__(self, service: ConsumerService, storage: AsyncStorage) -> None:
        self.service = service
        self.storage = storage
        self.diamond = service.market.diamond
        self.chain = service.market.chain

    async def models(self) -> list[ModelRow]:
        """Active models with their active bid count and price range."""
        ids: list[bytes] = []
        while True:
            page = await self.diamond.active_model_ids(len(ids), _PAGE)
            ids.extend(page.items)
            if not page.items or len(ids) >= page.total:
                break
        return list(await asyncio.gather(*(self._model_row(m) for m in ids)))

    async def _model_row(self, model_id: bytes) -> ModelRow:
        model, page = await asyncio.gather(self.diamond.get_model(model_id),
                                           self.diamond.model_active_bids(model_id, 0, 255))
        bids = await self.diamond.get_bids(list(page.items)) if page.items else []
        prices = [b.price_per_second for b in bids]
        return ModelRow("0x" + model_id.hex(), model.name, tuple(model.tags), len(bids),
                        min(prices) if prices else None, max(prices) if prices else None)

    async def market(self, model_id: str) -> MarketView:
        """Ranked bids with our measured stats, and the supply/budget/time for quotes."""
        snapshot = await self.service.ranked_bids(model_id)
        local = await self.storage.run(self.storage.sync.provider_stats.stats_for_model, model_id.lower())
        max_s = await self.diamond.max_session_duration()
        inputs = QuoteInputs(snapshot.supply, snapshot.budget, snapshot.timestamp, max_s)
        return MarketView(model_id, bid_rows(snapshot, local), inputs)

    async def ping(self, row: BidRow) -> float:
        """Round trip of a signed MOR-RPC ping, in ms (PeerError when offline)."""
        return (await self.service.ping(row.provider, row.endpoint)).rtt_ms

    async def history(self, provider: str, model_id: str) -> list[ProviderRequest]:
        """Our latest requests to the provider for the model, oldest first (for the chart)."""
        rows = await self.storage.run(self.storage.sync.provider_stats.requests, provider, model_id, 200)
        return list(reversed(rows))


class ServiceSessionOpener:
    """Opens through the consumer's session manager, with the MOR approval as its own visible stage."""

    def __init__(self, service: ConsumerService, fees: Callable[[], Awaitable[Fees]] | None = None) -> None:
        self.service = service
        self._fees = fees  # TxSender.current_fees of the unlocked wallet

    async def estimate_fee_wei(self) -> int | None:
        """At most this much ETH for approve + open (typical gas × today's fee cap)."""
        if self._fees is None:
            return None
        return (APPROVE_GAS + OPEN_GAS) * (await self._fees()).cap

    async def open(self, row: BidRow, duration_s: int, direct: bool, stage: Callable[[str], None]
                   ) -> CachedSession:
        manager = self.service.sessions_manager
        diamond, chain = manager.diamond, manager.chain
        bid_id = bytes.fromhex(row.bid_id.removeprefix("0x"))
        stage("reading the bid…")
        bid = await diamond.get_bid(bid_id)
        if not bid.is_active:
            raise ChainError(f"Bid {row.bid_id} is not active any more; refresh the marketplace and pick another.")
        provider = await diamond.get_provider(bid.provider)
        now = await chain.block_timestamp()
        supply, budget = await asyncio.gather(diamond.total_mor_supply(now), diamond.todays_budget(now))
        amount = open_stake(supply, budget, bid.price_per_second, duration_s, direct)
        stage("asking the provider to approve…")
        grant = await self.service.client.request_session(Endpoint.parse(provider.endpoint, bid.provider),
                                                          bid.provider, bid.id, amount, chain.chain_id)
        stage("approving MOR…")
        await manager.token.ensure_allowance(diamond.address, amount)
        stage("opening the session…")
        session = await manager.open_with_approval(bid, provider, grant, amount, direct=direct, failover=False)
        stage("confirmed")
        return session
