"""A journaled signed transaction decodes back to the fields TxSender signed, for a fee bump after a restart."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

from app.chain.fees import Fees
from app.chain.raw_tx import decode_signed_tx
from app.errors import ChainError
from app.wallet.signer import KeySigner

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's public dev key #0
SINK = "0x000000000000000000000000000000000000dEaD"


def _signed(**fields: Any) -> bytes:
    tx: dict[str, Any] = {"nonce": 7, "value": 5, "data": b"\x12\x34", "gas": 60_000, "chainId": 31337, **fields}
    return KeySigner.from_hex(KEY).sign_transaction(tx)


def test_an_eip1559_transaction_decodes_to_its_signed_fields_and_hash() -> None:
    raw = _signed(type=2, to=SINK, maxFeePerGas=3 * 10**9, maxPriorityFeePerGas=10**9)
    tx = decode_signed_tx(raw)
    assert (tx.tx_hash, tx.nonce, tx.to, tx.value, tx.data, tx.gas) == (
        "0x" + keccak(raw).hex(), 7, SINK, 5, b"\x12\x34", 60_000)
    assert tx.fees == Fees(max_fee=3 * 10**9, tip=10**9)
    assert tx.base("0xabc") == {"from": "0xabc", "to": SINK, "value": 5, "data": b"\x12\x34", "gas": 60_000}


def test_a_legacy_contract_creation_decodes_with_no_recipient_and_a_gas_price() -> None:
    tx = decode_signed_tx(_signed(gasPrice=2 * 10**9))
    assert (tx.to, tx.fees) == (None, Fees(gas_price=2 * 10**9))
    assert "to" not in tx.base("0xabc")


@pytest.mark.parametrize("raw", [b"", b"\x02\x01\x02", b"\xc0", b"\x01" + b"\xab" * 40])
def test_bytes_that_are_not_a_type_0_or_2_transaction_raise_a_chain_error_naming_only_the_hash(raw: bytes) -> None:
    with pytest.raises(ChainError, match="cannot be decoded") as caught:
        decode_signed_tx(raw)
    assert "0x" + keccak(raw).hex() in caught.value.user_message


def test_an_undecodable_row_is_named_by_its_hash_never_by_its_bytes() -> None:
    raw = b"\x02" + b"\xab" * 60
    with pytest.raises(ChainError) as caught:
        decode_signed_tx(raw)
    assert "abababab" not in caught.value.user_message
