"""``/blockchain/*`` and the provider-claim routes (spec §3.4), in the Go router's shapes and permission names."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from app.chain.records import Bid, Page, Session
from app.errors import ApiError
from app.router.api import params as p
from app.router.api.context import ApiContext
from app.router.api.ports import ApiMarketplace
from app.router.api.shapes import bid_json, h, model_json, provider_json, scored_bid_json, session_json
from app.router.api.spec import PAGING, Route

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE = 100
MAX_TAGS = 64
_ENDPOINT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$")


async def _all(fetch: Callable[[int, int], Awaitable[Page[T]]]) -> list[T]:
    items: list[T] = []
    offset = 0
    while True:
        page = await fetch(offset, PAGE)
        items.extend(page.items)
        offset += PAGE
        if offset >= page.total or not page.items:
            return items


async def paged(fetch: Callable[[int, int], Awaitable[Page[T]]], paging: p.Paging) -> list[T]:
    """One page of an on-chain list in the requested order (limit 0 = the whole list)."""
    if paging.limit == 0:
        return paging.apply(await _all(fetch))
    if not paging.descending:
        return list((await fetch(paging.offset, paging.limit)).items)
    total = (await fetch(0, 0)).total
    end = max(0, total - paging.offset)
    start = max(0, end - paging.limit)
    if end == 0:
        return []
    return list(reversed((await fetch(start, end - start)).items))


def _tx(receipt: Any) -> web.Response:
    return web.json_response({"tx": receipt.tx_hash})


# -- balances and transfers ---------------------------------------------------------------------------------------
async def balance(ctx: ApiContext, request: web.Request) -> web.Response:
    """ETH and MOR balances of the node wallet, as wei strings."""
    address = ctx.wallet_address()
    eth, mor = await asyncio.gather(ctx.need_chain().get_balance(address), ctx.need_token().balance_of(address))
    return web.json_response({"eth": str(eth), "mor": str(mor)})


async def allowance(ctx: ApiContext, request: web.Request) -> web.Response:
    """MOR allowance the node wallet gave ``spender``."""
    spender = p.query_address(request, "spender")
    value = await ctx.need_token().allowance(ctx.wallet_address(), spender)
    return web.json_response({"allowance": str(value)})


async def approve(ctx: ApiContext, request: web.Request) -> web.Response:
    """ERC-20 approve from the node wallet."""
    spender = p.query_address(request, "spender")
    amount = p.uint(request.query.get("amount"), "query parameter 'amount'") if "amount" in request.query else None
    if amount is None:
        raise ApiError("query parameter 'amount' is required (wei)")
    ctx.need_sender()
    return _tx(await ctx.need_token().approve(spender, amount))


async def _send_params(request: web.Request) -> tuple[str, int]:
    body = await p.json_body(request)
    return p.address(p.require(body, "to"), "field 'to'"), p.uint_field(body, "amount")


async def send_eth(ctx: ApiContext, request: web.Request) -> web.Response:
    """Send ETH from the node wallet."""
    to, amount = await _send_params(request)
    return _tx(await ctx.need_sender().transfer_eth(to, amount))


async def send_mor(ctx: ApiContext, request: web.Request) -> web.Response:
    """Send MOR from the node wallet."""
    to, amount = await _send_params(request)
    ctx.need_sender()
    return _tx(await ctx.need_token().transfer(to, amount))


async def latest_block(ctx: ApiContext, request: web.Request) -> web.Response:
    """The chain head's number."""
    return web.json_response({"block": await ctx.need_chain().block_number()})


async def transactions(ctx: ApiContext, request: web.Request) -> web.Response:
    """Wallet history from Blockscout; an empty list where no explorer exists (devnet)."""
    page = p.uint(request.query.get("page", "1"), "query parameter 'page'", maximum=10_000)
    limit = p.uint(request.query.get("limit", "10"), "query parameter 'limit'", maximum=100)
    address = ctx.wallet_address()
    if not ctx.settings.blockscout_api_url or page == 0 or limit == 0:
        return web.json_response({"transactions": []})
    from app.router.api.blockscout import fetch_transactions

    txs = await fetch_transactions(ctx.settings.blockscout_api_url, address, page, limit)
    return web.json_response({"transactions": txs})


