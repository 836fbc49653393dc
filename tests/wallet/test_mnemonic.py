"""BIP-39 phrases and derivation: known vectors, go-ethereum path rules, and a clear word for every mistake."""

from __future__ import annotations

import pytest
from eth_account import Account

from app.errors import WalletError
from app.wallet.mnemonic import (
    derive_private_key,
    generate_mnemonic,
    parse_derivation_path,
    preview_addresses,
    suggest_words,
    validate_mnemonic,
)
from wallet.vectors import DEV_ADDRESS_0, DEV_ADDRESS_1, DEV_KEY_0, DEV_MNEMONIC


def address_of(phrase: str, path: str, passphrase: str = "") -> str:
    return str(Account.from_key(derive_private_key(phrase, passphrase, path)).address)


def test_dev_mnemonic_gives_anvil_accounts_at_index_0_and_1() -> None:
    assert address_of(DEV_MNEMONIC, "0") == DEV_ADDRESS_0
    assert address_of(DEV_MNEMONIC, "1") == DEV_ADDRESS_1
    assert "0x" + derive_private_key(DEV_MNEMONIC, "", "0").hex() == DEV_KEY_0


def test_relative_path_is_appended_to_the_go_default_root() -> None:
    assert parse_derivation_path("0") == "m/44'/60'/0'/0/0"
    assert parse_derivation_path(" 7 ") == "m/44'/60'/0'/0/7"
    assert parse_derivation_path("1/2") == "m/44'/60'/0'/0/1/2"
    assert parse_derivation_path("m/44'/60'/1'/0/3") == "m/44'/60'/1'/0/3"
    assert parse_derivation_path("m/44'/60'/0'/0/0x10") == "m/44'/60'/0'/0/16"


def test_absolute_and_relative_paths_derive_the_same_account() -> None:
    assert address_of(DEV_MNEMONIC, "m/44'/60'/0'/0/1") == address_of(DEV_MNEMONIC, "1") == DEV_ADDRESS_1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "Enter an account index"),
        ("/0", "ambiguous"),
        ("m", "has no levels"),
        ("m/44'/x", "invalid level 'x'"),
        ("m/4294967296", "out of range"),
        ("m/2147483648'", "out of range"),
        ("-1", "out of range"),
    ],
)
def test_bad_derivation_path_is_rejected_with_the_reason(path: str, message: str) -> None:
    with pytest.raises(WalletError, match=message):
        parse_derivation_path(path)


def test_24_words_with_passphrase_round_trip() -> None:
    phrase = generate_mnemonic(24)
    assert len(phrase.split()) == 24
    assert validate_mnemonic(phrase.upper().replace(" ", "   ")) == phrase
    with_pass = address_of(phrase, "0", "TREZOR extra words")
    assert with_pass == address_of(phrase, "m/44'/60'/0'/0/0", "TREZOR extra words")
    assert with_pass != address_of(phrase, "0")
    # Cross-check against eth-account's own HD wallet API.
    Account.enable_unaudited_hdwallet_features()
    account, created = Account.create_with_mnemonic(passphrase="p4ss", num_words=24)
    assert address_of(created, "0", "p4ss") == account.address
    assert Account.from_mnemonic(phrase, "TREZOR extra words", "m/44'/60'/0'/0/0").address == with_pass


def test_new_phrases_have_12_or_24_words_only() -> None:
    assert len(generate_mnemonic().split()) == 12
    assert generate_mnemonic() != generate_mnemonic()
    with pytest.raises(WalletError, match="12 or 24"):
        generate_mnemonic(18)


def test_bad_checksum_is_reported_without_echoing_the_phrase() -> None:
    swapped = "junk test test test test test test test test test test test"
    with pytest.raises(WalletError, match="checksum") as info:
        validate_mnemonic(swapped)
    assert "junk" not in str(info.value)


@pytest.mark.parametrize("count", [11, 13, 25])
def test_wrong_word_count_says_how_many_words_were_given(count: int) -> None:
    with pytest.raises(WalletError, match=f"this one has {count}"):
        validate_mnemonic(" ".join(["test"] * count))


def test_unknown_word_is_named_with_its_position() -> None:
    words = DEV_MNEMONIC.split()
    words[4] = "xyz"
    with pytest.raises(WalletError, match=r"Unknown word: 'xyz' \(word 5\)"):
        validate_mnemonic(" ".join(words))


def test_empty_phrase_asks_for_the_words() -> None:
    with pytest.raises(WalletError, match="Enter your recovery phrase"):
        validate_mnemonic("   ")


def test_preview_lists_indices_0_to_9_with_their_paths() -> None:
    previews = preview_addresses(DEV_MNEMONIC)
    assert [p.index for p in previews] == list(range(10))
    assert previews[0].address == DEV_ADDRESS_0
    assert previews[1].address == DEV_ADDRESS_1
    assert previews[9].path == "m/44'/60'/0'/0/9"
    assert len({p.address for p in previews}) == 10


def test_word_suggestions_complete_a_prefix() -> None:
    assert suggest_words("aba") == ["abandon"]
    assert suggest_words("ZO") == ["zone", "zoo"]
    assert len(suggest_words("a")) == 8
    assert suggest_words("") == suggest_words("two words") == suggest_words("qx") == []
