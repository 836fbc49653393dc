"""Revert data → words: Diamond custom errors, OpenZeppelin ``Error(string)`` and Solidity panics."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from app.chain.errors import ContractRevertError
from app.chain.units import format_mor
from app.errors import ChainError

_Fmt = Callable[[tuple[Any, ...]], str]


def _fixed(text: str) -> _Fmt:
    return lambda _args: text


# name → (argument types, message). Every custom error of contracts-spec §5.2, including the ones declared
# but never raised, so an upgraded contract that starts raising them still gets words.
CUSTOM_ERRORS: dict[str, tuple[tuple[str, ...], _Fmt]] = {
    "ProviderStakeTooLow": (
        ("uint256", "uint256"),
        lambda a: f"provider stake too low: {format_mor(a[0])} < {format_mor(a[1])} minimum; stake more MOR",
    ),
    "ProviderHasActiveBids": ((), _fixed("the provider still has active bids: delete them before deregistering")),
    "ProviderNotFound": ((), _fixed("this provider is not registered: register it first")),
    "ProviderHasAlreadyDeregistered": ((), _fixed("this provider is already deregistered")),
    "ProviderNotDeregistered": ((), _fixed("the provider is still registered: deregister it first")),
    "ProviderNoStake": ((), _fixed("the provider has no stake")),
    "ProviderNothingToWithdraw": ((), _fixed("the provider has nothing to withdraw")),
    "ModelStakeTooLow": (
        ("uint256", "uint256"),
        lambda a: f"model stake too low: {format_mor(a[0])} < {format_mor(a[1])} minimum; stake more MOR",
    ),
    "ModelHasAlreadyDeregistered": ((), _fixed("this model is already deregistered")),
    "ModelHasActiveBids": ((), _fixed("the model still has active bids: they must be deleted before deregistering")),
    "ModelNotFound": ((), _fixed("this model is not registered")),
    "MarketplaceProviderNotFound": (
        (),
        _fixed("the provider is not registered (or was deregistered): register the provider before posting a bid"),
    ),
    "MarketplaceModelNotFound": (
        (),
        _fixed("the model is not registered (or was deregistered): pick an active model"),
    ),
    "MarketplaceActiveBidNotFound": ((), _fixed("no active bid with this id: it was deleted or never posted")),
    "MarketplaceBidMinPricePerSecondIsZero": ((), _fixed("the minimum bid price per second must be above zero")),
    "MarketplaceBidMinPricePerSecondIsInvalid": (
        (),
        _fixed("the minimum bid price per second is above the maximum"),
    ),
    "MarketplaceBidPricePerSecondInvalid": (
        (),
        _fixed(
            "the bid price per second is outside the allowed range: pick a price between the marketplace's "
            "minimum and maximum"
        ),
    ),
    "MarketplaceFeeAmountIsZero": ((), _fixed("there are no marketplace fees to withdraw")),
    "SessionProviderSignatureMismatch": (
        (),
        _fixed("the session approval was not signed by the bid's provider (or its delegate): ask the provider again"),
    ),
    "SessionApproveExpired": ((), _fixed("the provider's session approval expired: request a new one")),
    "SessionApprovedForAnotherChainId": (
        (),
        _fixed("the provider's approval is for another chain: the provider and you must use the same network"),
    ),
    "SessionApprovedForAnotherUser": ((), _fixed("the provider's approval was issued for another user")),
    "SessionDuplicateApproval": (
        (),
        _fixed("this provider approval was already used to open a session: request a new one"),
    ),
    "SessionReceiptForAnotherChainId": (
        (),
        _fixed("the closing receipt is for another chain: the provider and you must use the same network"),
    ),
    "SessionReceiptExpired": ((), _fixed("the closing receipt expired: request a fresh one and close again")),
    "SessionTooShort": (
        (),
        _fixed("the session would last less than 5 minutes: stake more MOR (or today's compute budget is empty)"),
    ),
    "SessionAlreadyClosed": ((), _fixed("this session is already closed")),
    "SessionBidNotFound": ((), _fixed("the bid is no longer active: pick another bid")),
    "SessionPoolIndexOutOfBounds": ((), _fixed("there is no reward pool with this index")),
    "SessionUserAmountToWithdrawIsZero": (
        (),
        _fixed("nothing to withdraw yet: stakes on hold are released at the next UTC midnight"),
    ),
    "SessionMaxDurationTooShort": ((), _fixed("the maximum session duration must be at least 300 seconds")),
    "SessionStakeTooLow": ((), _fixed("the direct payment does not cover the session's cost: send more MOR")),
    "SessionNotEndedOrNotExist": ((), _fixed("the session has not ended yet, or does not exist")),
    "SessionProviderNothingToClaimInThisPeriod": ((), _fixed("the provider has nothing to claim in this period")),
    "InsufficientRightsForOperation": (
        ("address", "address"),
        lambda a: f"{a[1]} may not act for {a[0]}: use {a[0]}'s own wallet or have it delegate the right to you",
    ),
    "OwnableUnauthorizedAccount": (
        ("address",),
        lambda a: f"{a[0]} is not the contract owner: only the owner may do this",
    ),
}

PANIC_CODES: dict[int, str] = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow/underflow (for a provider claim on the day of an early close this is a known "
    "contract quirk: claim again after the next UTC midnight)",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory (array too large)",
    0x51: "call to an uninitialised function pointer",
}

# Require strings users meet often, said with the fix.
KNOWN_STRINGS: dict[str, str] = {
    "ERC20: insufficient allowance": "the MOR allowance for the Diamond is too low: approve more MOR first",
    "ERC20: transfer amount exceeds balance": "not enough MOR: the balance is below the amount needed",
    "ERC20: transfer amount exceeds allowance": "the MOR allowance is too low: approve more MOR first",
    "Diamond: selector is not registered": (
        "this function is not available on this network's Diamond contract (selector not registered)"
    ),
    "Initializable: contract is already initialized": "this contract part is already initialised",
    "ECDSA: invalid signature length": "the signature is malformed (it must be 65 bytes)",
    "ECDSA: invalid signature 's' value": "the signature is malformed (high s value)",
    "ECDSA: invalid signature": "the signature is invalid",
}

ERROR_STRING_SELECTOR = keccak(text="Error(string)")[:4]
PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]


def _signature(name: str, types: tuple[str, ...]) -> str:
    return f"{name}({','.join(types)})"


@cache
def _error_table() -> dict[bytes, tuple[str, tuple[str, ...]]]:
    """selector → (name, types), from the built-in table plus any extra errors in Diamond.abi.json."""
    table = {keccak(text=_signature(n, t))[:4]: (n, t) for n, (t, _f) in CUSTOM_ERRORS.items()}
    try:
        from app.chain.artifacts import abi_type, diamond_abi

        abi = diamond_abi()
    except ChainError:
        return table  # artifacts not built: the spec's table alone still decodes every Diamond error
    for entry in abi:
        if entry.get("type") == "error":
            types = tuple(abi_type(i) for i in entry.get("inputs", []))
            table[keccak(text=_signature(entry["name"], types))[:4]] = (str(entry["name"]), types)
    return table


def describe_custom_error(name: str, args: tuple[Any, ...]) -> str:
    """The user message for a custom error, or a readable fallback for one we have no words for."""
    known = CUSTOM_ERRORS.get(name)
    if known is not None:
        try:
            return known[1](args)
        except (IndexError, TypeError, ValueError):
            pass
    rendered = ", ".join(str(a) for a in args)
    return f"the contract rejected the call with {name}({rendered})"


def decode_revert(data: bytes, context: str = "") -> ContractRevertError:
    """Turn raw revert data into a ContractRevertError whose message says what went wrong."""
    prefix = f"{context} failed: " if context else ""
    if not data:
        return ContractRevertError(
            f"{prefix}the contract reverted without a reason (out of gas, a missing contract or a bare revert)",
            "",
        )
    selector, body = data[:4], data[4:]
    try:
        if selector == ERROR_STRING_SELECTOR:
            (reason,) = abi_decode(["string"], body)
            return ContractRevertError(f"{prefix}{KNOWN_STRINGS.get(reason, reason)}", "Error", (reason,), data)
        if selector == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], body)
            words = PANIC_CODES.get(code, "unknown panic")
            return ContractRevertError(f"{prefix}contract panic 0x{code:02x}: {words}", "Panic", (code,), data)
        entry = _error_table().get(selector)
        if entry is not None:
            name, types = entry
            args = tuple(abi_decode(list(types), body)) if types else ()
            if "address" in types:
                from eth_utils.address import to_checksum_address

                args = tuple(to_checksum_address(a) if t == "address" else a for a, t in zip(args, types, strict=True))
            return ContractRevertError(prefix + describe_custom_error(name, args), name, args, data)
    except DecodingError:
        pass
    return ContractRevertError(f"{prefix}the contract reverted with unknown error data 0x{data.hex()}", "", (), data)


def revert_data_from(value: Any) -> bytes | None:
    """Dig the revert bytes out of whatever a node or web3 put in an error's ``data`` field."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, dict):
        for key in ("data", "originalError"):
            if key in value:
                found = revert_data_from(value[key])
                if found is not None:
                    return found
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("Reverted "):
            text = text[len("Reverted ") :]
        if text.startswith("0x"):
            try:
                return bytes.fromhex(text[2:])
            except ValueError:
                return None
    return None