# -- providers ----------------------------------------------------------------------------------------------------
async def providers(ctx: ApiContext, request: web.Request) -> web.Response:
    """Active providers (no default limit: 0 = all, as upstream)."""
    paging = p.paging(request, default_limit=None)
    diamond = ctx.need_diamond()
    addresses = await paged(diamond.active_providers, paging)
    found = await diamond.get_providers(addresses) if addresses else []
    return web.json_response({"providers": [provider_json(x) for x in found]})


async def create_provider(ctx: ApiContext, request: web.Request) -> web.Response:
    """Register the node wallet as a provider (MOR allowance for the stake topped up first)."""
    body = await p.json_body(request)
    stake = p.uint_field(body, "stake")
    endpoint = p.text_field(body, "endpoint", max_len=256).strip()
    if not _ENDPOINT.match(endpoint):
        raise ApiError("field 'endpoint' must be host:port with no scheme, e.g. provider.example.com:3333")
    diamond, me = ctx.need_diamond(), ctx.wallet_address()
    ctx.need_sender()
    await ctx.need_token().ensure_allowance(diamond.address, stake)
    await diamond.provider_register(me, stake, endpoint)
    return web.json_response({"provider": provider_json(await diamond.get_provider(me))})


async def delete_provider(ctx: ApiContext, request: web.Request) -> web.Response:
    """Deregister a provider (the node wallet's, or one it is delegated for)."""
    address = p.path_address(request)
    ctx.need_sender()
    return _tx(await ctx.need_diamond().provider_deregister(address))


# -- models -------------------------------------------------------------------------------------------------------
async def models(ctx: ApiContext, request: web.Request) -> web.Response:
    """Active models (no default limit: 0 = all)."""
    paging = p.paging(request, default_limit=None)
    diamond = ctx.need_diamond()
    ids = await paged(diamond.active_model_ids, paging)
    found = await diamond.get_models(ids) if ids else []
    return web.json_response({"models": [model_json(m) for m in found]})


def _tags(body: dict[str, Any]) -> list[str]:
    tags = p.require(body, "tags")
    if not isinstance(tags, list) or not 1 <= len(tags) <= MAX_TAGS:
        raise ApiError(f"field 'tags' must be a list of 1-{MAX_TAGS} strings")
    if not all(isinstance(t, str) and 1 <= len(t) <= 64 for t in tags):
        raise ApiError("every tag must be a string of 1-64 characters")
    return tags


async def create_model(ctx: ApiContext, request: web.Request) -> web.Response:
    """Register a model owned by the node wallet; ``id`` (base id) is random when absent."""
    body = await p.json_body(request)
    base_id = p.hex32(body["id"], "field 'id'") if body.get("id") else _random32()
    ipfs = p.hex32(p.require(body, "ipfsID"), "field 'ipfsID'")
    fee, stake = p.uint_field(body, "fee"), p.uint_field(body, "stake")
    name = p.text_field(body, "name", max_len=64)
    if not name:
        raise ApiError("field 'name' must be 1-64 characters")
    tags = _tags(body)
    diamond, me = ctx.need_diamond(), ctx.wallet_address()
    ctx.need_sender()
    await ctx.need_token().ensure_allowance(diamond.address, stake)
    created = await diamond.model_register(me, base_id, ipfs, fee, stake, name, tags)
    return web.json_response({"model": model_json(await diamond.get_model(created.id))})


def _random32() -> bytes:
    import secrets

    return secrets.token_bytes(32)


async def delete_model(ctx: ApiContext, request: web.Request) -> web.Response:
    """Deregister a model."""
    model_id = p.path_hex32(request)
    ctx.need_sender()
    return _tx(await ctx.need_diamond().model_deregister(model_id))


# -- bids ---------------------------------------------------------------------------------------------------------
async def create_bid(ctx: ApiContext, request: web.Request) -> web.Response:
    """Post a bid from the node wallet (the bid fee's allowance topped up first)."""
    body = await p.json_body(request)
    model_id = p.hex32(p.require(body, "modelID"), "field 'modelID'")
    price = p.uint_field(body, "pricePerSecond")
    diamond, me = ctx.need_diamond(), ctx.wallet_address()
    ctx.need_sender()
    await ctx.need_token().ensure_allowance(diamond.address, await diamond.bid_fee())
    created = await diamond.post_model_bid(me, model_id, price)
    return web.json_response({"bid": bid_json(await diamond.get_bid(created.id))})


