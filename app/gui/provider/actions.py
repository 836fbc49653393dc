"""Provider transactions as plans a person confirms: validation of what was typed, MOR approval first when needed."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

from PySide6.QtWidgets import QWidget

from app.bootstrap.services import Services
from app.chain import diamond_abi as abi
from app.chain.receipts import TxReceipt
from app.errors import ChainError
from app.gui.chat.receipt_text import mor
from app.gui.inputs import InputError
from app.gui.provider.status import Limits
from app.gui.tx_flow import StageProgress, TxPlan, run_transaction

_HOST_PORT = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")
_HEX32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def parse_endpoint(text: str) -> str:
    """``host:port`` as registered on chain (consumers dial it); InputError otherwise."""
    cleaned = text.strip()
    match = _HOST_PORT.match(cleaned)
    if not match or not 0 < int(match.group("port")) < 65536:
        raise InputError("Enter the public address consumers dial, as host:port (e.g. node.example.com:3333).")
    return cleaned


def parse_model_id(text: str, *, allow_random: bool = False) -> bytes:
    """A bytes32 id typed as 64 hex digits; empty gives a fresh random id when ``allow_random``."""
    cleaned = text.strip()
    if not cleaned and allow_random:
        return secrets.token_bytes(32)
    if not _HEX32.match(cleaned):
        raise InputError("A model id is 0x followed by 64 hex digits" + (" (or leave it empty for a new one)."
                                                                       if allow_random else "."))
    return bytes.fromhex(cleaned.removeprefix("0x"))


def parse_tags(text: str) -> list[str]:
    """Comma-separated tags, trimmed, empty ones dropped."""
    return [t.strip() for t in text.split(",") if t.strip()]


def check_price(wei: int, limits: Limits) -> int:
    """The price per second, if inside the contract's live bounds."""
    if not limits.price_min <= wei <= limits.price_max:
        raise InputError(f"The price must be between {mor(limits.price_min, 18)} and {mor(limits.price_max, 18)} "
                         "per second (the contract's current bounds).")
    return wei


def _ready(services: Services) -> tuple[str, str]:
    if services.sender is None or services.network is None or services.diamond is None or services.token is None:
        raise ChainError("Unlock the wallet to send transactions.")
    return services.sender.address, services.network.diamond


async def transact(
    parent: QWidget | None,
    services: Services,
    progress: StageProgress,
    plan: TxPlan,
    send: Callable[[], Awaitable[TxReceipt]],
    *,
    needs_mor: int = 0,
) -> TxReceipt | None:
    """Approve ``needs_mor`` MOR for the Diamond first if the allowance is short (its own confirmation), then run
    ``plan``. None when the person declined either step."""
    me, diamond = _ready(services)
    assert services.token is not None
    assert services.network is not None
    token = services.token
    if needs_mor and await token.allowance(me, diamond) < needs_mor:
        approve = TxPlan(
            "Approve MOR", f"Allows the marketplace contract to take {mor(needs_mor)} for: {plan.title.lower()}. "
            "This is step 1 of 2.", (("Amount", mor(needs_mor)),), services.network.mor,
            abi.APPROVE.encode(diamond, needs_mor), stage="approving MOR…",
        )
        if await run_transaction(parent, services, approve, lambda: token.approve(diamond, needs_mor),
                                 progress) is None:
            return None
    return await run_transaction(parent, services, plan, send, progress)


def register_provider_plan(services: Services, stake: int, endpoint: str, limits: Limits) -> TxPlan:
    """Register (or top up) this wallet as a provider."""
    me, diamond = _ready(services)
    if stake < limits.provider_min_stake:
        raise InputError(f"The provider stake must be at least {mor(limits.provider_min_stake)} (live minimum).")
    return TxPlan(
        "Register as a provider", f"Stakes {mor(stake)} and publishes {endpoint} as your MOR-RPC endpoint. "
        "Within each 365-day period you can earn at most your stake.", (("Stake", mor(stake)), ("Endpoint", endpoint)),
        diamond, abi.PROVIDER_REGISTER.encode(me, stake, endpoint), stage="registering…")


def register_model_plan(services: Services, base_id: bytes, name: str, tags: list[str], stake: int,
                        limits: Limits) -> TxPlan:
    """Register a model this wallet owns."""
    me, diamond = _ready(services)
    if not name.strip():
        raise InputError("Give the model a name consumers will recognise (e.g. llama-3-8b-instruct).")
    if stake < limits.model_min_stake:
        raise InputError(f"The model stake must be at least {mor(limits.model_min_stake)} (live minimum).")
    return TxPlan(
        "Register a model", f"Registers {name} with tags {', '.join(tags) or '(none)'} and stakes {mor(stake)}.",
        (("Stake", mor(stake)), ("Base model id", "0x" + base_id.hex())), diamond,
        abi.MODEL_REGISTER.encode(me, base_id, b"\0" * 32, 0, stake, name, tags), stage="registering the model…")


def post_bid_plan(services: Services, model_id: bytes, model_name: str, price: int, limits: Limits) -> TxPlan:
    """Post a bid (replaces our previous bid for the model); the fee is charged."""
    me, diamond = _ready(services)
    check_price(price, limits)
    return TxPlan(
        "Post a bid", f"Offers {model_name} at {mor(price, 12)} per second ({mor(price * 3600, 4)} per hour). "
        f"Posting costs a fee of {mor(limits.bid_fee)} (not refunded when the bid is deleted).",
        (("Price per second", mor(price, 12)), ("Bid fee", mor(limits.bid_fee))), diamond,
        abi.POST_MODEL_BID.encode(me, model_id, price), stage="posting the bid…")


def delete_bid_plan(services: Services, bid_id: bytes) -> TxPlan:
    """Delete one of our bids (the fee is not refunded)."""
    _me, diamond = _ready(services)
    return TxPlan("Delete a bid", "Consumers stop seeing this bid; open sessions continue until they end.",
                  (("Bid", "0x" + bid_id.hex()),), diamond, abi.DELETE_MODEL_BID.encode(bid_id),
                  stage="deleting the bid…")


def deregister_plan(services: Services, refund: int) -> TxPlan:
    """Deregister the provider (delete every bid first)."""
    me, diamond = _ready(services)
    return TxPlan("Deregister the provider", "Stops being a provider. The stake comes back minus what was earned in "
                  "the current 365-day period.", (("Refund (estimated)", mor(refund)),), diamond,
                  abi.PROVIDER_DEREGISTER.encode(me), stage="deregistering…")


def claim_plan(services: Services, session_ids: tuple[bytes, ...], amount: int) -> TxPlan:
    """Claim what the sessions earned: one transaction per session, confirmed once (estimated on the first)."""
    _me, diamond = _ready(services)
    if not session_ids:
        raise InputError("Nothing to claim yet: sessions pay out once they end (today's closes after 00:00 UTC).")
    return TxPlan("Claim earnings", f"Pays out {mor(amount)} earned by {len(session_ids)} session(s), one "
                  "transaction each.", (("Amount", mor(amount)), ("Transactions", str(len(session_ids)))), diamond,
                  abi.CLAIM_FOR_PROVIDER.encode(session_ids[0]), stage="claiming…")
