"""On-chain session approval and closeout receipt (spec §4.9): ABI encoding, EIP-191 signing, recovery.

approval = ``abi.encode(bytes32 bidId, uint256 chainId, address user, uint128 timestampMs)`` (128 bytes)
receipt  = ``abi.encode(bytes32 sessionId, uint256 chainId, uint128 timestampMs, uint32 tpsScaled1000,
uint32 ttftMs, uint32 inputTokens, uint32 outputTokens)`` (224 bytes)

Both are signed with EIP-191 personal-sign over ``keccak256(encoded)`` (v ∈ {27,28}). Timestamps are
milliseconds, as upstream sends them ([COPY]; the contract's 600 s TTL never trips on them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import coincurve
from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from app.router.morrpc.exceptions import MorRpcProtocolError
from app.signer import Signer

__all__ = [
    "APPROVAL_LEN",
    "RECEIPT_LEN",
    "Approval",
    "CloseoutReceipt",
    "eip191_hash",
    "recover_personal_signer",
    "sign_personal",
]

APPROVAL_LEN = 128
RECEIPT_LEN = 224
_APPROVAL_TYPES = ["bytes32", "uint256", "address", "uint128"]
_RECEIPT_TYPES = ["bytes32", "uint256", "uint128", "uint32", "uint32", "uint32", "uint32"]
_U32 = (1 << 32) - 1
_U128 = (1 << 128) - 1
_U256 = (1 << 256) - 1
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _check_uint(name: str, value: int, limit: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise ValueError(f"{name} must be an integer in [0, {limit}]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """The provider's consent to open a session on one bid for one user (single-use on chain)."""

    bid_id: bytes
    chain_id: int
    user: str
    timestamp_ms: int

    def __post_init__(self) -> None:
        if not isinstance(self.bid_id, bytes) or len(self.bid_id) != 32:
            raise ValueError("bid_id must be 32 bytes")
        _check_uint("chain_id", self.chain_id, _U256)
        _check_uint("timestamp_ms", self.timestamp_ms, _U128)
        object.__setattr__(self, "user", to_checksum_address(self.user))

    def encode(self) -> bytes:
        """The 128-byte ABI encoding the contract checks."""
        return encode(_APPROVAL_TYPES, [self.bid_id, self.chain_id, self.user, self.timestamp_ms])

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """Parse and validate a peer's approval; raise MorRpcProtocolError if it is not one."""
        if len(data) != APPROVAL_LEN:
            raise MorRpcProtocolError(
                f"The provider's approval is {len(data)} bytes; an approval is {APPROVAL_LEN}.", "approval"
            )
        try:
            bid_id, chain_id, user, ts = decode(_APPROVAL_TYPES, data)
        except DecodingError as e:
            raise MorRpcProtocolError("The provider's approval is not a valid ABI encoding.", "approval") from e
        return cls(bid_id=bid_id, chain_id=chain_id, user=user, timestamp_ms=ts)


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseoutReceipt:
    """The session report signed at close: the contract reads the first 5 words."""

    session_id: bytes
    chain_id: int
    timestamp_ms: int
    tps_scaled1000: int
    ttft_ms: int
    input_tokens: int
    output_tokens: int

    def __post_init__(self) -> None:
        if not isinstance(self.session_id, bytes) or len(self.session_id) != 32:
            raise ValueError("session_id must be 32 bytes")
        _check_uint("chain_id", self.chain_id, _U256)
        _check_uint("timestamp_ms", self.timestamp_ms, _U128)
        for name in ("tps_scaled1000", "ttft_ms", "input_tokens", "output_tokens"):
            _check_uint(name, getattr(self, name), _U32)

    def encode(self) -> bytes:
        """The 224-byte ABI encoding passed to ``closeSession``."""
        return encode(
            _RECEIPT_TYPES,
            [
                self.session_id,
                self.chain_id,
                self.timestamp_ms,
                self.tps_scaled1000,
                self.ttft_ms,
                self.input_tokens,
                self.output_tokens,
            ],
        )

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """Parse and validate a peer's receipt; raise MorRpcProtocolError if it is not one."""
        if len(data) != RECEIPT_LEN:
            raise MorRpcProtocolError(
                f"The provider's closeout receipt is {len(data)} bytes; a receipt is {RECEIPT_LEN}.", "message"
            )
        try:
            sid, chain_id, ts, tps, ttft, tin, tout = decode(_RECEIPT_TYPES, data)
        except DecodingError as e:
            raise MorRpcProtocolError("The provider's closeout receipt is not a valid ABI encoding.", "message") from e
        return cls(
            session_id=sid,
            chain_id=chain_id,
            timestamp_ms=ts,
            tps_scaled1000=tps,
            ttft_ms=ttft,
            input_tokens=tin,
            output_tokens=tout,
        )


def eip191_hash(data: bytes) -> bytes:
    """``keccak("\\x19Ethereum Signed Message:\\n32" ‖ keccak(data))``: what approvals and receipts sign."""
    return keccak(b"\x19Ethereum Signed Message:\n32" + keccak(data))


def sign_personal(signer: Signer, data: bytes) -> bytes:
    """EIP-191 signature of ``keccak(data)`` (65 bytes, v ∈ {27,28}), made inside the wallet."""
    return signer.sign_personal_hash(data)


def recover_personal_signer(data: bytes, signature: bytes) -> str:
    """The checksummed address that EIP-191-signed ``keccak(data)``.

    Raises:
        MorRpcProtocolError: the signature is malformed (length, v, r/s range) or recovers nothing.
    """
    if len(signature) != 65:
        raise MorRpcProtocolError("The approval/receipt signature must be 65 bytes.", "signature")
    v = signature[64] - 27
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    # The contracts use OpenZeppelin ECDSA, which refuses high-s and v outside {27,28}.
    if v not in (0, 1) or not 0 < r < _N or not 0 < s <= _N // 2:
        raise MorRpcProtocolError("The approval/receipt signature is not a valid low-s signature.", "signature")
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([v]), eip191_hash(data), hasher=None
        )
    except (ValueError, TypeError) as e:
        raise MorRpcProtocolError("The approval/receipt signature recovers no key.", "signature") from e
    return to_checksum_address(keccak(key.format(compressed=False)[1:])[-20:])