async def _existing_bid(diamond: ApiMarketplace, bid_id: bytes) -> Bid:
    bid = await diamond.get_bid(bid_id)
    if bid.created_at == 0:
        raise ApiError(f"no bid {h(bid_id)}", 404)
    return bid


async def get_bid(ctx: ApiContext, request: web.Request) -> web.Response:
    """One bid."""
    bid_id = p.path_hex32(request)
    return web.json_response({"bid": bid_json(await _existing_bid(ctx.need_diamond(), bid_id))})


async def delete_bid(ctx: ApiContext, request: web.Request) -> web.Response:
    """Delete a bid."""
    bid_id = p.path_hex32(request)
    ctx.need_sender()
    return _tx(await ctx.need_diamond().delete_model_bid(bid_id))


async def _bids(diamond: ApiMarketplace, ids: list[bytes]) -> web.Response:
    found = await diamond.get_bids(ids) if ids else []
    return web.json_response({"bids": [bid_json(b) for b in found]})


async def model_bids(ctx: ApiContext, request: web.Request) -> web.Response:
    """Every bid (active or deleted) on a model."""
    paging = p.paging(request)
    model_id = p.path_hex32(request)
    diamond = ctx.need_diamond()
    return await _bids(diamond, await paged(lambda o, n: diamond.model_bids(model_id, o, n), paging))


async def model_active_bids(ctx: ApiContext, request: web.Request) -> web.Response:
    """Active bids on a model."""
    paging = p.paging(request)
    model_id = p.path_hex32(request)
    diamond = ctx.need_diamond()
    ids = await paged(lambda o, n: diamond.model_active_bids(model_id, o, n), paging)
    return await _bids(diamond, ids)


async def model_rated_bids(ctx: ApiContext, request: web.Request) -> web.Response:
    """Active bids on a model, rated by the consumer's scorer, best first (``ID`` filled in)."""
    model_id = p.path_hex32(request)
    snapshot = await ctx.need_consumer().ranked_bids(model_id)
    return web.json_response({"bids": [scored_bid_json(r.bid, r.scored.score) for r in snapshot.bids]})


async def provider_bids(ctx: ApiContext, request: web.Request) -> web.Response:
    """Every bid of a provider."""
    paging = p.paging(request)
    provider = p.path_address(request)
    diamond = ctx.need_diamond()
    return await _bids(diamond, await paged(lambda o, n: diamond.provider_bids(provider, o, n), paging))


async def provider_active_bids(ctx: ApiContext, request: web.Request) -> web.Response:
    """Active bids of a provider."""
    paging = p.paging(request)
    provider = p.path_address(request)
    diamond = ctx.need_diamond()
    ids = await paged(lambda o, n: diamond.provider_active_bids(provider, o, n), paging)
    return await _bids(diamond, ids)


# -- sessions -----------------------------------------------------------------------------------------------------
async def _sessions_json(diamond: ApiMarketplace, ids: list[bytes]) -> list[dict[str, Any]]:
    sessions = await diamond.get_sessions(ids) if ids else []
    bid_ids = list(dict.fromkeys(s.bid_id for s in sessions))
    bids = {b.id: b for b in (await diamond.get_bids(bid_ids) if bid_ids else [])}
    return [session_json(s, bids.get(s.bid_id)) for s in sessions]


async def _existing_session(diamond: ApiMarketplace, session_id: bytes) -> Session:
    session = await diamond.get_session(session_id)
    if not session.exists:
        raise ApiError(f"no session {h(session_id)}", 404)
    return session


async def get_session(ctx: ApiContext, request: web.Request) -> web.Response:
    """One session with its provider, model and price from the bid."""
    session_id = p.path_hex32(request)
    diamond = ctx.need_diamond()
    session = await _existing_session(diamond, session_id)
    bid = await diamond.get_bid(session.bid_id)
    return web.json_response({"session": session_json(session, bid)})


def _user_param(ctx: ApiContext, request: web.Request) -> str:
    return p.query_address(request, "user") if "user" in request.query else ctx.wallet_address()


