"""Human formatting of on-chain amounts (MOR and ETH both have 18 decimals)."""

from __future__ import annotations

from decimal import Decimal

WEI_PER_TOKEN = 10**18


def format_units(wei: int, symbol: str = "MOR", decimals: int = 18) -> str:
    """``50000000000000000`` → ``"0.05 MOR"``: exact, no float rounding, no trailing zeros."""
    value = Decimal(wei).scaleb(-decimals)
    text = format(value.normalize(), "f") if value else "0"
    return f"{text} {symbol}"


def format_mor(wei: int) -> str:
    """Format MOR wei as ``"<amount> MOR"``."""
    return format_units(wei, "MOR")


def to_wei(amount: str | int | Decimal, decimals: int = 18) -> int:
    """``"0.2"`` → ``200000000000000000`` (exact decimal arithmetic)."""
    return int(Decimal(str(amount)).scaleb(decimals))
