"""Sealing and opening streamed prompt responses: encrypt to the consumer, sign, and the reverse.

Provider side, per backend item: ``seal_prompt_response`` → ``encode_result`` → write.
Consumer side, per received result: ``SessionPromptRes.from_obj`` → ``open_prompt_response``.
Agent tool results (``GetAgentToolsRes``/``CallAgentToolRes``) carry the same hex ciphertext in
``message``: build them with ``seal_hex`` and read them with ``open_hex`` after ``signing.verify``.
"""

from __future__ import annotations

from app.router.morrpc import ecies, signing
from app.router.morrpc.exceptions import MorRpcProtocolError, MorRpcSignatureError
from app.router.morrpc.messages import SessionPromptRes
from app.router.morrpc.structs import parse_hex
from app.signer import Signer

__all__ = ["open_hex", "open_prompt_response", "seal_hex", "seal_prompt_response"]


def seal_hex(consumer_public_key: bytes, payload: bytes) -> str:
    """ECIES-encrypt ``payload`` to the consumer and hex-encode it without ``0x`` (Go's hex.EncodeToString)."""
    return ecies.encrypt(consumer_public_key, payload).hex()


def open_hex(consumer: Signer, message: str, field: str = "result.message") -> bytes:
    """Decrypt a hex ciphertext (``0x`` tolerated) with the consumer's wallet."""
    return ecies.decrypt(consumer, parse_hex(message, field))


def seal_prompt_response(
    provider: Signer, consumer_public_key: bytes, payload: bytes, timestamp_ms: int
) -> SessionPromptRes:
    """One signed ``SessionPromptRes`` whose ``message`` is hex ECIES(payload) without ``0x`` (as Go sends)."""
    return signing.sign(
        SessionPromptRes(message=seal_hex(consumer_public_key, payload), timestamp=timestamp_ms), provider
    )


def open_prompt_response(response: SessionPromptRes, consumer: Signer, provider_public_key: bytes) -> bytes:
    """Verify a prompt response against the provider's key and return the decrypted payload.

    Raises:
        MorRpcSignatureError: not signed by the provider we opened the session with.
        MorRpcProtocolError / EciesError: the message is not a hex ciphertext for our key.
    """
    if not signing.verify(response, provider_public_key):
        raise MorRpcSignatureError(
            "A response did not carry the provider's valid signature; the stream was stopped.", "result.signature"
        )
    if not isinstance(response.message, str):
        raise MorRpcProtocolError("The provider's response message is not a string.", "result.message")
    return open_hex(consumer, response.message)
