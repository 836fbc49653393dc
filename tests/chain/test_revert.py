"""Revert decoding: every Diamond custom error, OZ Error(string) and Solidity panics become words."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from app.chain.errors import ContractRevertError
from app.chain.revert import CUSTOM_ERRORS, PANIC_CODES, decode_revert, revert_data_from

USER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PROVIDER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"

# contracts-spec §5.2: every raised error with its selector.
SPEC_SELECTORS = {
    "ProviderStakeTooLow(uint256,uint256)": "bcc35dcc",
    "ProviderHasActiveBids()": "f6c1fedc",
    "ProviderNotFound()": "b1cd0903",
    "ProviderHasAlreadyDeregistered()": "15b52eb4",
    "ModelStakeTooLow(uint256,uint256)": "2f7895f5",
    "ModelHasAlreadyDeregistered()": "b0835d39",
    "ModelHasActiveBids()": "633910a0",
    "MarketplaceProviderNotFound()": "8d0285d4",
    "MarketplaceModelNotFound()": "0e68881c",
    "MarketplaceActiveBidNotFound()": "33ac0973",
    "MarketplaceBidMinPricePerSecondIsZero()": "6261483d",
    "MarketplaceBidMinPricePerSecondIsInvalid()": "5dcc0631",
    "MarketplaceBidPricePerSecondInvalid()": "9c7f2f48",
    "MarketplaceFeeAmountIsZero()": "864d4cb3",
    "SessionProviderSignatureMismatch()": "453ede6a",
    "SessionApproveExpired()": "4db74c88",
    "SessionApprovedForAnotherChainId()": "adf95488",
    "SessionDuplicateApproval()": "684df34c",
    "SessionReceiptForAnotherChainId()": "4069702a",
    "SessionReceiptExpired()": "b55af04a",
    "SessionTooShort()": "f4d7eed5",
    "SessionAlreadyClosed()": "e9fb372e",
    "SessionBidNotFound()": "1de03f33",
    "SessionPoolIndexOutOfBounds()": "4bb51606",
    "SessionUserAmountToWithdrawIsZero()": "c41b8c4d",
    "SessionMaxDurationTooShort()": "f0f669df",
    "SessionStakeTooLow()": "63e209ea",
    "InsufficientRightsForOperation(address,address)": "2e980d14",
    "OwnableUnauthorizedAccount(address)": "118cdaa7",
}

SAMPLE_ARGS = {
    ("uint256", "uint256"): [5 * 10**16, 2 * 10**17],
    ("address", "address"): [USER, PROVIDER],
    ("address",): [USER],
    (): [],
}


def test_spec_selectors_match_the_builtin_error_table() -> None:
    for signature, selector in SPEC_SELECTORS.items():
        name = signature.split("(")[0]
        types, _ = CUSTOM_ERRORS[name]
        assert f"{name}({','.join(types)})" == signature
        assert keccak(text=signature)[:4].hex() == selector


@pytest.mark.parametrize("name", sorted(CUSTOM_ERRORS))
def test_every_custom_error_decodes_to_its_name_args_and_a_sentence(name: str) -> None:
    types, _ = CUSTOM_ERRORS[name]
    args = SAMPLE_ARGS[types]
    data = keccak(text=f"{name}({','.join(types)})")[:4] + encode(list(types), args)

    error = decode_revert(data)

    assert error.error_name == name
    assert list(error.args) == args
    assert error.data == data
    assert name not in error.user_message  # words, not the raw identifier
    assert len(error.user_message) > 15


def test_provider_stake_too_low_names_both_amounts_in_mor() -> None:
    data = bytes.fromhex("bcc35dcc") + encode(["uint256", "uint256"], [5 * 10**16, 2 * 10**17])
    assert decode_revert(data).user_message.startswith("provider stake too low: 0.05 MOR < 0.2 MOR minimum")


def test_insufficient_rights_names_both_addresses_checksummed() -> None:
    data = bytes.fromhex("2e980d14") + encode(["address", "address"], [USER.lower(), PROVIDER.lower()])
    error = decode_revert(data)
    assert error.args == (USER, PROVIDER)
    assert USER in error.user_message
    assert PROVIDER in error.user_message


def test_context_prefixes_the_message() -> None:
    error = decode_revert(bytes.fromhex("f4d7eed5"), context="opening a session")
    assert error.user_message.startswith("opening a session failed: the session would last less than 5 minutes")


def test_error_string_is_decoded_and_known_strings_get_a_fix() -> None:
    selector = keccak(text="Error(string)")[:4]
    plain = decode_revert(selector + encode(["string"], ["Diamond: something odd"]))
    known = decode_revert(selector + encode(["string"], ["ERC20: insufficient allowance"]))
    assert (plain.error_name, plain.args, plain.user_message) == (
        "Error",
        ("Diamond: something odd",),
        "Diamond: something odd",
    )
    assert "approve more MOR" in known.user_message


@pytest.mark.parametrize("code", sorted(PANIC_CODES))
def test_panic_codes_are_named(code: int) -> None:
    error = decode_revert(keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [code]))
    assert error.error_name == "Panic"
    assert error.args == (code,)
    assert f"0x{code:02x}" in error.user_message
    assert PANIC_CODES[code] in error.user_message


def test_panic_0x11_says_arithmetic_overflow() -> None:
    error = decode_revert(keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [0x11]))
    assert "arithmetic overflow/underflow" in error.user_message


def test_empty_and_unknown_revert_data_still_give_a_message() -> None:
    empty = decode_revert(b"")
    unknown = decode_revert(bytes.fromhex("deadbeef01"))
    assert "without a reason" in empty.user_message
    assert "0xdeadbeef01" in unknown.user_message
    assert isinstance(unknown, ContractRevertError)


def test_str_of_the_error_is_the_user_message() -> None:
    error = decode_revert(bytes.fromhex("e9fb372e"))
    assert str(error) == error.user_message == "this session is already closed"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0xf4d7eed5", bytes.fromhex("f4d7eed5")),
        ("Reverted 0xf4d7eed5", bytes.fromhex("f4d7eed5")),
        ({"message": "x", "data": "0xe9fb372e"}, bytes.fromhex("e9fb372e")),
        (b"\x01\x02", b"\x01\x02"),
        ("no data", None),
        (None, None),
    ],
)
def test_revert_data_is_found_in_every_shape_nodes_use(raw: object, expected: bytes | None) -> None:
    assert revert_data_from(raw) == expected
