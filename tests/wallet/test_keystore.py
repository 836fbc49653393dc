"""Keystore V3 and the sealed envelope: round trips, wrong passwords and damaged files, each in words."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from app.errors import WalletError
from app.wallet.keystore import (
    ScryptParams,
    decrypt_keystore,
    encrypt_keystore,
    seal,
    unseal,
)
from app.wallet.signer import parse_private_key
from wallet.vectors import DEV_ADDRESS_1, DEV_KEY_1, FAST_SCRYPT

KEY = parse_private_key(DEV_KEY_1)


def test_keystore_v3_round_trip_is_readable_by_eth_account() -> None:
    keystore = encrypt_keystore(KEY, "keystore-pass", FAST_SCRYPT)
    assert keystore["version"] == 3
    assert keystore["crypto"]["kdf"] == "scrypt"
    assert bytes(Account.decrypt(keystore, "keystore-pass")) == KEY
    assert decrypt_keystore(json.dumps(keystore), "keystore-pass") == KEY


def test_default_scrypt_cost_is_geths_standard() -> None:
    assert (ScryptParams().n, ScryptParams().r, ScryptParams().p) == (2**18, 8, 1)


def test_keystores_from_other_wallets_are_imported_pbkdf2_too() -> None:
    keystore = Account.encrypt(KEY, "pw-from-elsewhere", kdf="pbkdf2", iterations=1000)
    assert decrypt_keystore(json.dumps(keystore), "pw-from-elsewhere") == KEY
    assert Account.from_key(decrypt_keystore(json.dumps(keystore), "pw-from-elsewhere")).address == DEV_ADDRESS_1


def test_wrong_keystore_password_says_so() -> None:
    keystore = json.dumps(encrypt_keystore(KEY, "keystore-pass", FAST_SCRYPT))
    with pytest.raises(WalletError, match="Wrong password for this keystore file"):
        decrypt_keystore(keystore, "not-the-pass")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"version": 1}', "not a keystore V3 file"),
        ('{"version": 3, "crypto": {"kdf": "scrypt"}}', "'crypto' section is incomplete"),
        ("\xff\xfe", "not valid JSON"),
    ],
)
def test_corrupt_keystore_file_is_named_as_corrupt(content: str, message: str) -> None:
    with pytest.raises(WalletError, match=message):
        decrypt_keystore(content, "whatever")


def test_keystore_with_absurd_scrypt_cost_is_refused_before_deriving() -> None:
    keystore = encrypt_keystore(KEY, "keystore-pass", FAST_SCRYPT)
    keystore["crypto"]["kdfparams"]["n"] = 2**30
    with pytest.raises(WalletError, match="out-of-range scrypt cost"):
        decrypt_keystore(json.dumps(keystore), "keystore-pass")


def test_keystore_with_mangled_hex_is_corrupt_not_wrong_password() -> None:
    keystore = encrypt_keystore(KEY, "keystore-pass", FAST_SCRYPT)
    keystore["crypto"]["cipherparams"]["iv"] = "zz"
    with pytest.raises(WalletError, match="corrupt"):
        decrypt_keystore(json.dumps(keystore), "keystore-pass")


def test_sealed_envelope_round_trip_and_wrong_password() -> None:
    envelope = seal(b"phrase and path", "app-password", FAST_SCRYPT)
    assert envelope["kind"] == "morpheus-sealed-secret"
    assert envelope["crypto"]["cipher"] == "aes-128-ctr"
    assert b"phrase" not in json.dumps(envelope).encode()
    assert unseal(envelope, "app-password") == b"phrase and path"
    with pytest.raises(WalletError, match="Wrong password"):
        unseal(envelope, "other-password")


def test_tampered_envelope_fails_its_mac() -> None:
    envelope = seal(b"phrase and path", "app-password", FAST_SCRYPT)
    ciphertext = bytearray(bytes.fromhex(envelope["crypto"]["ciphertext"]))
    ciphertext[0] ^= 1
    envelope["crypto"]["ciphertext"] = ciphertext.hex()
    with pytest.raises(WalletError, match="Wrong password"):
        unseal(envelope, "app-password")


def test_envelope_of_another_format_is_corrupt() -> None:
    with pytest.raises(WalletError, match="corrupt"):
        unseal({"version": 3, "crypto": {}}, "app-password")
