"""Parsing what people type into amount and address fields, with messages that say how to fix it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from eth_utils.address import is_address, is_checksum_address, to_checksum_address

from app.errors import AppError

DECIMALS = 18


class InputError(AppError):
    """A field's content is not usable; the message is shown next to that field."""


def parse_amount(text: str, symbol: str, *, maximum: int | None = None, allow_zero: bool = False) -> int:
    """``"1.5"`` → wei. Refuses empty, non-numbers, negatives, more than 18 decimals, and more than ``maximum``."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        raise InputError(f"Enter an amount of {symbol}.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InputError(f"'{text.strip()}' is not a number; type an amount such as 1.5.") from None
    if not value.is_finite() or value < 0:
        raise InputError(f"The amount of {symbol} must be a positive number.")
    if value != 0 and -value.as_tuple().exponent > DECIMALS:  # type: ignore[operator]
        raise InputError(f"{symbol} has at most {DECIMALS} decimals.")
    wei = int(value.scaleb(DECIMALS))
    if wei == 0 and not allow_zero:
        raise InputError(f"The amount of {symbol} must be more than 0.")
    if maximum is not None and wei > maximum:
        available = Decimal(maximum).scaleb(-DECIMALS).normalize()
        raise InputError(f"That is more than the {available:f} {symbol} available.")
    return wei


def parse_address(text: str) -> str:
    """A checksummed address, or an InputError (wrong length, not hex, or a mistyped checksum)."""
    cleaned = text.strip()
    if not cleaned:
        raise InputError("Enter the recipient's address (0x followed by 40 hex digits).")
    if not is_address(cleaned.lower() if cleaned.startswith("0x") else cleaned):
        raise InputError("That is not an address: it must be 0x followed by 40 hex digits.")
    if cleaned != cleaned.lower() and cleaned[2:] != cleaned[2:].upper() and not is_checksum_address(cleaned):
        raise InputError("The address's capital letters do not match its checksum: a character is probably wrong.")
    return to_checksum_address(cleaned)
