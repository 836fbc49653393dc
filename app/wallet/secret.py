"""The key material of one wallet (a raw key or a mnemonic + path) in a box that never prints its contents."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.wallet.mnemonic import derive_private_key, parse_derivation_path, validate_mnemonic
from app.wallet.signer import KeySigner, parse_private_key


class SecretKind(StrEnum):
    """Which of the Go router's two wallet forms this is."""

    PRIVATE_KEY = "private-key"
    MNEMONIC = "mnemonic"


@dataclass(frozen=True, repr=False, eq=False)
class WalletSecret:
    """Either ``private_key`` or ``mnemonic`` (+ BIP-39 ``passphrase`` and canonical ``path``).

    Build it with :meth:`from_private_key` / :meth:`from_mnemonic`, which validate. ``repr`` and ``str`` show
    only the kind, never the material.
    """

    kind: SecretKind
    private_key: bytes | None = None
    mnemonic: str | None = None
    passphrase: str = ""
    path: str = ""

    @classmethod
    def from_private_key(cls, key: bytes | str) -> WalletSecret:
        """A raw-key wallet; ``key`` is 32 bytes or hex text (with or without ``0x``)."""
        # Bytes go through the same range check as text, so both forms fail alike.
        raw = parse_private_key(key if isinstance(key, str) else key.hex())
        return cls(kind=SecretKind.PRIVATE_KEY, private_key=raw)

    @classmethod
    def from_mnemonic(cls, phrase: str, path: str = "0", passphrase: str = "") -> WalletSecret:
        """A mnemonic wallet at ``path`` (index, Go-relative or absolute ``m/…``)."""
        return cls(
            kind=SecretKind.MNEMONIC,
            mnemonic=validate_mnemonic(phrase),
            passphrase=passphrase,
            path=parse_derivation_path(path),
        )

    def __repr__(self) -> str:
        return f"WalletSecret(kind={self.kind.value})"

    __str__ = __repr__

    def derive_key(self) -> bytes:
        """The 32-byte private key (PBKDF2 seed derivation for mnemonics: call off the event loop)."""
        if self.kind is SecretKind.PRIVATE_KEY:
            assert self.private_key is not None
            return self.private_key
        assert self.mnemonic is not None
        return derive_private_key(self.mnemonic, self.passphrase, self.path)

    def signer(self) -> KeySigner:
        """A signer for this wallet's key (slow for mnemonics: call off the event loop)."""
        return KeySigner(self.derive_key())

    def address(self) -> str:
        """The checksummed address (slow for mnemonics: call off the event loop)."""
        from eth_account import Account  # on first use: ~0.6 s of imports the entry screens do not need

        return str(Account.from_key(self.derive_key()).address)
