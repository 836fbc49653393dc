"""On-chain approval and closeout receipt: ABI layout, EIP-191 signatures, signer recovery.

Known answers are assembled by hand from the ABI rules: every static value is one 32-byte big-endian
word (bytes32 as is, uint left-padded with zeros, address left-padded to 32 bytes).
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak
from morrpc_keys import CONSUMER_ADDRESS, PROVIDER_ADDRESS

from app.router.morrpc.exceptions import MorRpcProtocolError
from app.router.morrpc.receipts import (
    Approval,
    CloseoutReceipt,
    eip191_hash,
    recover_personal_signer,
    sign_personal,
)
from app.wallet.signer import KeySigner

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
BID = bytes.fromhex("ab" * 32)
SID = bytes.fromhex("cd" * 32)
TS_MS = 1717171717171


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _approval() -> Approval:
    return Approval(bid_id=BID, chain_id=84532, user=CONSUMER_ADDRESS, timestamp_ms=TS_MS)


def _receipt() -> CloseoutReceipt:
    return CloseoutReceipt(
        session_id=SID,
        chain_id=8453,
        timestamp_ms=TS_MS,
        tps_scaled1000=12_500,
        ttft_ms=340,
        input_tokens=1200,
        output_tokens=800,
    )


def test_approval_encodes_as_four_abi_words() -> None:
    expected = BID + _word(84532) + bytes(12) + bytes.fromhex(CONSUMER_ADDRESS[2:]) + _word(TS_MS)
    assert _approval().encode() == expected
    assert len(expected) == 128


def test_receipt_encodes_as_seven_abi_words() -> None:
    expected = SID + _word(8453) + _word(TS_MS) + _word(12_500) + _word(340) + _word(1200) + _word(800)
    assert _receipt().encode() == expected
    assert len(expected) == 224


def test_approval_and_receipt_decode_back() -> None:
    assert Approval.decode(_approval().encode()) == _approval()
    assert CloseoutReceipt.decode(_receipt().encode()) == _receipt()


@pytest.mark.parametrize("length", [0, 127, 129, 160])
def test_approval_of_the_wrong_length_is_rejected(length: int) -> None:
    with pytest.raises(MorRpcProtocolError, match="approval is"):
        Approval.decode(bytes(length))


def test_receipt_of_the_wrong_length_is_rejected() -> None:
    with pytest.raises(MorRpcProtocolError, match="receipt is"):
        CloseoutReceipt.decode(_receipt().encode()[:-32])


def test_dirty_address_padding_is_rejected() -> None:
    encoded = bytearray(_approval().encode())
    encoded[64] = 0x01  # a high byte of the address word
    with pytest.raises(MorRpcProtocolError, match="ABI"):
        Approval.decode(bytes(encoded))


def test_receipt_value_too_large_for_uint32_is_rejected() -> None:
    encoded = bytearray(_receipt().encode())
    encoded[3 * 32 + 27] = 0x01  # tpsScaled1000 = 2**32 + 12500
    with pytest.raises(MorRpcProtocolError, match="ABI"):
        CloseoutReceipt.decode(bytes(encoded))


def test_out_of_range_fields_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="ttft_ms"):
        CloseoutReceipt(
            session_id=SID,
            chain_id=1,
            timestamp_ms=1,
            tps_scaled1000=0,
            ttft_ms=1 << 32,
            input_tokens=0,
            output_tokens=0,
        )
    with pytest.raises(ValueError, match="bid_id"):
        Approval(bid_id=b"\x01", chain_id=1, user=CONSUMER_ADDRESS, timestamp_ms=1)


def test_eip191_hash_is_the_personal_sign_digest_of_keccak() -> None:
    data = _approval().encode()
    assert eip191_hash(data) == keccak(b"\x19Ethereum Signed Message:\n32" + keccak(data))


def test_signed_approval_recovers_to_the_provider(provider: KeySigner) -> None:
    encoded = _approval().encode()
    signature = sign_personal(provider, encoded)
    assert signature[64] in (27, 28)
    assert recover_personal_signer(encoded, signature) == PROVIDER_ADDRESS
    # cross-check with eth_account's independent recovery
    assert Account.recover_message(encode_defunct(primitive=keccak(encoded)), signature=signature) == PROVIDER_ADDRESS


def test_a_changed_receipt_recovers_to_someone_else(provider: KeySigner) -> None:
    signature = sign_personal(provider, _receipt().encode())
    other = CloseoutReceipt.decode(_receipt().encode()[:-1] + b"\x01")
    assert recover_personal_signer(other.encode(), signature) != PROVIDER_ADDRESS


def test_malformed_signatures_are_rejected_like_openzeppelin(provider: KeySigner) -> None:
    encoded = _receipt().encode()
    good = sign_personal(provider, encoded)
    s = int.from_bytes(good[32:64], "big")
    high_s = good[:32] + (N - s).to_bytes(32, "big") + bytes([55 - good[64]])  # 27 ↔ 28
    for bad in (good[:64], good + b"\x00", good[:64] + bytes([good[64] - 27]), high_s):
        with pytest.raises(MorRpcProtocolError, match="signature"):
            recover_personal_signer(encoded, bad)


def test_consumer_can_self_sign_a_receipt_for_the_dispute_path(consumer: KeySigner) -> None:
    encoded = _receipt().encode()
    assert recover_personal_signer(encoded, sign_personal(consumer, encoded)) == CONSUMER_ADDRESS
