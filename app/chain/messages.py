"""The provider's session approval and closeout receipt encodings (contracts-spec §7, proxy-router §4.9)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import decode, encode

from app.signer import Signer


def encode_approval(bid_id: bytes, chain_id: int, user: str, timestamp: int) -> bytes:
    """``abi.encode(bytes32 bidId, uint256 chainId, address user, uint128 timestamp)``: 128 bytes."""
    return encode(["bytes32", "uint256", "address", "uint128"], [bid_id, chain_id, user, timestamp])


def encode_receipt(
    session_id: bytes,
    chain_id: int,
    timestamp: int,
    tps_scaled1000: int,
    ttft_ms: int,
    input_tokens: int = 0,
    output_tokens: int = 0,
) -> bytes:
    """The Go router's 7-word (224-byte) receipt; the contract reads the first five words."""
    return encode(
        ["bytes32", "uint256", "uint128", "uint32", "uint32", "uint32", "uint32"],
        [session_id, chain_id, timestamp, tps_scaled1000, ttft_ms, input_tokens, output_tokens],
    )


@dataclass(frozen=True)
class Approval:
    bid_id: bytes
    chain_id: int
    user: str
    timestamp: int


def decode_approval(data: bytes) -> Approval:
    bid_id, chain_id, user, timestamp = decode(["bytes32", "uint256", "address", "uint128"], data[:128])
    return Approval(bid_id, chain_id, user, timestamp)


def sign_message(signer: Signer, encoded: bytes) -> bytes:
    """EIP-191 signature over ``keccak(encoded)`` with v ∈ {27, 28}, as the contract recovers it."""
    return signer.sign_personal_hash(encoded)
