"""The OS keychain store speaks the Go router's names, so wallets move freely between the two programs."""

from __future__ import annotations

import json

import keyring.backend
import pytest
from keyring.backends import chainer, fail, null

from app.errors import WalletError
from app.wallet.keychain import (
    DERIVATION_PATH_KEY,
    MNEMONIC_KEY,
    PRIVATE_KEY_KEY,
    SEED_BACKUP_KEY,
    SERVICE,
    KeychainStore,
    is_secure_backend,
)
from app.wallet.secret import SecretKind, WalletSecret
from wallet.support import MemoryKeyring
from wallet.vectors import DEV_ADDRESS_0, DEV_ADDRESS_1, DEV_KEY_1, DEV_MNEMONIC


def test_private_key_is_stored_under_the_go_service_and_key(memory_keyring: MemoryKeyring) -> None:
    KeychainStore().save(WalletSecret.from_private_key(DEV_KEY_1))
    assert memory_keyring.items == {(SERVICE, PRIVATE_KEY_KEY): DEV_KEY_1}
    assert SERVICE == "morpheus-proxy-router"


def test_mnemonic_is_stored_with_its_path_under_the_go_keys(memory_keyring: MemoryKeyring) -> None:
    KeychainStore().save(WalletSecret.from_mnemonic(DEV_MNEMONIC, "1"))
    assert memory_keyring.items == {
        (SERVICE, MNEMONIC_KEY): DEV_MNEMONIC,
        (SERVICE, DERIVATION_PATH_KEY): "m/44'/60'/0'/0/1",
    }
    assert (MNEMONIC_KEY, DERIVATION_PATH_KEY) == ("mnemonic", "mnemonic-derivation-path")


def test_setting_one_form_removes_the_other(memory_keyring: MemoryKeyring) -> None:
    store = KeychainStore()
    store.save(WalletSecret.from_mnemonic(DEV_MNEMONIC, "0"))
    store.save(WalletSecret.from_private_key(DEV_KEY_1))
    assert set(memory_keyring.items) == {(SERVICE, PRIVATE_KEY_KEY)}
    store.save(WalletSecret.from_mnemonic(DEV_MNEMONIC, "0"))
    assert set(memory_keyring.items) == {(SERVICE, MNEMONIC_KEY), (SERVICE, DERIVATION_PATH_KEY)}


def test_round_trip_gives_back_the_same_wallet(memory_keyring: MemoryKeyring) -> None:
    store = KeychainStore()
    store.save(WalletSecret.from_mnemonic(DEV_MNEMONIC, "m/44'/60'/0'/0/1"))
    loaded = store.load()
    assert loaded is not None
    assert loaded.kind is SecretKind.MNEMONIC
    assert loaded.mnemonic == DEV_MNEMONIC
    assert loaded.address() == DEV_ADDRESS_1


def test_wallet_written_by_the_go_router_is_picked_up(memory_keyring: MemoryKeyring) -> None:
    # What the Go UI writes: the phrase and the index as a relative path.
    memory_keyring.set_password(SERVICE, MNEMONIC_KEY, DEV_MNEMONIC)
    memory_keyring.set_password(SERVICE, DERIVATION_PATH_KEY, "1")
    loaded = KeychainStore().load()
    assert loaded is not None
    assert loaded.address() == DEV_ADDRESS_1


