"""Prompt responses and error objects end to end: seal → wire bytes → framing → parse → open."""

from __future__ import annotations

import json

import pytest

from app.router.morrpc import envelope, prompt, rpc_errors, signing
from app.router.morrpc import messages as m
from app.router.morrpc.exceptions import EciesError, MorRpcProtocolError, MorRpcSignatureError
from app.router.morrpc.framing import MessageDecoder
from app.wallet.signer import KeySigner

CHUNK = b'{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"<b>Hi</b>"}}]}'


def _through_the_wire(response: bytes) -> envelope.RpcResponse:
    [obj] = MessageDecoder().feed(response)
    return envelope.parse_response(obj)


def test_sealed_chunk_opens_on_the_consumer_side(provider: KeySigner, consumer: KeySigner) -> None:
    sealed = prompt.seal_prompt_response(provider, consumer.public_key, CHUNK, 1717171717171)
    wire = envelope.encode_result("req1", sealed)
    received = _through_the_wire(wire)
    parsed = m.SessionPromptRes.from_obj(received.result, "result")
    assert prompt.open_prompt_response(parsed, consumer, provider.public_key) == CHUNK


def test_sealed_chunk_is_hex_without_0x_and_signed(provider: KeySigner, consumer: KeySigner) -> None:
    sealed = prompt.seal_prompt_response(provider, consumer.public_key, CHUNK, 5)
    assert isinstance(sealed.message, str)
    assert not sealed.message.startswith("0x")
    assert len(bytes.fromhex(sealed.message)) == len(CHUNK) + 113
    assert signing.verify(sealed, provider.public_key)


def test_response_from_another_key_is_rejected(provider: KeySigner, consumer: KeySigner) -> None:
    forged = prompt.seal_prompt_response(consumer, consumer.public_key, CHUNK, 5)
    with pytest.raises(MorRpcSignatureError, match="signature"):
        prompt.open_prompt_response(forged, consumer, provider.public_key)


def test_response_encrypted_to_someone_else_fails_to_open(provider: KeySigner, consumer: KeySigner) -> None:
    sealed = prompt.seal_prompt_response(provider, provider.public_key, CHUNK, 5)
    with pytest.raises(EciesError):
        prompt.open_prompt_response(sealed, consumer, provider.public_key)


def test_agent_tool_result_carries_a_sealed_hex_message(provider: KeySigner, consumer: KeySigner) -> None:
    result = signing.sign(
        m.CallAgentToolRes(message=prompt.seal_hex(consumer.public_key, b'{"ok":1}'), timestamp=2), provider
    )
    parsed = m.CallAgentToolRes.from_obj(json.loads(result.to_json()), "result")
    assert signing.verify(parsed, provider.public_key)
    assert prompt.open_hex(consumer, parsed.message) == b'{"ok":1}'
    assert prompt.open_hex(consumer, "0x" + parsed.message) == b'{"ok":1}'


def test_non_string_message_is_a_protocol_error(provider: KeySigner, consumer: KeySigner) -> None:
    odd = signing.sign(m.SessionPromptRes(message={"not": "hex"}, timestamp=1), provider)
    parsed = m.SessionPromptRes.from_obj(json.loads(odd.to_json()), "result")
    assert signing.verify(parsed, provider.public_key)  # the raw value re-encodes exactly
    with pytest.raises(MorRpcProtocolError, match="not a string"):
        prompt.open_prompt_response(parsed, consumer, provider.public_key)


@pytest.mark.parametrize(
    "text",
    [
        rpc_errors.ERR_AUTH,
        rpc_errors.ERR_CAPACITY,
        rpc_errors.ERR_SESSION_CLOSED,
        rpc_errors.ERR_SPEND_LIMIT,
        rpc_errors.ERR_NO_CAPACITY,
        rpc_errors.ERR_SESSION_EXPIRED,
    ],
)
def test_infrastructure_errors_travel_in_plaintext(text: str, provider: KeySigner, consumer: KeySigner) -> None:
    wire = envelope.encode_error("r", rpc_errors.plaintext_error(text, 99))
    assert wire == (
        b'{"id":"r","result":null,"error":{"message":"' + text.encode() + b'","code":400,'
        b'"data":{"timestamp":99,"signature":"0x00"}}}'
    )
    error = _through_the_wire(wire).error
    assert error is not None
    assert error.is_plaintext
    assert rpc_errors.open_error(error, consumer, provider.public_key) == (text, None)


@pytest.mark.parametrize("data", [{"timestamp": 1, "signature": ""}, {"timestamp": 1, "signature": None}, None])
def test_empty_or_missing_signature_counts_as_plaintext(data: object) -> None:
    error = envelope.RpcErrorObject.from_obj({"message": "Session is closed", "code": 400, "data": data})
    assert error.is_plaintext


def test_backend_error_is_encrypted_signed_and_opens(provider: KeySigner, consumer: KeySigner) -> None:
    detail = {"error": {"message": "model overloaded", "code": 503}}
    error = rpc_errors.encrypted_error(provider, consumer.public_key, detail, 7)
    assert not error.is_plaintext
    received = _through_the_wire(envelope.encode_error("r", error)).error
    assert received is not None
    text, opened = rpc_errors.open_error(received, consumer, provider.public_key)
    assert opened == detail
    assert "model overloaded" in text


def test_backend_error_signed_over_a_null_signature_is_accepted(provider: KeySigner, consumer: KeySigner) -> None:
    """Older Go providers signed the error with data.signature as a nil pointer (``null``)."""
    from app.router.morrpc import ecies

    ciphertext = ecies.encrypt(consumer.public_key, b'{"providerModelError":"boom"}').hex()
    unsigned = envelope.RpcErrorObject(message=ciphertext, timestamp=3, signature=None)
    error = unsigned.with_signature(provider.sign_raw_hash(unsigned.signing_bytes_nil()))
    assert rpc_errors.open_error(error, consumer, provider.public_key) == ("boom", "boom")


def test_backend_error_with_a_forged_signature_is_rejected(provider: KeySigner, consumer: KeySigner) -> None:
    forged = rpc_errors.encrypted_error(consumer, consumer.public_key, "fake", 7)
    with pytest.raises(MorRpcSignatureError, match="signed by someone else"):
        rpc_errors.open_error(forged, consumer, provider.public_key)
