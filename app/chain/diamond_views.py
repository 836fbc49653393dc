"""Read-only Diamond wrapper: typed async views for providers, models, bids, sessions, stats and economics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.chain import diamond_abi as abi
from app.chain.abi import Function
from app.chain.client import ChainClient
from app.chain.multicall import Multicall
from app.chain.records import (
    Bid,
    Model,
    ModelStats,
    Page,
    Pool,
    Provider,
    ProviderModelStats,
    Session,
    StakesOnHold,
)


class DiamondViews:
    """Every view of the Diamond the router and GUI read. Lists page as ``(offset, limit)``; (0, 0) → length."""

    def __init__(self, client: ChainClient, address: str, multicall: Multicall | None = None) -> None:
        self.client = client
        self.address = address
        self.multicall = multicall or Multicall(client, abi.MULTICALL3_DEFAULT)

    async def _view(self, fn: Function, *args: Any) -> tuple[Any, ...]:
        data = await self.client.call(self.address, fn.encode(*args), context=f"reading {fn.name}")
        return fn.decode(data)

    async def _one(self, fn: Function, *args: Any) -> Any:
        return (await self._view(fn, *args))[0]

    async def _page(self, fn: Function, *args: Any) -> Page[Any]:
        items, total = await self._view(fn, *args)
        return Page(tuple(items), int(total))

    async def read_all(self, fn: Function, *prefix: Any, page_size: int = 100) -> list[Any]:
        """Read a whole list view: its length with (0, 0) first, then pages, as the Go node does."""
        total = (await self._page(fn, *prefix, 0, 0)).total
        items: list[Any] = []
        while len(items) < total:
            page = await self._page(fn, *prefix, len(items), page_size)
            if not page.items:
                break
            items.extend(page.items)
        return items

    async def _many(self, fn: Function, ids: Sequence[Any]) -> list[tuple[Any, ...]]:
        results = await self.multicall.call_many(self.address, fn, [(i,) for i in ids], context=f"reading {fn.name}")
        return [r[0] for r in results]

    # -- diamond, delegation ------------------------------------------------------------------------------------
    async def owner(self) -> str:
        return str(await self._one(abi.OWNER))

    async def facet_address(self, selector: bytes) -> str:
        return str(await self._one(abi.FACET_ADDRESS, selector))

    async def supports(self, fn: Function) -> bool:
        """Whether ``fn`` is registered on this Diamond (some live Diamonds miss selectors, proxy spec §10.18)."""
        return int(await self.facet_address(fn.selector), 16) != 0

    async def delegate_registry(self) -> str:
        return str(await self._one(abi.GET_REGISTRY))

    async def is_rights_delegated(self, delegatee: str, delegator: str, rights: bytes) -> bool:
        return bool(await self._one(abi.IS_RIGHTS_DELEGATED, delegatee, delegator, rights))

    # -- providers --------------------------------------------------------------------------------------------
    async def get_provider(self, address: str) -> Provider:
        return Provider.from_tuple(address, await self._one(abi.GET_PROVIDER, address))

    async def get_providers(self, addresses: Sequence[str]) -> list[Provider]:
        rows = await self._many(abi.GET_PROVIDER, addresses)
        return [Provider.from_tuple(a, r) for a, r in zip(addresses, rows, strict=True)]

    async def provider_minimum_stake(self) -> int:
        return int(await self._one(abi.GET_PROVIDER_MIN_STAKE))

    async def active_providers(self, offset: int = 0, limit: int = 100) -> Page[str]:
        return await self._page(abi.GET_ACTIVE_PROVIDERS, offset, limit)

    async def is_provider_active(self, address: str) -> bool:
        return bool(await self._one(abi.GET_IS_PROVIDER_ACTIVE, address))

    # -- models -----------------------------------------------------------------------------------------------
    async def get_model_id(self, owner: str, base_model_id: bytes) -> bytes:
        return bytes(await self._one(abi.GET_MODEL_ID, owner, base_model_id))

    async def get_model(self, model_id: bytes) -> Model:
        return Model.from_tuple(model_id, await self._one(abi.GET_MODEL, model_id))

    async def get_models(self, model_ids: Sequence[bytes]) -> list[Model]:
        rows = await self._many(abi.GET_MODEL, model_ids)
        return [Model.from_tuple(i, r) for i, r in zip(model_ids, rows, strict=True)]

    async def model_ids(self, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_MODEL_IDS, offset, limit)

    async def active_model_ids(self, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_ACTIVE_MODEL_IDS, offset, limit)

    async def model_minimum_stake(self) -> int:
        return int(await self._one(abi.GET_MODEL_MIN_STAKE))

    async def is_model_active(self, model_id: bytes) -> bool:
        return bool(await self._one(abi.GET_IS_MODEL_ACTIVE, model_id))

    # -- marketplace ------------------------------------------------------------------------------------------
    async def get_bid_id(self, provider: str, model_id: bytes, nonce: int) -> bytes:
        return bytes(await self._one(abi.GET_BID_ID, provider, model_id, nonce))

    async def get_provider_model_id(self, provider: str, model_id: bytes) -> bytes:
        return bytes(await self._one(abi.GET_PROVIDER_MODEL_ID, provider, model_id))

    async def bid_fee(self) -> int:
        return int(await self._one(abi.GET_BID_FEE))

    async def fee_balance(self) -> int:
        return int(await self._one(abi.GET_FEE_BALANCE))

    async def min_max_bid_price_per_second(self) -> tuple[int, int]:
        low, high = await self._view(abi.GET_MIN_MAX_PRICE)
        return int(low), int(high)

    async def get_bid(self, bid_id: bytes) -> Bid:
        return Bid.from_tuple(bid_id, await self._one(abi.GET_BID, bid_id))

    async def get_bids(self, bid_ids: Sequence[bytes]) -> list[Bid]:
        rows = await self._many(abi.GET_BID, bid_ids)
        return [Bid.from_tuple(i, r) for i, r in zip(bid_ids, rows, strict=True)]

    async def token_address(self) -> str:
        return str(await self._one(abi.GET_TOKEN))

    async def is_bid_active(self, bid_id: bytes) -> bool:
        return bool(await self._one(abi.IS_BID_ACTIVE, bid_id))

    async def provider_active_bids(self, provider: str, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_PROVIDER_ACTIVE_BIDS, provider, offset, limit)

    async def model_active_bids(self, model_id: bytes, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_MODEL_ACTIVE_BIDS, model_id, offset, limit)

    async def provider_bids(self, provider: str, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_PROVIDER_BIDS, provider, offset, limit)

    async def model_bids(self, model_id: bytes, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_MODEL_BIDS, model_id, offset, limit)

    # -- sessions ---------------------------------------------------------------------------------------------
    async def get_session_id(self, user: str, provider: str, bid_id: bytes, nonce: int) -> bytes:
        return bytes(await self._one(abi.GET_SESSION_ID, user, provider, bid_id, nonce))

    async def get_session(self, session_id: bytes) -> Session:
        return Session.from_tuple(session_id, await self._one(abi.GET_SESSION, session_id))

    async def get_sessions(self, session_ids: Sequence[bytes]) -> list[Session]:
        rows = await self._many(abi.GET_SESSION, session_ids)
        return [Session.from_tuple(i, r) for i, r in zip(session_ids, rows, strict=True)]

    async def user_sessions(self, user: str, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_USER_SESSIONS, user, offset, limit)

    async def provider_sessions(self, provider: str, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_PROVIDER_SESSIONS, provider, offset, limit)

    async def model_sessions(self, model_id: bytes, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return await self._page(abi.GET_MODEL_SESSIONS, model_id, offset, limit)

    async def user_stakes_on_hold(self, user: str, iterations: int = 255) -> StakesOnHold:
        available, hold = await self._view(abi.GET_USER_STAKES_ON_HOLD, user, iterations)
        return StakesOnHold(int(available), int(hold))

    async def is_provider_approval_used(self, approval: bytes) -> bool:
        return bool(await self._one(abi.GET_IS_PROVIDER_APPROVAL_USED, approval))

    async def total_sessions(self, provider: str) -> int:
        return int(await self._one(abi.GET_TOTAL_SESSIONS, provider))

    # -- economics --------------------------------------------------------------------------------------------
    async def session_end(self, amount: int, price_per_second: int, opened_at: int) -> int:
        return int(await self._one(abi.GET_SESSION_END, amount, price_per_second, opened_at))

    async def stake_to_stipend(self, amount: int, timestamp: int) -> int:
        return int(await self._one(abi.STAKE_TO_STIPEND, amount, timestamp))

    async def stipend_to_stake(self, stipend: int, timestamp: int) -> int:
        return int(await self._one(abi.STIPEND_TO_STAKE, stipend, timestamp))

    async def todays_budget(self, timestamp: int) -> int:
        return int(await self._one(abi.GET_TODAYS_BUDGET, timestamp))

    async def compute_balance(self, timestamp: int) -> int:
        return int(await self._one(abi.GET_COMPUTE_BALANCE, timestamp))

    async def total_mor_supply(self, timestamp: int) -> int:
        return int(await self._one(abi.TOTAL_MOR_SUPPLY, timestamp))

    async def pools(self) -> list[Pool]:
        return [Pool.from_tuple(p) for p in await self._one(abi.GET_POOLS)]

    async def pool(self, index: int) -> Pool:
        return Pool.from_tuple(await self._one(abi.GET_POOL, index))

    async def funding_account(self) -> str:
        return str(await self._one(abi.GET_FUNDING_ACCOUNT))

    async def providers_total_claimed(self) -> int:
        return int(await self._one(abi.GET_PROVIDERS_TOTAL_CLAIMED))

    async def max_session_duration(self) -> int:
        return int(await self._one(abi.GET_MAX_SESSION_DURATION))

    # -- stats ------------------------------------------------------------------------------------------------
    async def provider_model_stats(self, model_id: bytes, provider: str) -> ProviderModelStats:
        """Stats of one provider on one model (the contract takes the model first)."""
        return ProviderModelStats.from_tuple(await self._one(abi.GET_PROVIDER_MODEL_STATS, model_id, provider))

    async def model_stats(self, model_id: bytes) -> ModelStats:
        return ModelStats.from_tuple(await self._one(abi.GET_MODEL_STATS, model_id))
