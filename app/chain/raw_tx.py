"""Decode a journaled signed transaction back into the fields TxSender signs, to re-sign it with higher fees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account._utils.legacy_transactions import Transaction as LegacyTransaction
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from app.chain.fees import Fees
from app.errors import ChainError


@dataclass(frozen=True)
class SignedTx:
    """The signed fields of a legacy (type 0) or EIP-1559 (type 2) transaction, without its signature."""

    tx_hash: str
    nonce: int
    to: str | None  # None for a contract creation
    value: int
    data: bytes
    gas: int
    fees: Fees

    def base(self, sender: str) -> dict[str, Any]:
        """The fields TxSender keeps across fee bumps (``from``/``to``/``value``/``data``/``gas``)."""
        base: dict[str, Any] = {"from": sender, "value": self.value, "data": self.data, "gas": self.gas}
        if self.to is not None:
            base["to"] = self.to
        return base


def decode_signed_tx(raw: bytes) -> SignedTx:
    """Decode raw signed bytes (as sent with eth_sendRawTransaction); ChainError if they are not a type 0/2 tx."""
    tx_hash = "0x" + keccak(raw).hex()
    try:
        if raw[:1] == b"\x02":
            fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            fees = Fees(max_fee=int(fields["maxFeePerGas"]), tip=int(fields["maxPriorityFeePerGas"]))
        elif raw[:1] and raw[0] >= 0xC0:  # an RLP list: a legacy transaction
            fields = LegacyTransaction.from_bytes(HexBytes(raw)).as_dict()
            fees = Fees(gas_price=int(fields["gasPrice"]))
        else:
            raise ValueError(f"unsupported transaction type byte {raw[:1].hex() or 'none'}")
        to = bytes(fields["to"])
        return SignedTx(
            tx_hash=tx_hash,
            nonce=int(fields["nonce"]),
            to=to_checksum_address(to) if to else None,
            value=int(fields["value"]),
            data=bytes(fields["data"]),
            gas=int(fields["gas"]),
            fees=fees,
        )
    except Exception as e:  # the decoders raise ValueError, TypeError and rlp's own DecodingError family
        # Only the hash is quoted: the raw bytes are long and belong in no message.
        raise ChainError(f"The journaled transaction {tx_hash} cannot be decoded ({e}); it can only be looked up "
                         "by its hash, not sent again.") from e
