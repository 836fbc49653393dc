"""Words for receipts and amounts: one line under every answer, the same text in exports."""

from __future__ import annotations

from decimal import Decimal

from app.storage.records import Receipt

WEI = Decimal(10**18)


def short_hex(value: str, keep: int = 4) -> str:
    """``0xAbCd…1234``."""
    return f"{value[:2 + keep]}…{value[-keep:]}" if value.startswith("0x") and len(value) > 4 + 2 * keep else value


def mor(wei: int, places: int = 6) -> str:
    """A MOR amount with trailing zeros trimmed: ``0.000123 MOR``."""
    amount = (Decimal(wei) / WEI).quantize(Decimal(1).scaleb(-places))
    text = f"{amount:f}".rstrip("0").rstrip(".") if "." in f"{amount:f}" else f"{amount:f}"
    if wei and text in ("0", "-0"):
        return f"<{Decimal(1).scaleb(-places):f} MOR"
    return f"{text} MOR"


def receipt_line(receipt: Receipt) -> str:
    """``provider 0xAb…cd · session 0x12…34 · 120 → 340 tokens · TTFT 210 ms · 38.2 tok/s · 0.0012 MOR``."""
    parts: list[str] = []
    if receipt.provider:
        parts.append(f"provider {short_hex(receipt.provider)}")
    if receipt.session_id:
        parts.append(f"session {short_hex(receipt.session_id)}")
    parts.append(f"{receipt.input_tokens or 0} → {receipt.output_tokens or 0} tokens")
    if receipt.ttft_ms is not None:
        parts.append(f"TTFT {receipt.ttft_ms:,.0f} ms")
    if receipt.tps is not None:
        parts.append(f"{receipt.tps:.1f} tok/s")
    local = receipt.session_id is None and not receipt.cost_wei
    parts.append("no cost (local)" if local else mor(receipt.cost_wei or 0))
    return " · ".join(parts)
