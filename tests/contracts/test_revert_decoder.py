"""The test suite's revert decoder: custom errors by §5.2 selector, Error(string), Panic, and its assertions."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode as abi_encode

from .env import Env
from .reverts import Revert, load_decoder, reverts_with

ALICE = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
BOB = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"


def test_decodes_custom_error_with_uint_arguments_by_spec_selector() -> None:
    data = bytes.fromhex("bcc35dcc") + abi_encode(["uint256", "uint256"], [5, 7])
    assert load_decoder().decode(data) == Revert("ProviderStakeTooLow", (5, 7))


def test_decodes_custom_error_with_checksummed_addresses() -> None:
    data = bytes.fromhex("2e980d14") + abi_encode(["address", "address"], [ALICE, BOB])
    assert load_decoder().decode(data) == Revert("InsufficientRightsForOperation", (ALICE, BOB))


def test_decodes_error_string_and_panic() -> None:
    decoder = load_decoder()
    assert decoder.decode(bytes.fromhex("08c379a0") + abi_encode(["string"], ["nope"])) == Revert("Error", ("nope",))
    assert decoder.decode(bytes.fromhex("4e487b71") + abi_encode(["uint256"], [0x11])) == Revert("Panic", (0x11,))


def test_unknown_and_empty_revert_data_are_named_as_such() -> None:
    decoder = load_decoder()
    assert decoder.decode(b"") == Revert("<empty>")
    assert decoder.decode(b"\xde\xad\xbe\xef").name == "<unknown 0xdeadbeef>"


def test_reverts_with_fails_when_the_call_succeeds(env: Env) -> None:
    with pytest.raises(AssertionError, match="succeeded"), reverts_with(env.decoder, "ProviderNotFound"):
        env.fn.getBidFee().call()


def test_reverts_with_fails_on_another_error_or_other_arguments(env: Env) -> None:
    with pytest.raises(AssertionError, match="got ProviderNotFound"), env.reverts("ProviderHasActiveBids"):
        env.send(env.fn.providerDeregister(env.third), env.third)
    with pytest.raises(AssertionError, match="expected OwnableUnauthorizedAccount"), \
            env.reverts("OwnableUnauthorizedAccount", env.owner):
        env.send(env.fn.setMarketplaceBidFee(1), env.third)
