"""KeySigner: every signer-port operation checked by recovering or recomputing it independently."""

from __future__ import annotations

import coincurve
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

from app.errors import WalletError
from app.signer import Signer
from app.wallet.signer import KeySigner
from wallet.vectors import DEV_ADDRESS_0, DEV_ADDRESS_1, DEV_KEY_0, DEV_KEY_1

HALF_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 // 2


@pytest.fixture
def signer() -> KeySigner:
    return KeySigner.from_hex(DEV_KEY_1)


def test_implements_the_signer_port(signer: KeySigner) -> None:
    assert isinstance(signer, Signer)
    assert signer.address == DEV_ADDRESS_1
    assert repr(signer) == f"KeySigner({DEV_ADDRESS_1})"
    assert DEV_KEY_1[2:] not in repr(signer)


def test_public_key_is_uncompressed_and_hashes_to_the_address(signer: KeySigner) -> None:
    assert len(signer.public_key) == 65
    assert signer.public_key[0] == 0x04
    assert "0x" + keccak(signer.public_key[1:])[-20:].hex() == DEV_ADDRESS_1.lower()


def test_signed_transaction_recovers_to_the_signer(signer: KeySigner) -> None:
    tx = {
        "type": 2,
        "chainId": 31337,
        "nonce": 0,
        "to": DEV_ADDRESS_0,
        "value": 10**15,
        "gas": 21000,
        "maxFeePerGas": 2 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "data": b"",
    }
    raw = signer.sign_transaction(tx)
    assert Account.recover_transaction(raw) == DEV_ADDRESS_1


def test_personal_sign_is_eip191_over_keccak_with_v_27_or_28(signer: KeySigner) -> None:
    data = b"approval bytes"
    signature = signer.sign_personal_hash(data)
    assert len(signature) == 65
    assert signature[64] in (27, 28)
    assert Account.recover_message(encode_defunct(primitive=keccak(data)), signature=signature) == DEV_ADDRESS_1


@pytest.mark.parametrize("data", [b"", b"morrpc message", bytes(range(256))])
def test_raw_signature_is_low_s_with_v_0_or_1_and_recovers(signer: KeySigner, data: bytes) -> None:
    signature = signer.sign_raw_hash(data)
    assert len(signature) == 65
    assert signature[64] in (0, 1)
    assert int.from_bytes(signature[32:64], "big") <= HALF_N
    recovered = coincurve.PublicKey.from_signature_and_message(signature, keccak(data), hasher=None)
    assert recovered.format(compressed=False) == signer.public_key


def test_ecdh_gives_both_sides_the_same_secret(signer: KeySigner) -> None:
    other = KeySigner.from_hex(DEV_KEY_0)
    assert other.address == DEV_ADDRESS_0
    shared = signer.ecdh_x(other.public_key)
    assert len(shared) == 32
    assert shared == other.ecdh_x(signer.public_key)


def test_ecdh_with_a_bad_point_is_a_wallet_error(signer: KeySigner) -> None:
    with pytest.raises(WalletError, match="not a valid secp256k1 point"):
        signer.ecdh_x(b"\x04" + b"\x01" * 64)


def test_wrong_length_key_is_refused() -> None:
    with pytest.raises(WalletError, match="exactly 32 bytes"):
        KeySigner(b"\x01" * 31)
