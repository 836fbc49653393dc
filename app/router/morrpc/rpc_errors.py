"""MOR-RPC error objects (spec §4.7): plaintext infrastructure errors and encrypted, signed backend errors.

Infrastructure errors (auth failed, capacity, closed or expired session) travel in plaintext with
``"signature":"0x00"``. Backend (AI model) errors carry ``message`` = hex ECIES of
``{"providerModelError": …}`` to the consumer's key, signed by the provider over the object with
``"signature":"0x"``. Consumers treat a missing, empty or ``0x00`` signature as plaintext (PR #545).
"""

from __future__ import annotations

import json
from typing import Any

from app.router.morrpc import ecies, signing
from app.router.morrpc.envelope import RpcErrorObject
from app.router.morrpc.exceptions import EciesError, MorRpcProtocolError, MorRpcSignatureError
from app.router.morrpc.gojson import encode_value
from app.router.morrpc.structs import parse_hex
from app.signer import Signer

__all__ = [
    "ERR_AUTH",
    "ERR_CAPACITY",
    "ERR_NO_CAPACITY",
    "ERR_SESSION_CLOSED",
    "ERR_SESSION_EXPIRED",
    "ERR_SPEND_LIMIT",
    "PLAINTEXT_SIGNATURE",
    "encrypted_error",
    "open_error",
    "plaintext_error",
]

ERR_AUTH = "Failed to authenticate signature"
ERR_CAPACITY = "Provider at capacity"
ERR_SESSION_CLOSED = "Session is closed"
ERR_SPEND_LIMIT = "Over spend limit"
ERR_NO_CAPACITY = "no capacity"
ERR_SESSION_EXPIRED = "session expired"

PLAINTEXT_SIGNATURE = b"\x00"  # encodes as "0x00", the marker consumers read as "not signed"
_MAX_CIPHERTEXT_HEX = 2 * 1024 * 1024


def plaintext_error(message: str, timestamp_ms: int, code: int = 400) -> RpcErrorObject:
    """An infrastructure error as upstream sends it: ``{"code":400,"message":…,"data":{…,"signature":"0x00"}}``."""
    return RpcErrorObject(message=message, code=code, timestamp=timestamp_ms, signature=PLAINTEXT_SIGNATURE)


def encrypted_error(
    provider: Signer, consumer_public_key: bytes, model_error: Any, timestamp_ms: int, code: int = 400
) -> RpcErrorObject:
    """A backend error: ``{"providerModelError": model_error}`` encrypted to the consumer, then signed."""
    payload = encode_value({"providerModelError": model_error})
    ciphertext = ecies.encrypt(consumer_public_key, payload)
    unsigned = RpcErrorObject(message=ciphertext.hex(), code=code, timestamp=timestamp_ms, signature=b"")
    return signing.sign(unsigned, provider)


def open_error(error: RpcErrorObject, consumer: Signer, provider_public_key: bytes) -> tuple[str, Any]:
    """Return ``(text, detail)`` for a received error: the plaintext, or the decrypted backend error.

    For a signed error the signature must verify against ``provider_public_key`` (accepting Go's older
    signing over ``"signature":null`` too); ``detail`` is then the decrypted ``providerModelError`` value
    and ``text`` a readable form of it. For a plaintext error ``detail`` is None.

    Raises:
        MorRpcSignatureError: a signed error whose signature does not verify.
        MorRpcProtocolError / EciesError: a signed error whose message is not a ciphertext for us.
    """
    if error.is_plaintext:
        return error.message, None
    signature = error.signature or b""
    if not (
        signing.verify_bytes(error.signing_bytes(), signature, provider_public_key)
        or signing.verify_bytes(error.signing_bytes_nil(), signature, provider_public_key)
    ):
        raise MorRpcSignatureError(
            "The provider's error message is signed by someone else; it was ignored.", "error.data.signature"
        )
    if len(error.message) > _MAX_CIPHERTEXT_HEX:
        raise MorRpcProtocolError("The provider's error message is too large.", "error.message")
    plaintext = ecies.decrypt(consumer, parse_hex(error.message, "error.message"))
    try:
        decoded = json.loads(plaintext.decode("utf-8", "replace"))
    except ValueError as e:
        raise EciesError("The provider's encrypted error is not JSON.", "error.message") from e
    detail = decoded.get("providerModelError", decoded) if isinstance(decoded, dict) else decoded
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    return text, detail
