"""Chain records in the Go router's JSON shapes (spec §3.2): Go field names, lib.BigInt as strings, *big.Int bare."""

from __future__ import annotations

from typing import Any

from app.chain.records import Bid, Model, Provider, Session


def h(b: bytes) -> str:
    """``0x`` + lower-case hex."""
    return "0x" + b.hex()


def model_type(tags: tuple[str, ...] | list[str]) -> str:
    """``ModelType`` derived from tags as upstream's model_tags.go does."""
    lowered = {t.strip().lower() for t in tags}
    if lowered & {"embedding", "embeddings"}:
        return "EMBEDDING"
    if lowered & {"stt", "transcription", "speech-to-text"}:
        return "STT"
    if lowered & {"tts", "text-to-speech"}:
        return "TTS"
    if lowered & {"llm", "chat", "text"} or lowered:
        return "LLM"
    return "UNKNOWN"


def provider_json(p: Provider) -> dict[str, Any]:
    """Provider: Address, Endpoint, Stake (str), CreatedAt (str), IsDeleted."""
    return {
        "Address": p.address.lower(),
        "Endpoint": p.endpoint,
        "Stake": str(p.stake),
        "CreatedAt": str(p.created_at),
        "IsDeleted": p.is_deleted,
    }


def model_json(m: Model) -> dict[str, Any]:
    """Model: Fee, Stake and CreatedAt are *big.Int in Go, so bare JSON numbers (may exceed 2^53) [COPY]."""
    return {
        "Id": h(m.id),
        "IpfsCID": h(m.ipfs_cid),
        "Fee": m.fee,
        "Stake": m.stake,
        "Owner": m.owner.lower(),
        "Name": m.name,
        "Tags": list(m.tags),
        "CreatedAt": m.created_at,
        "IsDeleted": m.is_deleted,
        "ModelType": model_type(m.tags),
    }


def bid_json(b: Bid) -> dict[str, Any]:
    """Bid: Id, Provider, ModelAgentId, then lib.BigInt strings."""
    return {
        "Id": h(b.id),
        "Provider": b.provider.lower(),
        "ModelAgentId": h(b.model_id),
        "PricePerSecond": str(b.price_per_second),
        "Nonce": str(b.nonce),
        "CreatedAt": str(b.created_at),
        "DeletedAt": str(b.deleted_at),
    }


def scored_bid_json(bid: Bid, score: float) -> dict[str, Any]:
    """ScoredBid with ``ID`` filled in (upstream [AVOID] left it zero)."""
    return {"ID": h(bid.id), "Bid": bid_json(bid), "Score": score}


def session_json(s: Session, bid: Bid | None) -> dict[str, Any]:
    """Session: ids as strings, amounts and times as bare numbers; provider and price come from its bid."""
    return {
        "Id": h(s.id),
        "User": s.user.lower(),
        "Provider": bid.provider.lower() if bid else "",
        "ModelAgentId": h(bid.model_id) if bid else "",
        "BidID": h(s.bid_id),
        "Stake": s.stake,
        "PricePerSecond": bid.price_per_second if bid else 0,
        "CloseoutReceipt": h(s.closeout_receipt),
        "CloseoutType": s.closeout_type,
        "ProviderWithdrawnAmount": s.provider_withdrawn_amount,
        "OpenedAt": s.opened_at,
        "EndsAt": s.ends_at,
        "ClosedAt": s.closed_at,
    }