async def user_sessions(ctx: ApiContext, request: web.Request) -> web.Response:
    """Sessions of ``user`` (default: the node wallet)."""
    paging = p.paging(request)
    user = _user_param(ctx, request)
    diamond = ctx.need_diamond()
    ids = await paged(lambda o, n: diamond.user_sessions(user, o, n), paging)
    return web.json_response({"sessions": await _sessions_json(diamond, ids)})


async def user_session_ids(ctx: ApiContext, request: web.Request) -> web.Response:
    """Session ids of ``user`` as a bare JSON array."""
    paging = p.paging(request)
    user = _user_param(ctx, request)
    diamond = ctx.need_diamond()
    ids = await paged(lambda o, n: diamond.user_sessions(user, o, n), paging)
    return web.json_response([h(i) for i in ids])


async def provider_sessions(ctx: ApiContext, request: web.Request) -> web.Response:
    """Sessions served by ``provider``."""
    paging = p.paging(request)
    provider = p.query_address(request, "provider")
    diamond = ctx.need_diamond()
    ids = await paged(lambda o, n: diamond.provider_sessions(provider, o, n), paging)
    return web.json_response({"sessions": await _sessions_json(diamond, ids)})


async def open_session_with_approval(ctx: ApiContext, request: web.Request) -> web.Response:
    """Raw on-chain open with an approval from ``/proxy/sessions/initiate``."""
    body = await p.json_body(request)
    approval = p.hex_bytes(p.require(body, "approval"), "field 'approval'")
    signature = p.hex_bytes(p.require(body, "approvalSig"), "field 'approvalSig'", max_len=65)
    if len(signature) != 65:
        raise ApiError("field 'approvalSig' must be a 65-byte signature (130 hex characters)")
    stake = p.uint_field(body, "stake")
    direct = p.bool_field(body, "directPayment")
    diamond, me = ctx.need_diamond(), ctx.wallet_address()
    ctx.need_sender()
    await ctx.need_token().ensure_allowance(diamond.address, stake)
    created = await diamond.open_session(me, stake, direct, approval, signature)
    return web.json_response({"sessionID": h(created.id)})


def _duration(body: dict[str, Any]) -> int:
    return p.uint_field(body, "sessionDuration", maximum=10 * 365 * 86400)


async def open_session_by_bid(ctx: ApiContext, request: web.Request) -> web.Response:
    """Open a stake-mode session on one bid (no failover)."""
    bid_id = p.path_hex32(request)
    body = await p.json_body(request)
    session = await ctx.need_consumer().open_session(bid_id=h(bid_id), duration_s=_duration(body),
                                                     direct=p.bool_field(body, "directPayment"), failover=False)
    return web.json_response({"sessionID": session.id})


async def open_session_by_model(ctx: ApiContext, request: web.Request) -> web.Response:
    """Open a session on the best-rated bid that accepts (each provider's refusal reported if none does)."""
    model_id = p.path_hex32(request)
    body = await p.json_body(request)
    omit = body.get("omitProvider") or []
    if isinstance(omit, str):
        omit = [omit]
    if not isinstance(omit, list):
        raise ApiError("field 'omitProvider' must be an address or a list of addresses")
    omitted = [p.address(a, "field 'omitProvider'") for a in omit]
    failover = body.get("failover")
    if failover is not None and not isinstance(failover, bool):
        raise ApiError("field 'failover' must be true or false")
    session = await ctx.need_consumer().open_session(
        h(model_id), duration_s=_duration(body), direct=p.bool_field(body, "directPayment"), omit=omitted,
        failover=failover,
    )
    return web.json_response({"sessionID": session.id})


async def close_session(ctx: ApiContext, request: web.Request) -> web.Response:
    """Close a session (with the provider's report, or a dispute receipt when it cannot be reached)."""
    session_id = p.path_hex32(request)
    result = await ctx.need_consumer().close_session(h(session_id))
    return web.json_response({"tx": result.tx_hash})


async def withdraw_user_stakes(ctx: ApiContext, request: web.Request) -> web.Response:
    """Withdraw the node wallet's stakes released from early-close holds (missing upstream: issue #827)."""
    iterations = p.uint(request.query.get("iterations", "255"), "query parameter 'iterations'", maximum=255)
    if iterations == 0:
        raise ApiError("query parameter 'iterations' must be 1-255")
    diamond, me = ctx.need_diamond(), ctx.wallet_address()
    ctx.need_sender()
    return _tx(await diamond.withdraw_user_stakes(me, iterations))


