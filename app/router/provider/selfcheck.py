"""Provider start-up self-checks: registered on chain, endpoint reachable over MOR-RPC, a bid per served model."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from app.config.models_config import ModelsConfig
from app.errors import AppError
from app.events import EventBus
from app.router.morrpc import signing
from app.router.morrpc.envelope import encode_request, parse_response
from app.router.morrpc.framing import read_messages, write_message
from app.router.morrpc.messages import PingReq, PongRes
from app.router.ports import MarketplacePort
from app.router.provider.server import parse_host_port
from app.signer import Signer

__all__ = ["ProviderCheck", "ping_endpoint", "run_self_checks"]

log = logging.getLogger(__name__)

_PAGE = 100


@dataclass(frozen=True)
class ProviderCheck:
    """The result of one self-check (published on the event bus, shown on the provider page)."""

    name: str  # "registered" | "endpoint" | "bids"
    ok: bool
    detail: str


async def ping_endpoint(endpoint: str, signer: Signer, provider: str, *, within: float = 5.0) -> str:
    """MOR-RPC ``network.ping`` to ``host:port``; returns the pong's version when ``provider`` signed our nonce.

    Raises AppError naming what failed (unreachable, no answer, wrong signer, wrong nonce).
    """
    try:
        host, port = parse_host_port(endpoint)
    except ValueError as e:
        raise AppError(f"The registered endpoint {endpoint!r} is not host:port; register it again.") from e
    nonce = os.urandom(8)
    request = encode_request("0", "network.ping", signing.sign(PingReq(nonce=nonce), signer))
    try:
        async with asyncio.timeout(within):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                await write_message(writer, request)
                async for obj in read_messages(reader, first_byte_timeout=within, idle_timeout=within):
                    response = parse_response(obj)
                    if response.error is not None:
                        raise AppError(f"{endpoint} answered the ping with an error: {response.error.message}")
                    pong = PongRes.from_obj(response.result, "result")
                    break
                else:
                    raise AppError(f"{endpoint} closed the connection without answering the ping.")
            finally:
                writer.close()
    except TimeoutError as e:
        raise AppError(f"{endpoint} did not answer a MOR-RPC ping within {within:g} s.") from e
    except OSError as e:
        raise AppError(f"Cannot connect to {endpoint} ({e.strerror or e}); check the firewall and port.") from e
    if pong.nonce != nonce:
        raise AppError(f"{endpoint} echoed another nonce: it is not answering our ping.")
    if not signing.verify_by_address(pong, provider):
        raise AppError(f"{endpoint} is answered by another wallet than {provider}; check the registered endpoint.")
    return pong.version


async def _active_bid_models(marketplace: MarketplacePort, provider: str) -> set[bytes]:
    models: set[bytes] = set()
    offset = 0
    while True:
        page = await marketplace.provider_active_bids(provider, offset, _PAGE)
        if page.items:
            models.update(b.model_id for b in await marketplace.get_bids(list(page.items)) if b.is_active)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return models


async def _check(name: str, coro: Coroutine[Any, Any, str]) -> ProviderCheck:
    try:
        detail = await coro
    except AppError as e:
        return ProviderCheck(name, False, e.user_message)
    return ProviderCheck(name, True, str(detail))


async def run_self_checks(
    signer: Signer,
    marketplace: MarketplacePort,
    models: ModelsConfig,
    bus: EventBus | None = None,
    *,
    ping_timeout: float = 5.0,
) -> list[ProviderCheck]:
    """Run the checks upstream runs at start-up; each result is logged and published as a ProviderCheck."""
    address = signer.address

    async def registered() -> str:
        provider = await marketplace.get_provider(address)
        if not provider.is_active:
            raise AppError(f"{address} is not a registered provider; register it (with a stake) to serve sessions.")
        return f"registered with endpoint {provider.endpoint}"

    async def endpoint() -> str:
        provider = await marketplace.get_provider(address)
        if not provider.is_active:
            raise AppError("No endpoint is registered on chain to check.")
        version = await ping_endpoint(provider.endpoint, signer, address, within=ping_timeout)
        return f"{provider.endpoint} answers MOR-RPC pings ({version or 'no version'})"

    async def bids() -> str:
        served = {bytes.fromhex(e.model_id[2:]) for e in models.supported}
        if not served:
            raise AppError("No model is configured in models-config.json; add one to serve prompts.")
        missing = served - await _active_bid_models(marketplace, address)
        if missing:
            names = ", ".join("0x" + m.hex() for m in sorted(missing))
            raise AppError(f"No active bid for configured model(s) {names}; post a bid so consumers can find them.")
        return f"an active bid for each of the {len(served)} configured model(s)"

    results = [
        await _check("registered", registered()),
        await _check("endpoint", endpoint()),
        await _check("bids", bids()),
    ]
    for result in results:
        (log.info if result.ok else log.warning)("provider self-check %s: %s", result.name, result.detail)
        if bus is not None:
            bus.publish(result)
    return results
