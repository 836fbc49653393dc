"""Message signatures: deterministic, low-s, v ∈ {0,1}; verification as go-ethereum does it."""

from __future__ import annotations

import json

from eth_account import Account
from eth_utils.crypto import keccak
from morrpc_keys import CONSUMER_ADDRESS, CONSUMER_KEY, PROVIDER_ADDRESS

from app.router.morrpc import messages as m
from app.router.morrpc import signing
from app.router.morrpc.envelope import RpcErrorObject
from app.wallet.signer import KeySigner

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SID = bytes.fromhex("11" * 32)

# RFC 6979 signature of keccak256(b'{"sessionid":"0x11…11","message":"hello","timestamp":1717171717171}') by
# anvil key #0. Recorded once; cross-checked in test_signature_matches_an_independent_implementation
# against eth_account's signer (eth_keys), which must give the same r, s and v + 27.
KNOWN_SIGNATURE = bytes.fromhex(
    "21e59bc3621cf19c2f5fdb20b7fdf3346e7b9e37b3ba9ef8e6ba00d9e9256d69"
    "3aa611e31b97bb09cbf1fa50c4918c9a33850181da67a884522eaf9a909ba4d4"
    "01"
)


def _prompt() -> m.SessionPromptReq:
    return m.SessionPromptReq(session_id=SID, message="hello", timestamp=1717171717171)


def _high_s(signature: bytes) -> bytes:
    """The same signature with s → n − s and the recovery bit flipped (equally valid, non-canonical)."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (N - s).to_bytes(32, "big") + bytes([signature[64] ^ 1])


def test_signature_is_deterministic_and_matches_the_known_vector(consumer: KeySigner) -> None:
    assert signing.sign(_prompt(), consumer).signature == KNOWN_SIGNATURE
    assert signing.sign(_prompt(), consumer).signature == KNOWN_SIGNATURE


def test_signature_matches_an_independent_implementation() -> None:
    data = _prompt().signing_bytes()
    reference = Account.unsafe_sign_hash(keccak(data), CONSUMER_KEY)
    expected = reference.r.to_bytes(32, "big") + reference.s.to_bytes(32, "big") + bytes([reference.v - 27])
    assert expected == KNOWN_SIGNATURE


def test_signatures_are_low_s_with_v_zero_or_one(consumer: KeySigner) -> None:
    for timestamp in range(1, 40):
        sig = signing.sign(m.SessionPromptReq(session_id=SID, message="x", timestamp=timestamp), consumer).signature
        assert len(sig) == 65
        assert sig[64] in (0, 1)
        assert int.from_bytes(sig[32:64], "big") <= N // 2


def test_signed_message_verifies_against_the_signers_public_key(consumer: KeySigner, provider: KeySigner) -> None:
    signed = signing.sign(_prompt(), consumer)
    assert signing.verify(signed, consumer.public_key)
    assert not signing.verify(signed, provider.public_key)


def test_verification_accepts_a_compressed_public_key(consumer: KeySigner) -> None:
    import coincurve

    compressed = coincurve.PublicKey(consumer.public_key).format(compressed=True)
    assert signing.verify(signing.sign(_prompt(), consumer), compressed)


def test_any_change_to_the_signed_fields_breaks_the_signature(consumer: KeySigner) -> None:
    signed = signing.sign(_prompt(), consumer)
    tampered = m.SessionPromptReq(
        session_id=SID, message="hellO", timestamp=signed.timestamp, signature=signed.signature
    )
    assert not signing.verify(tampered, consumer.public_key)


def test_unsigned_or_truncated_signatures_never_verify(consumer: KeySigner) -> None:
    signed = signing.sign(_prompt(), consumer)
    assert not signing.verify(_prompt(), consumer.public_key)
    assert not signing.verify(signed.with_signature(signed.signature[:64]), consumer.public_key)
    assert not signing.verify(signed.with_signature(b"\x00" * 65), consumer.public_key)


def test_public_key_verification_ignores_v_like_go(consumer: KeySigner) -> None:
    signed = signing.sign(_prompt(), consumer)
    flipped = signed.signature[:64] + bytes([signed.signature[64] ^ 1])
    assert signing.verify(signed.with_signature(flipped), consumer.public_key)


def test_public_key_verification_rejects_high_s_like_go(consumer: KeySigner) -> None:
    signed = signing.sign(_prompt(), consumer)
    assert not signing.verify(signed.with_signature(_high_s(signed.signature)), consumer.public_key)


def test_verification_covers_gos_reencoding_of_the_parsed_struct(consumer: KeySigner) -> None:
    """A peer's extra keys, missing 0x and upper-case hex do not matter: Go re-marshals the struct."""
    signed = signing.sign(_prompt(), consumer)
    wire = json.loads(signed.to_json())
    wire["signature"] = wire["signature"][2:].upper()
    wire["sessionid"] = wire["sessionid"][2:].upper()
    wire["unknown"] = {"ignored": True}
    assert signing.verify(m.SessionPromptReq.from_obj(wire), consumer.public_key)


def test_pong_is_verified_by_ecrecover_against_the_provider_address(provider: KeySigner) -> None:
    pong = signing.sign(m.PongRes(nonce=b"\x01" * 8, version="7.0.0"), provider)
    parsed = m.PongRes.from_obj(json.loads(pong.to_json()), "result")
    assert signing.verify_by_address(parsed, PROVIDER_ADDRESS)
    assert not signing.verify_by_address(parsed, CONSUMER_ADDRESS)


def test_ecrecover_accepts_high_s_but_not_v_27(provider: KeySigner) -> None:
    pong = signing.sign(m.PongRes(nonce=b"\x01"), provider)
    data = pong.signing_bytes()
    assert signing.recover_address(data, _high_s(pong.signature)) == PROVIDER_ADDRESS
    assert signing.recover_address(data, pong.signature[:64] + bytes([pong.signature[64] + 27])) is None
    assert signing.recover_address(data, pong.signature[:64]) is None


def test_ping_signature_is_accepted_over_0x_or_omitted(consumer: KeySigner) -> None:
    go_style = signing.sign(m.PingReq(nonce=b"\x07" * 8), consumer)
    assert b'"signature":"0x"' in go_style.signing_bytes()
    assert signing.verify_ping(go_style, consumer.public_key)
    omitted = b'{"nonce":"0x' + b"07" * 8 + b'"}'
    other_style = m.PingReq(nonce=b"\x07" * 8, signature=consumer.sign_raw_hash(omitted))
    assert signing.verify_ping(other_style, consumer.public_key)
    assert not signing.verify_ping(m.PingReq(nonce=b"\x07" * 8), consumer.public_key)


def test_error_objects_are_signed_over_signature_0x(provider: KeySigner) -> None:
    err = signing.sign(RpcErrorObject(message="abcd", timestamp=5, signature=b""), provider)
    assert err.signing_bytes() == b'{"message":"abcd","code":400,"data":{"timestamp":5,"signature":"0x"}}'
    assert signing.verify(err, provider.public_key)


def test_public_key_to_address_matches_the_wallet(consumer: KeySigner) -> None:
    assert signing.public_key_to_address(consumer.public_key) == CONSUMER_ADDRESS
