"""The committed contract artifacts are fresh and carry the spec's selectors, event topics and error selectors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "resources" / "contracts"
ARTIFACTS = CONTRACTS / "artifacts"

# Spec §5.3.
SPEC_FUNCTION_SELECTORS = {
    "openSession": "0xa85a1782",
    "closeSession": "0x42f77a31",
    "claimForProvider": "0xf2e96e8e",
    "withdrawUserStakes": "0xa98a7c6b",
    "postModelBid": "0xede96bb1",
    "deleteModelBid": "0x8913dcaa",
    "providerRegister": "0x365700cb",
    "modelRegister": "0x21dea0a0",
    "getSession": "0x39b240bd",
    "getTodaysBudget": "0x40005965",
    "totalMORSupply": "0x6d0cfe5a",
    "getProviderModelStats": "0x1b26c116",
    "__SessionRouter_init": "0xf8ba944b",
}

# Spec §5.1.
SPEC_EVENT_TOPICS = {
    "SessionOpened": "0x2bd7c890baf595977d256a6e784512c873ac58ba612b4895dbb7f784bfbf4839",
    "SessionClosed": "0x337fbb0a41a596db800dc836595a57815f967185e3596615c646f2455ac3914a",
    "MarketplaceBidPosted": "0xfc422bb61cd73bc76f27eecf69cce3db0b05d39769ca3ed0fb314a3d04bff6f6",
    "MarketplaceBidDeleted": "0x409dfc0f98bf6e062e576fbdc63c9f82392d44deff61e3412f8bd256d2814883",
}

# Spec §5.2.
SPEC_ERROR_SELECTORS = {
    "ProviderStakeTooLow": "0xbcc35dcc",
    "ProviderHasActiveBids": "0xf6c1fedc",
    "ProviderNotFound": "0xb1cd0903",
    "ProviderHasAlreadyDeregistered": "0x15b52eb4",
    "ModelStakeTooLow": "0x2f7895f5",
    "ModelHasAlreadyDeregistered": "0xb0835d39",
    "ModelHasActiveBids": "0x633910a0",
    "MarketplaceProviderNotFound": "0x8d0285d4",
    "MarketplaceModelNotFound": "0x0e68881c",
    "MarketplaceActiveBidNotFound": "0x33ac0973",
    "MarketplaceBidMinPricePerSecondIsZero": "0x6261483d",
    "MarketplaceBidMinPricePerSecondIsInvalid": "0x5dcc0631",
    "MarketplaceBidPricePerSecondInvalid": "0x9c7f2f48",
    "MarketplaceFeeAmountIsZero": "0x864d4cb3",
    "SessionProviderSignatureMismatch": "0x453ede6a",
    "SessionApproveExpired": "0x4db74c88",
    "SessionApprovedForAnotherChainId": "0xadf95488",
    "SessionDuplicateApproval": "0x684df34c",
    "SessionReceiptForAnotherChainId": "0x4069702a",
    "SessionReceiptExpired": "0xb55af04a",
    "SessionTooShort": "0xf4d7eed5",
    "SessionAlreadyClosed": "0xe9fb372e",
    "SessionBidNotFound": "0x1de03f33",
    "SessionPoolIndexOutOfBounds": "0x4bb51606",
    "SessionUserAmountToWithdrawIsZero": "0xc41b8c4d",
    "SessionMaxDurationTooShort": "0xf0f669df",
    "SessionStakeTooLow": "0x63e209ea",
    "InsufficientRightsForOperation": "0x2e980d14",
    "OwnableUnauthorizedAccount": "0x118cdaa7",
}

DECLARED_NEVER_RAISED = [
    "ProviderNotDeregistered",
    "ProviderNoStake",
    "ProviderNothingToWithdraw",
    "ModelNotFound",
    "SessionApprovedForAnotherUser",
    "SessionNotEndedOrNotExist",
    "SessionProviderNothingToClaimInThisPeriod",
]

NOT_REGISTERED = ["MIN_SESSION_DURATION", "SIGNATURE_TTL", "COMPUTE_POOL_INDEX"]

DEPLOYABLE = [
    "MorpheusToken",
    "Multicall3",
    "DelegateRegistry",
    "LumerinDiamond",
    "ProviderRegistry",
    "ModelRegistry",
    "Marketplace",
    "SessionRouter",
    "Delegation",
]


def _canonical(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_canonical(p) for p in entry['inputs'])})"


def _entries(kind: str) -> dict[str, list[str]]:
    """Name -> list of full hex hashes of signatures, for entries of one ABI type in Diamond.abi.json."""
    abi = json.loads((ARTIFACTS / "Diamond.abi.json").read_text())
    found: dict[str, list[str]] = {}
    for entry in abi:
        if entry["type"] == kind:
            found.setdefault(entry["name"], []).append("0x" + keccak(text=_signature(entry)).hex())
    return found


def _plan() -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((ARTIFACTS / "deploy-plan.json").read_text())
    return plan


@pytest.mark.slow
def test_committed_artifacts_match_a_fresh_build() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH, so the contracts cannot be recompiled here")
    proc = subprocess.run(
        [sys.executable, str(CONTRACTS / "build.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_artifact_has_abi_and_bytecode_within_eip170(name: str) -> None:
    artifact = json.loads((ARTIFACTS / f"{name}.json").read_text())
    assert artifact["contractName"] == name
    assert artifact["abi"]
    assert artifact["bytecode"].startswith("0x")
    runtime_bytes = (len(artifact["deployedBytecode"]) - 2) // 2
    assert 0 < runtime_bytes <= 24576


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_runtime_code_has_no_push0_so_paris_evms_run_it(name: str) -> None:
    code = bytes.fromhex(json.loads((ARTIFACTS / f"{name}.json").read_text())["deployedBytecode"][2:])
    # The CBOR metadata trailer (length in the last two bytes) is data, not code.
    code = code[: len(code) - 2 - int.from_bytes(code[-2:], "big")]
    pc = 0
    while pc < len(code):
        opcode = code[pc]
        assert opcode != 0x5F, f"PUSH0 at offset {pc}"
        pc += 1 + (opcode - 0x5F if 0x60 <= opcode <= 0x7F else 0)


@pytest.mark.parametrize(("name", "selector"), sorted(SPEC_FUNCTION_SELECTORS.items()))
def test_spec_function_selector_is_in_diamond_abi_and_registered(name: str, selector: str) -> None:
    assert [h[:10] for h in _entries("function")[name]] == [selector]
    registered = {s for cut in _plan()["cuts"] for s in cut["selectors"]}
    assert selector in registered


def test_diamond_cut_selector_matches_spec() -> None:
    hashes = [h[:10] for h in _entries("function")["diamondCut"]]
    assert "0xe57e69c6" in hashes
    assert len(hashes) == 2


@pytest.mark.parametrize(("name", "topic"), sorted(SPEC_EVENT_TOPICS.items()))
def test_client_event_topic_matches_spec(name: str, topic: str) -> None:
    assert _entries("event")[name] == [topic]


def test_misspelt_fee_event_and_undeclared_provider_withdrawn_are_in_abi() -> None:
    events = _entries("event")
    assert "MaretplaceFeeUpdated" in events
    assert "ProviderWithdrawn" in events


@pytest.mark.parametrize(("name", "selector"), sorted(SPEC_ERROR_SELECTORS.items()))
def test_custom_error_selector_matches_spec(name: str, selector: str) -> None:
    assert [h[:10] for h in _entries("error")[name]] == [selector]


@pytest.mark.parametrize("name", DECLARED_NEVER_RAISED)
def test_declared_but_never_raised_error_stays_in_abi(name: str) -> None:
    assert name in _entries("error")


@pytest.mark.parametrize("name", NOT_REGISTERED)
def test_storage_constant_is_in_abi_but_not_registered(name: str) -> None:
    selectors = [h[:10] for h in _entries("function")[name]]
    registered = {s for cut in _plan()["cuts"] for s in cut["selectors"]}
    assert selectors
    assert not set(selectors) & registered


def test_no_selector_is_registered_twice() -> None:
    selectors = [s for cut in _plan()["cuts"] for s in cut["selectors"]]
    assert len(selectors) == len(set(selectors))
    assert not [s for cut in _plan()["cuts"] for s in cut["signatures"] if "_STORAGE_SLOT" in s]