async def stakes_on_hold(ctx: ApiContext, request: web.Request) -> web.Response:
    """MOR of ``user`` (default: the node wallet) withdrawable now and still on hold until UTC midnight."""
    user = _user_param(ctx, request)
    held = await ctx.need_diamond().user_stakes_on_hold(user)
    return web.json_response({"available": str(held.available), "onHold": str(held.on_hold)})


async def budget(ctx: ApiContext, request: web.Request) -> web.Response:
    """Today's session budget (stake formula input)."""
    now = await ctx.need_chain().block_timestamp()
    return web.json_response({"budget": str(await ctx.need_diamond().todays_budget(now))})


async def supply(ctx: ApiContext, request: web.Request) -> web.Response:
    """Total MOR supply as the stake formula sees it."""
    now = await ctx.need_chain().block_timestamp()
    return web.json_response({"supply": str(await ctx.need_diamond().total_mor_supply(now))})


def claimable(session: Session, price: int, now: int) -> int:
    """What ``claimForProvider`` would pay now (contracts-spec §6.7, before the yearly limiter)."""
    end = session.ends_at if session.closed_at == 0 else min(session.closed_at, session.ends_at)
    if now < end:
        return 0
    rewards = (end - session.opened_at) * price - session.provider_withdrawn_amount
    on_hold = 0
    if session.closed_at:
        sod = session.closed_at - session.closed_at % 86400
        if now < sod + 86400:
            on_hold = (session.closed_at - max(sod, session.opened_at)) * price
    return max(0, rewards - on_hold)


async def provider_claimable_balance(ctx: ApiContext, request: web.Request) -> web.Response:
    """What the provider of a session could claim now."""
    session_id = p.path_hex32(request)
    diamond = ctx.need_diamond()
    session = await _existing_session(diamond, session_id)
    bid = await diamond.get_bid(session.bid_id)
    now = await ctx.need_chain().block_timestamp()
    return web.json_response({"balance": str(claimable(session, bid.price_per_second, now))})


async def provider_claim(ctx: ApiContext, request: web.Request) -> web.Response:
    """Claim a session's earnings for its provider."""
    session_id = p.path_hex32(request)
    ctx.need_sender()
    return _tx(await ctx.need_diamond().claim_for_provider(session_id))


