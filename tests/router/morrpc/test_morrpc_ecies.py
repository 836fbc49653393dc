"""go-ethereum ECIES (ECIES_AES128_SHA256, s1 = s2 = empty): known answers, real vectors, rejections."""

from __future__ import annotations

import hashlib
import hmac

import coincurve
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from app.router.morrpc import ecies
from app.router.morrpc.exceptions import EciesError
from app.wallet.signer import KeySigner

RECIPIENT_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
EPHEMERAL_SECRET = bytes.fromhex("7e5bd1f0a1f9c7f0b43f49f1b8f7e3e4c2f8f0a2d9e6c1b4a7d3e2f1c0b9a8d7")
IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
PLAINTEXT = b'{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"delta":{"content":"Hi"}}]}'


def _spec_ciphertext(recipient_public: bytes, message: bytes) -> bytes:
    """Build a ciphertext step by step from spec §4.5, without using app.router.morrpc.ecies.

    1. R = ephemeral public key (65 bytes, 0x04 ‖ X ‖ Y); z = X coordinate of ephemeral_secret × P.
    2. K = SHA256(00000001 ‖ z) (one block of the concat KDF gives the 32 bytes needed).
    3. Ke = K[0:16]; Km = SHA256(K[16:32]).
    4. c = AES-128-CTR(Ke, counter block = IV)(message).
    5. tag = HMAC-SHA256(Km, IV ‖ c); ciphertext = R ‖ IV ‖ c ‖ tag.
    """
    ephemeral = coincurve.PrivateKey(EPHEMERAL_SECRET)
    shared_point = coincurve.PublicKey(recipient_public).multiply(EPHEMERAL_SECRET)
    z = shared_point.format(compressed=False)[1:33]
    k = hashlib.sha256(b"\x00\x00\x00\x01" + z).digest()
    ke, km = k[:16], hashlib.sha256(k[16:32]).digest()
    encryptor = Cipher(algorithms.AES(ke), modes.CTR(IV)).encryptor()
    body = encryptor.update(message) + encryptor.finalize()
    tag = hmac.new(km, IV + body, hashlib.sha256).digest()
    return ephemeral.public_key.format(compressed=False) + IV + body + tag


@pytest.fixture
def recipient() -> KeySigner:
    return KeySigner.from_hex(RECIPIENT_KEY)


def test_decrypts_a_ciphertext_built_step_by_step_from_the_spec(recipient: KeySigner) -> None:
    ciphertext = _spec_ciphertext(recipient.public_key, PLAINTEXT)
    assert len(ciphertext) == len(PLAINTEXT) + 113
    assert ecies.decrypt(recipient, ciphertext) == PLAINTEXT


def test_encryption_with_fixed_randomness_matches_the_step_by_step_build(recipient: KeySigner) -> None:
    assert ecies._encrypt_with(recipient.public_key, PLAINTEXT, EPHEMERAL_SECRET, IV) == _spec_ciphertext(
        recipient.public_key, PLAINTEXT
    )


def test_concat_kdf_counts_blocks_from_one() -> None:
    z = bytes(range(32))
    expected = hashlib.sha256(b"\x00\x00\x00\x01" + z).digest() + hashlib.sha256(b"\x00\x00\x00\x02" + z).digest()
    assert ecies.concat_kdf(z, 48) == expected[:48]


