"""BIP-39 mnemonics and BIP-32 derivation, with go-ethereum's path rules and messages a person can act on."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.errors import WalletError

if TYPE_CHECKING:
    from eth_account.hdaccount.mnemonic import Mnemonic

# eth_account (~0.6 s of imports) loads on first use, not with this module: the wizard's pages import it and must
# show at once (app.wallet.keystore.load_key_libraries warms it behind them).

WORD_COUNTS = (12, 15, 18, 21, 24)
"""Word counts BIP-39 defines; the wizard creates 12 or 24."""

CREATE_WORD_COUNTS = (12, 24)

DEFAULT_ROOT_PATH = "m/44'/60'/0'/0"
"""go-ethereum's ``DefaultRootDerivationPath``: relative paths are appended to it."""

PREVIEW_COUNT = 10

_HARDENED = 0x80000000
_MAX_UINT32 = 0xFFFFFFFF


@functools.cache
def _english() -> Mnemonic:
    from eth_account.hdaccount.mnemonic import Mnemonic
    from eth_account.types import Language

    return Mnemonic(Language.ENGLISH)


@functools.cache
def _word_index() -> dict[str, int]:
    from eth_account.hdaccount.mnemonic import get_wordlist

    return {word: i for i, word in enumerate(get_wordlist("english"))}


def normalize_mnemonic(text: str) -> str:
    """Lower-case, NFKD-normalise and collapse whitespace, so pasted phrases compare equal."""
    return " ".join(unicodedata.normalize("NFKD", text).lower().split())


def validate_mnemonic(text: str) -> str:
    """Return the normalised phrase, or raise a WalletError naming what is wrong (never echoing the phrase)."""
    words = normalize_mnemonic(text).split()
    if not words:
        raise WalletError("Enter your recovery phrase (12 or 24 words separated by spaces).")
    for position, word in enumerate(words, start=1):
        if word not in _word_index():
            # Naming one mistyped word is safe: an unknown word is not part of any valid phrase.
            raise WalletError(
                f"Unknown word: '{_shorten(word)}' (word {position}). "
                "Check its spelling against your written copy; every word is from the BIP-39 English list."
            )
    if len(words) not in WORD_COUNTS:
        raise WalletError(
            f"A recovery phrase has 12, 15, 18, 21 or 24 words; this one has {len(words)}. "
            "Check for a missing or doubled word."
        )
    phrase = " ".join(words)
    if not _english().is_mnemonic_valid(phrase):
        raise WalletError(
            "The recovery phrase's checksum does not match: one of the words is wrong or two are swapped. "
            "Compare it word by word with your written copy."
        )
    return phrase


def _shorten(word: str) -> str:
    return word if len(word) <= 24 else word[:21] + "..."


def suggest_words(prefix: str, limit: int = 8) -> list[str]:
    """BIP-39 words starting with ``prefix``, for autocompletion while the person types a phrase."""
    cleaned = normalize_mnemonic(prefix)
    if not cleaned or " " in cleaned:
        return []
    return [word for word in _word_index() if word.startswith(cleaned)][:limit]


def generate_mnemonic(word_count: int = 12) -> str:
    """A fresh English BIP-39 phrase of 12 or 24 words from the OS random source."""
    if word_count not in CREATE_WORD_COUNTS:
        raise WalletError(f"Choose 12 or 24 words for a new recovery phrase, not {word_count}.")
    return str(_english().generate(word_count))


def parse_derivation_path(text: str) -> str:
    """Parse a path like go-ethereum's ``ParseDerivationPath`` and return it in canonical ``m/…`` form.

    ``"m/…"`` is absolute; anything else is relative to ``m/44'/60'/0'/0``, so ``"0"`` is ``m/44'/60'/0'/0/0``.
    """
    components = text.split("/")
    first = components[0].strip()
    if not text.strip():
        raise WalletError("Enter an account index (such as 0) or a derivation path (such as m/44'/60'/0'/0/0).")
    if first == "":
        raise WalletError(
            f"The derivation path '{text}' is ambiguous: start absolute paths with 'm/', "
            "and relative ones without a leading '/'."
        )
    values: list[int] = []
    if first == "m":
        components = components[1:]
    else:
        values.extend(_parse_components(DEFAULT_ROOT_PATH.split("/")[1:], DEFAULT_ROOT_PATH))
    if not components:
        raise WalletError("The derivation path 'm' has no levels; the usual path is m/44'/60'/0'/0/0.")
    values.extend(_parse_components(components, text))
    return "m/" + "/".join(_format_component(v) for v in values)


def _parse_components(components: list[str], text: str) -> list[int]:
    values = []
    for raw in components:
        component = raw.strip()
        base = 0
        if component.endswith("'"):
            base = _HARDENED
            component = component[:-1].strip()
        try:
            number = int(component, 0)
        except ValueError:
            raise WalletError(
                f"The derivation path '{text}' has an invalid level '{raw.strip()}': "
                "each level is a number, optionally followed by ' for hardened."
            ) from None
        if number < 0 or number > _MAX_UINT32 - base:
            raise WalletError(f"The derivation path '{text}' has a level out of range: '{raw.strip()}'.")
        values.append(base + number)
    return values


def _format_component(value: int) -> str:
    return f"{value - _HARDENED}'" if value >= _HARDENED else str(value)


def path_for_index(index: int) -> str:
    """The standard Ethereum path of account ``index``: ``m/44'/60'/0'/0/<index>``."""
    if not 0 <= index < _HARDENED:
        raise WalletError(f"An account index is a whole number from 0 to {_HARDENED - 1}; {index} is not.")
    return f"{DEFAULT_ROOT_PATH}/{index}"


def seed_from_mnemonic(phrase: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP-39 seed (2048 rounds of PBKDF2: slow, call it off the event loop)."""
    checked = validate_mnemonic(phrase)
    from eth_account.hdaccount.mnemonic import Mnemonic

    return bytes(Mnemonic.to_seed(checked, unicodedata.normalize("NFKD", passphrase)))


def key_from_seed_at(seed: bytes, path: str) -> bytes:
    """The private key at canonical ``path`` below ``seed``."""
    from eth_account.hdaccount.deterministic import HDPath

    return bytes(HDPath(path).derive(seed))


def derive_private_key(phrase: str, passphrase: str, path: str) -> bytes:
    """The private key for ``phrase`` (+ optional BIP-39 passphrase) at ``path`` (index, relative or absolute)."""
    return key_from_seed_at(seed_from_mnemonic(phrase, passphrase), parse_derivation_path(path))


@dataclass(frozen=True)
class AddressPreview:
    """One candidate account of a mnemonic, so the person can pick the one that holds funds."""

    index: int
    path: str
    address: str


def preview_addresses(
    phrase: str, passphrase: str = "", start: int = 0, count: int = PREVIEW_COUNT
) -> list[AddressPreview]:
    """Addresses at indices ``start``…``start+count-1`` (the seed is computed once; still slow-ish)."""
    from eth_account import Account

    seed = seed_from_mnemonic(phrase, passphrase)
    previews = []
    for index in range(start, start + count):
        path = path_for_index(index)
        address = Account.from_key(key_from_seed_at(seed, path)).address
        previews.append(AddressPreview(index=index, path=path, address=str(address)))
    return previews