ROUTES = (
    Route("GET", "/blockchain/balance", balance, "get_balance", "wallet", "ETH and MOR balance of the node wallet",
          response="TokenBalanceRes"),
    Route("GET", "/blockchain/transactions", transactions, "get_transactions", "wallet",
          "Wallet transactions from Blockscout", response="TransactionsRes",
          query=(("page", "integer", False), ("limit", "integer", False))),
    Route("GET", "/blockchain/allowance", allowance, "get_allowance", "wallet", "MOR allowance for a spender",
          response="AllowanceRes", query=(("spender", "string", True),)),
    Route("GET", "/blockchain/latestBlock", latest_block, "get_latest_block", "wallet", "Latest block number",
          response="BlockRes"),
    Route("POST", "/blockchain/approve", approve, "approve", "wallet", "Approve MOR for a spender",
          response="TxRes", query=(("spender", "string", True), ("amount", "string", True))),
    Route("POST", "/blockchain/send/eth", send_eth, "send_eth", "wallet", "Send ETH", body="SendReq",
          response="TxRes"),
    Route("POST", "/blockchain/send/mor", send_mor, "send_mor", "wallet", "Send MOR", body="SendReq",
          response="TxRes"),
    Route("GET", "/blockchain/providers", providers, "get_providers", "providers", "Active providers",
          response="ProvidersRes", query=PAGING),
    Route("POST", "/blockchain/providers", create_provider, "create_provider", "providers",
          "Register the node wallet as a provider", body="CreateProviderReq", response="ProviderRes"),
    Route("DELETE", "/blockchain/providers/{id}", delete_provider, "delete_provider", "providers",
          "Deregister a provider", response="TxRes"),
    Route("GET", "/blockchain/models", models, "get_models", "models", "Active models", response="ModelsRes",
          query=PAGING),
    Route("POST", "/blockchain/models", create_model, "create_model", "models", "Register a model",
          body="CreateModelReq", response="ModelRes"),
    Route("DELETE", "/blockchain/models/{id}", delete_model, "delete_model", "models", "Deregister a model",
          response="TxRes"),
    Route("POST", "/blockchain/bids", create_bid, "create_bid", "bids", "Post a bid", body="CreateBidReq",
          response="BidRes"),
    Route("GET", "/blockchain/bids/{id}", get_bid, "get_bids", "bids", "One bid", response="BidRes"),
    Route("DELETE", "/blockchain/bids/{id}", delete_bid, "delete_bids", "bids", "Delete a bid", response="TxRes"),
    Route("GET", "/blockchain/models/{id}/bids", model_bids, "get_bids", "bids", "Bids on a model",
          response="BidsRes", query=PAGING),
    Route("GET", "/blockchain/models/{id}/bids/rated", model_rated_bids, "get_bids", "bids",
          "Rated active bids on a model, best first", response="ScoredBidsRes"),
    Route("GET", "/blockchain/models/{id}/bids/active", model_active_bids, "get_bids", "bids",
          "Active bids on a model", response="BidsRes", query=PAGING),
    Route("GET", "/blockchain/providers/{id}/bids", provider_bids, "get_bids", "bids", "Bids of a provider",
          response="BidsRes", query=PAGING),
    Route("GET", "/blockchain/providers/{id}/bids/active", provider_active_bids, "get_bids", "bids",
          "Active bids of a provider", response="BidsRes", query=PAGING),
    Route("GET", "/proxy/sessions/{id}/providerClaimableBalance", provider_claimable_balance, "get_sessions",
          "sessions", "What the session's provider can claim now", response="BalanceRes"),
    Route("POST", "/proxy/sessions/{id}/providerClaim", provider_claim, "session_provider_claim", "sessions",
          "Claim a session's earnings for its provider", response="TxRes"),
    Route("GET", "/blockchain/sessions/user", user_sessions, "get_sessions", "sessions", "Sessions of a user",
          response="SessionsRes", query=(("user", "string", False), *PAGING)),
    Route("GET", "/blockchain/sessions/user/ids", user_session_ids, "get_sessions", "sessions",
          "Session ids of a user", response="SessionIdsRes", query=(("user", "string", False), *PAGING)),
    Route("GET", "/blockchain/sessions/user/stakesOnHold", stakes_on_hold, "get_sessions", "sessions",
          "MOR withdrawable now and still on hold after early closes", response="StakesOnHoldRes",
          query=(("user", "string", False),)),
    Route("GET", "/blockchain/sessions/provider", provider_sessions, "get_sessions", "sessions",
          "Sessions of a provider", response="SessionsRes", query=(("provider", "string", True), *PAGING)),
    Route("GET", "/blockchain/sessions/budget", budget, "get_budget", "sessions", "Today's session budget",
          response="BudgetRes"),
    Route("GET", "/blockchain/token/supply", supply, "get_supply", "sessions", "MOR supply for the stake formula",
          response="SupplyRes"),
    Route("POST", "/blockchain/sessions/withdrawUserStakes", withdraw_user_stakes, "withdraw_user_stakes",
          "sessions", "Withdraw stakes released from early-close holds", response="TxRes",
          query=(("iterations", "integer", False),)),
    Route("GET", "/blockchain/sessions/{id}", get_session, "get_sessions", "sessions", "One session",
          response="SessionRes"),
    Route("POST", "/blockchain/sessions", open_session_with_approval, "open_session", "sessions",
          "Open a session with a provider's approval", body="OpenSessionReq", response="OpenSessionRes"),
    Route("POST", "/blockchain/bids/{id}/session", open_session_by_bid, "open_session", "sessions",
          "Open a session on a bid", body="OpenSessionByBidReq", response="OpenSessionRes"),
    Route("POST", "/blockchain/models/{id}/session", open_session_by_model, "open_session", "sessions",
          "Open a session on a model (best-rated bid that accepts)", body="OpenSessionByModelReq",
          response="OpenSessionRes"),
    Route("POST", "/blockchain/sessions/{id}/close", close_session, "close_session", "sessions",
          "Close a session", response="TxRes"),
)