def test_go_private_key_without_0x_is_read(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password(SERVICE, PRIVATE_KEY_KEY, DEV_KEY_1[2:].upper())
    loaded = KeychainStore().load()
    assert loaded is not None
    assert loaded.address() == DEV_ADDRESS_1


def test_passphrase_wallet_is_stored_as_a_key_the_go_router_can_use(memory_keyring: MemoryKeyring) -> None:
    secret = WalletSecret.from_mnemonic(DEV_MNEMONIC, "0", passphrase="extra")
    store = KeychainStore()
    store.save(secret)
    # Go derives with an empty passphrase, so it gets the derived key; the phrase is kept for "reveal".
    assert memory_keyring.items[(SERVICE, PRIVATE_KEY_KEY)] == "0x" + secret.derive_key().hex()
    assert (SERVICE, MNEMONIC_KEY) not in memory_keyring.items
    loaded = store.load()
    assert loaded is not None
    assert (loaded.kind, loaded.passphrase, loaded.address()) == (SecretKind.MNEMONIC, "extra", secret.address())
    assert json.loads(memory_keyring.items[(SERVICE, SEED_BACKUP_KEY)])["path"] == "m/44'/60'/0'/0/0"
    assert secret.address() != DEV_ADDRESS_0


def test_seed_backup_of_a_replaced_key_is_ignored(memory_keyring: MemoryKeyring) -> None:
    store = KeychainStore()
    store.save(WalletSecret.from_mnemonic(DEV_MNEMONIC, "0", passphrase="extra"))
    # The Go router's SetPrivateKey replaces the key but knows nothing of our backup.
    memory_keyring.set_password(SERVICE, PRIVATE_KEY_KEY, DEV_KEY_1)
    loaded = store.load()
    assert loaded is not None
    assert (loaded.kind, loaded.address()) == (SecretKind.PRIVATE_KEY, DEV_ADDRESS_1)


def test_both_forms_present_is_reported_not_guessed(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password(SERVICE, PRIVATE_KEY_KEY, DEV_KEY_1)
    memory_keyring.set_password(SERVICE, MNEMONIC_KEY, DEV_MNEMONIC)
    with pytest.raises(WalletError, match="both a private key and a recovery phrase"):
        KeychainStore().load()


def test_invalid_stored_key_is_reported_without_its_value(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password(SERVICE, PRIVATE_KEY_KEY, "0xnothex")
    with pytest.raises(WalletError, match="private key stored in the OS keychain is not valid") as info:
        KeychainStore().load()
    assert "nothex" not in str(info.value)


def test_delete_removes_every_wallet_key(memory_keyring: MemoryKeyring) -> None:
    store = KeychainStore()
    store.save(WalletSecret.from_mnemonic(DEV_MNEMONIC, "0", passphrase="extra"))
    memory_keyring.set_password("other-service", "keep", "me")
    store.delete()
    assert memory_keyring.items == {("other-service", "keep"): "me"}
    assert store.load() is None
    assert not store.exists()


def test_keyring_failure_becomes_a_wallet_error() -> None:
    store = KeychainStore(fail.Keyring())
    with pytest.raises(WalletError, match="OS keychain refused"):
        store.save(WalletSecret.from_private_key(DEV_KEY_1))


class PlaintextKeyring(keyring.backend.KeyringBackend):
    """Stands in for keyrings.alt.file.PlaintextKeyring (same module prefix check)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("must never be used")

    def delete_password(self, service: str, username: str) -> None:
        return None


PlaintextKeyring.__module__ = "keyrings.alt.file"


class EmptyChainer(chainer.ChainerBackend):
    """A chainer that found no backends to chain (what a headless Linux box gets)."""

    backends: list[keyring.backend.KeyringBackend] = []  # type: ignore[assignment]  # noqa: RUF012


class ChainerOfInsecure(chainer.ChainerBackend):
    """A chainer whose only members are insecure."""

    backends: list[keyring.backend.KeyringBackend] = [PlaintextKeyring(), fail.Keyring()]  # type: ignore[assignment]  # noqa: RUF012


class ChainerWithKeychain(chainer.ChainerBackend):
    """A chainer with one real keychain among insecure members."""

    backends: list[keyring.backend.KeyringBackend] = [fail.Keyring(), MemoryKeyring()]  # type: ignore[assignment]  # noqa: RUF012


@pytest.mark.parametrize(
    ("backend", "secure"),
    [
        (fail.Keyring(), False),
        (null.Keyring(), False),
        (PlaintextKeyring(), False),
        (EmptyChainer(), False),
        (ChainerOfInsecure(), False),
        (ChainerWithKeychain(), True),
        (MemoryKeyring(), True),
    ],
    ids=["fail", "null", "keyrings.alt", "empty-chainer", "insecure-chainer", "chainer-with-keychain", "memory"],
)
def test_only_real_keychains_count_as_secure(backend: keyring.backend.KeyringBackend, secure: bool) -> None:
    assert is_secure_backend(backend) is secure