# EIP-8 (ethereum/EIPs EIPS/eip-8.md, "RLPx Handshake" test vectors): real go-ethereum ciphertexts in the
# pre-EIP-8 format, i.e. ECIES with s1 = s2 = empty. Ack₁ is sent by B to A, so A's static key opens it;
# its plaintext is B's ephemeral public key (64 bytes) ‖ B's nonce (32) ‖ 0x00.
STATIC_KEY_A = "49a7b37aa6f6645917e7b807e9d1c00d4fa71f18343b0d4122a4d2df64dd6fee"
STATIC_KEY_B = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"
EPHEMERAL_KEY_A = "869d6ecf5211f1cc60418a13b9d870b22959d0c16f02bec714c960dd2298a32d"
EPHEMERAL_KEY_B = "e238eb8e04fee6511ab04c6dd3c89ce097b11f25d584863ac2b6d5b35b1847e4"
NONCE_A = "7e968bba13b6c50e2c4cd7f241cc0d64d1ac25c7f5952df231ac6a2bda8ee5d6"
NONCE_B = "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd"
ACK1 = bytes.fromhex(
    "049f8abcfa9c0dc65b982e98af921bc0ba6e4243169348a236abe9df5f93aa69d99cadddaa387662"
    "b0ff2c08e9006d5a11a278b1b3331e5aaabf0a32f01281b6f4ede0e09a2d5f585b26513cb794d963"
    "5a57563921c04a9090b4f14ee42be1a5461049af4ea7a7f49bf4c97a352d39c8d02ee4acc416388c"
    "1c66cec761d2bc1c72da6ba143477f049c9d2dde846c252c111b904f630ac98e51609b3b1f58168d"
    "dca6505b7196532e5f85b259a20c45e1979491683fee108e9660edbf38f3add489ae73e3dda2c71b"
    "d1497113d5c755e942d1"
)
AUTH1 = bytes.fromhex(
    "048ca79ad18e4b0659fab4853fe5bc58eb83992980f4c9cc147d2aa31532efd29a3d3dc6a3d89eaf"
    "913150cfc777ce0ce4af2758bf4810235f6e6ceccfee1acc6b22c005e9e3a49d6448610a58e98744"
    "ba3ac0399e82692d67c1f58849050b3024e21a52c9d3b01d871ff5f210817912773e610443a9ef14"
    "2e91cdba0bd77b5fdf0769b05671fc35f83d83e4d3b0b000c6b2a1b1bba89e0fc51bf4e460df3105"
    "c444f14be226458940d6061c296350937ffd5e3acaceeaaefd3c6f74be8e23e0f45163cc7ebd7622"
    "0f0128410fd05250273156d548a414444ae2f7dea4dfca2d43c057adb701a715bf59f6fb66b2d1d2"
    "0f2c703f851cbf5ac47396d9ca65b6260bd141ac4d53e2de585a73d1750780db4c9ee4cd4d225173"
    "a4592ee77e2bd94d0be3691f3b406f9bba9b591fc63facc016bfa8"
)


def test_opens_the_go_ethereum_eip8_ack1_vector() -> None:
    plaintext = ecies.decrypt(KeySigner.from_hex(STATIC_KEY_A), ACK1)
    ephemeral_b = KeySigner.from_hex(EPHEMERAL_KEY_B).public_key[1:]
    assert plaintext == ephemeral_b + bytes.fromhex(NONCE_B) + b"\x00"


def test_opens_the_go_ethereum_eip8_auth1_vector() -> None:
    """Auth₁ plaintext: signature (65) ‖ keccak(ephemeral pubkey A) (32) ‖ static pubkey A (64) ‖ nonce A ‖ 0x00."""
    from eth_utils.crypto import keccak

    plaintext = ecies.decrypt(KeySigner.from_hex(STATIC_KEY_B), AUTH1)
    assert len(plaintext) == 194
    assert plaintext[65:97] == keccak(KeySigner.from_hex(EPHEMERAL_KEY_A).public_key[1:])
    assert plaintext[97:161] == KeySigner.from_hex(STATIC_KEY_A).public_key[1:]
    assert plaintext[161:193] == bytes.fromhex(NONCE_A)


def test_eip8_vector_does_not_open_with_another_key() -> None:
    with pytest.raises(EciesError, match="integrity"):
        ecies.decrypt(KeySigner.from_hex(STATIC_KEY_B), ACK1)


