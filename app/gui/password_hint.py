"""A local password-strength hint (length and character classes; nothing leaves the computer)."""

from __future__ import annotations

import string
from dataclasses import dataclass

from app.wallet.password import MIN_PASSWORD_LENGTH


@dataclass(frozen=True)
class StrengthHint:
    """A 0–4 score, a word for it, and what would make the password stronger."""

    score: int
    label: str
    advice: str


_LABELS = ("too short", "weak", "fair", "good", "strong")


def password_strength(password: str) -> StrengthHint:
    """Score by length and by how many of lower/upper/digit/symbol classes appear."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return StrengthHint(0, _LABELS[0], f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    classes = sum(
        any(c in chars for c in password)
        for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    ) + any(not c.isalnum() for c in password)
    score = 1 + (len(password) >= 12) + (len(password) >= 16) + (classes >= 3)
    score = min(score, 4)
    if score >= 4:
        advice = "A good password. Keep it somewhere safe: it cannot be recovered."
    elif len(password) < 12:
        advice = "Longer is stronger: 12 or more characters, or a few unrelated words."
    else:
        advice = "Mix upper and lower case, digits and symbols, or make it longer."
    return StrengthHint(score, _LABELS[score], advice)