@pytest.mark.parametrize("size", [1, 15, 16, 17, 200, 5000])
def test_encrypt_then_decrypt_round_trips(recipient: KeySigner, size: int) -> None:
    message = bytes(i % 251 for i in range(size))
    ciphertext = ecies.encrypt(recipient.public_key, message)
    assert len(ciphertext) == size + ecies.OVERHEAD
    assert ecies.decrypt(recipient, ciphertext) == message


def test_encryption_is_randomised(recipient: KeySigner) -> None:
    assert ecies.encrypt(recipient.public_key, b"same") != ecies.encrypt(recipient.public_key, b"same")


def test_decrypt_accepts_a_plain_ecdh_callable(recipient: KeySigner) -> None:
    ciphertext = ecies.encrypt(recipient.public_key, b"payload")
    assert ecies.decrypt(recipient.ecdh_x, ciphertext) == b"payload"


def test_encrypting_to_a_compressed_public_key_works(recipient: KeySigner) -> None:
    compressed = coincurve.PublicKey(recipient.public_key).format(compressed=True)
    assert ecies.decrypt(recipient, ecies.encrypt(compressed, b"x")) == b"x"


def test_empty_message_is_refused_like_go() -> None:
    with pytest.raises(EciesError, match="empty"):
        ecies.encrypt(KeySigner.from_hex(RECIPIENT_KEY).public_key, b"")


def test_invalid_recipient_key_is_refused() -> None:
    with pytest.raises(EciesError, match="public key"):
        ecies.encrypt(b"\x04" + b"\x00" * 64, b"x")


@pytest.mark.parametrize(("offset", "label"), [(-1, "tag"), (90, "ciphertext"), (70, "iv")])
def test_any_flipped_bit_after_the_key_is_rejected(recipient: KeySigner, offset: int, label: str) -> None:
    ciphertext = bytearray(_spec_ciphertext(recipient.public_key, PLAINTEXT))
    ciphertext[offset] ^= 0x01
    with pytest.raises(EciesError, match="integrity"):
        ecies.decrypt(recipient, bytes(ciphertext))


def test_short_ciphertext_is_rejected(recipient: KeySigner) -> None:
    ciphertext = _spec_ciphertext(recipient.public_key, PLAINTEXT)
    with pytest.raises(EciesError, match="too short"):
        ecies.decrypt(recipient, ciphertext[:112])


def test_compressed_ephemeral_key_is_rejected_like_go(recipient: KeySigner) -> None:
    ciphertext = _spec_ciphertext(recipient.public_key, PLAINTEXT)
    compressed = coincurve.PublicKey(ciphertext[:65]).format(compressed=True)
    with pytest.raises(EciesError, match="compressed"):
        ecies.decrypt(recipient, compressed + ciphertext[65:] + b"\x00" * 32)


@pytest.mark.parametrize("first", [0x00, 0x01, 0x05, 0xFF])
def test_unknown_key_prefix_is_rejected(recipient: KeySigner, first: int) -> None:
    ciphertext = _spec_ciphertext(recipient.public_key, PLAINTEXT)
    with pytest.raises(EciesError, match="ephemeral"):
        ecies.decrypt(recipient, bytes([first]) + ciphertext[1:])


def test_ephemeral_point_off_the_curve_is_rejected(recipient: KeySigner) -> None:
    ciphertext = _spec_ciphertext(recipient.public_key, PLAINTEXT)
    with pytest.raises(EciesError, match="invalid ephemeral"):
        ecies.decrypt(recipient, b"\x04" + b"\x01" * 64 + ciphertext[65:])


@given(st.binary(max_size=300))
def test_decrypting_arbitrary_bytes_only_raises_ecies_error(data: bytes) -> None:
    recipient = KeySigner.from_hex(RECIPIENT_KEY)
    try:
        ecies.decrypt(recipient, data)
    except EciesError:
        return
    pytest.fail("random bytes decrypted")  # pragma: no cover - a forged ciphertext passing the MAC
