#!/usr/bin/env python3
"""Compile the marketplace contracts with solc-js and write deterministic artifacts (stdlib only)."""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SRC = HERE / "src"
ARTIFACTS = HERE / "artifacts"
NODE_MODULES = REPO / "packaging" / "npm" / "node_modules"
SOLC_VERSION = "0.8.24"

# Deployable contracts: artifact name -> source unit (relative to resources/contracts).
CONTRACTS: dict[str, str] = {
    "MorpheusToken": "src/tokens/MorpheusToken.sol",
    "Multicall3": "src/utils/Multicall3.sol",
    "DelegateRegistry": "src/utils/DelegateRegistry.sol",
    "LumerinDiamond": "src/diamond/LumerinDiamond.sol",
    "ProviderRegistry": "src/diamond/facets/ProviderRegistry.sol",
    "ModelRegistry": "src/diamond/facets/ModelRegistry.sol",
    "Marketplace": "src/diamond/facets/Marketplace.sol",
    "SessionRouter": "src/diamond/facets/SessionRouter.sol",
    "Delegation": "src/diamond/facets/Delegation.sol",
}

# Selectors are registered per interface, like upstream's migration (spec §1.1). Anything a facet
# exposes beyond these (MIN_SESSION_DURATION, SIGNATURE_TTL, COMPUTE_POOL_INDEX, *_STORAGE_SLOT, ...)
# stays unregistered and reverts "Diamond: selector is not registered" on the diamond.
FACET_INTERFACES: dict[str, list[str]] = {
    "ProviderRegistry": ["src/interfaces/facets/IProviderRegistry.sol:IProviderRegistry"],
    "ModelRegistry": ["src/interfaces/facets/IModelRegistry.sol:IModelRegistry"],
    "Marketplace": [
        "src/interfaces/facets/IMarketplace.sol:IMarketplace",
        "src/interfaces/storage/IBidStorage.sol:IBidStorage",
    ],
    "SessionRouter": [
        "src/interfaces/facets/ISessionRouter.sol:ISessionRouter",
        "src/interfaces/storage/IStatsStorage.sol:IStatsStorage",
    ],
    "Delegation": ["src/interfaces/facets/IDelegation.sol:IDelegation"],
}
FACETS = list(FACET_INTERFACES)
NEVER_REGISTERED = ("MIN_SESSION_DURATION", "SIGNATURE_TTL", "COMPUTE_POOL_INDEX")

# Spec §5.3: these must come out identical or clients break against the deployed diamond.
SPEC_SELECTORS: dict[str, str] = {
    "openSession": "a85a1782",
    "closeSession": "42f77a31",
    "claimForProvider": "f2e96e8e",
    "withdrawUserStakes": "a98a7c6b",
    "postModelBid": "ede96bb1",
    "deleteModelBid": "8913dcaa",
    "providerRegister": "365700cb",
    "modelRegister": "21dea0a0",
    "getSession": "39b240bd",
    "getTodaysBudget": "40005965",
    "totalMORSupply": "6d0cfe5a",
    "getProviderModelStats": "1b26c116",
    "__SessionRouter_init": "f8ba944b",
    "diamondCut((address,uint8,bytes4[])[])": "e57e69c6",
}

DEPLOY_ORDER = [
    "MorpheusToken",
    "DelegateRegistry",
    "Multicall3",
    "ProviderRegistry",
    "ModelRegistry",
    "Marketplace",
    "SessionRouter",
    "Delegation",
    "LumerinDiamond",
]

# Called at the diamond address, in this order, after the cut (spec §10 step 2).
INIT_CALLS: list[dict[str, Any]] = [
    {"signature": "__Delegation_init(address)", "args": ["DelegateRegistry"]},
    {"signature": "__ProviderRegistry_init()", "args": []},
    {"signature": "__ModelRegistry_init()", "args": []},
    {
        "signature": "__Marketplace_init(address,uint256,uint256)",
        "args": ["MorpheusToken", "marketplaceMinBidPricePerSecond", "marketplaceMaxBidPricePerSecond"],
    },
    {"signature": "setMarketplaceBidFee(uint256)", "args": ["marketplaceBidFee"]},
    {
        "signature": "__SessionRouter_init(address,uint128,(uint256,uint256,uint128,uint128)[])",
        "args": ["fundingAccount", "maxSessionDuration", "pools"],
    },
    {"signature": "providerSetMinStake(uint256)", "args": ["providerMinStake"]},
    {"signature": "modelSetMinStake(uint256)", "args": ["modelMinStake"]},
]

_DEPLOYED_POOL = {"initialReward": str(3456 * 10**18), "rewardDecrease": "592558728240000000"}
_POOL_4 = {"initialReward": str(576 * 10**18), "rewardDecrease": "98759788040000000"}
# Deploy-time values of the real networks (spec §6.2); the devnet may pick others.
PARAMETERS: dict[str, Any] = {
    "pools": [
        {**pool, "payoutStart": 1707393600, "decreaseInterval": 86400} for pool in [_DEPLOYED_POOL] * 4 + [_POOL_4]
    ],
    "maxSessionDuration": 604800,
    "mainnet": {
        "providerMinStake": str(10**17),
        "modelMinStake": str(10**17),
        "marketplaceBidFee": str(10**17),
        "marketplaceMinBidPricePerSecond": str(10**13),
        "marketplaceMaxBidPricePerSecond": str(10**16),
    },
    "testnet": {
        "providerMinStake": str(2 * 10**17),
        "modelMinStake": str(10**17),
        "marketplaceBidFee": str(3 * 10**17),
        "marketplaceMinBidPricePerSecond": str(5 * 10**15),
        "marketplaceMaxBidPricePerSecond": str(2 * 10**19),
    },
}

# Runs solc-js on standard JSON from stdin; @openzeppelin imports resolve inside node_modules.
_NODE_DRIVER = r"""
const fs = require('fs');
const path = require('path');
const nodeModules = process.argv[1];
const solc = require(path.join(nodeModules, 'solc'));
const input = fs.readFileSync(0, 'utf8');
function findImports(name) {
  if (name.startsWith('@openzeppelin/')) {
    try { return { contents: fs.readFileSync(path.join(nodeModules, name), 'utf8') }; }
    catch (e) { return { error: 'not found: ' + name }; }
  }
  return { error: 'unresolved import: ' + name };
}
process.stdout.write(JSON.stringify({
  version: solc.version(),
  output: JSON.parse(solc.compile(input, { import: findImports })),
}));
"""


class BuildError(Exception):
    """A build step failed; the message says what to fix."""


def _toolchain() -> tuple[str, Path]:
    node = shutil.which("node")
    if node is None:
        raise BuildError("node is not on PATH; install Node.js >= 18 to compile the contracts")
    if not (NODE_MODULES / "solc" / "package.json").is_file():
        raise BuildError(
            f"solc-js not found in {NODE_MODULES}; run `npm ci --prefix packaging/npm` from the repository root"
        )
    if not (NODE_MODULES / "@openzeppelin" / "contracts" / "package.json").is_file():
        raise BuildError("@openzeppelin/contracts missing; run `npm ci --prefix packaging/npm`")
    return node, NODE_MODULES


def _standard_input() -> dict[str, Any]:
    # Stable relative source unit names keep the metadata hash (and so the bytecode) reproducible.
    sources = {
        path.relative_to(HERE).as_posix(): {"content": path.read_text(encoding="utf-8")}
        for path in sorted(SRC.rglob("*.sol"))
    }
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": "paris",
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"]}
            },
        },
    }


def compile_sources() -> dict[str, dict[str, Any]]:
    """Compile every source; returns solc's `contracts` map (source unit -> name -> output)."""
    node, node_modules = _toolchain()
    proc = subprocess.run(
        [node, "-e", _NODE_DRIVER, str(node_modules)],
        input=json.dumps(_standard_input()),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BuildError(f"solc-js crashed:\n{proc.stderr.strip()}")
    result = json.loads(proc.stdout)
    if not str(result["version"]).startswith(SOLC_VERSION + "+"):
        raise BuildError(
            f"solc {result['version']} found, {SOLC_VERSION} required; run `npm ci --prefix packaging/npm`"
        )
    output = result["output"]
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise BuildError("compilation failed:\n" + "\n".join(e["formattedMessage"] for e in errors))
    return dict(output["contracts"])


def _lookup(contracts: dict[str, dict[str, Any]], ref: str) -> dict[str, Any]:
    source, _, name = ref.partition(":")
    compiled: dict[str, Any] = contracts[source][name]
    return compiled


def _canonical_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry.get('name', '')}({','.join(_canonical_type(p) for p in entry.get('inputs', []))})"


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _diamond_abi(abis: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Union of ABIs, deduplicated by (type, signature), in a stable order."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for abi in abis:
        for entry in abi:
            key = (str(entry["type"]), _signature(entry))
            if key in merged and merged[key] != entry:
                raise BuildError(f"conflicting ABI entries for {key[0]} {key[1]}")
            merged[key] = entry
    order = {"constructor": 0, "fallback": 1, "receive": 2, "function": 3, "event": 4, "error": 5}
    keys = sorted(merged, key=lambda k: (order.get(k[0], 9), k[1]))
    return [merged[k] for k in keys if k[0] != "constructor"]


def _deploy_plan(contracts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    diamond_own = set(_lookup(contracts, CONTRACTS["LumerinDiamond"] + ":LumerinDiamond")["evm"]["methodIdentifiers"])
    seen: dict[str, str] = {}
    cuts = []
    for facet in FACETS:
        implemented: dict[str, str] = _lookup(contracts, f"{CONTRACTS[facet]}:{facet}")["evm"]["methodIdentifiers"]
        wanted: dict[str, str] = {}
        for ref in FACET_INTERFACES[facet]:
            wanted.update(_lookup(contracts, ref)["evm"]["methodIdentifiers"])
        for sig, selector in wanted.items():
            if implemented.get(sig) != selector:
                raise BuildError(f"{facet} does not implement {sig}")
            if sig.split("(")[0] in NEVER_REGISTERED or "_STORAGE_SLOT(" in sig:
                raise BuildError(f"{sig} must not be registered on the diamond (spec §1.1)")
            if sig in diamond_own:
                raise BuildError(f"{sig} clashes with a LumerinDiamond function")
            if selector in seen:
                raise BuildError(f"selector 0x{selector} registered by both {seen[selector]} and {facet}")
            seen[selector] = facet
        ordered = sorted(wanted.items(), key=lambda item: item[1])
        cuts.append(
            {
                "facet": facet,
                "action": 0,
                "selectors": ["0x" + sel for _, sel in ordered],
                "signatures": [sig for sig, _ in ordered],
            }
        )
    return {
        "deployOrder": DEPLOY_ORDER,
        "diamondInit": "__LumerinDiamond_init()",
        "cuts": cuts,
        "initCalls": INIT_CALLS,
        "parameters": PARAMETERS,
    }


def _check_spec_selectors(diamond_abi_ids: dict[str, str]) -> None:
    by_name: dict[str, list[str]] = {}
    for sig, selector in diamond_abi_ids.items():
        by_name.setdefault(sig.split("(")[0], []).append(selector)
        by_name.setdefault(sig, []).append(selector)
    for name, expected in SPEC_SELECTORS.items():
        found = by_name.get(name, [])
        if found != [expected]:
            raise BuildError(f"selector of {name} is {found or 'missing'}, spec §5.3 requires 0x{expected}")


def build(out_dir: Path) -> None:
    """Compile and write all artifacts into out_dir."""
    contracts = compile_sources()
    out_dir.mkdir(parents=True, exist_ok=True)
    abis = []
    method_ids: dict[str, str] = {}
    for name, source in CONTRACTS.items():
        compiled = _lookup(contracts, f"{source}:{name}")
        runtime = compiled["evm"]["deployedBytecode"]["object"]
        if len(runtime) // 2 > 24576:
            raise BuildError(f"{name} runtime is {len(runtime) // 2} bytes, over the EIP-170 limit of 24576")
        _write_json(
            out_dir / f"{name}.json",
            {
                "contractName": name,
                "abi": compiled["abi"],
                "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + runtime,
            },
        )
        if name == "LumerinDiamond" or name in FACETS:
            abis.append(compiled["abi"])
            method_ids.update(compiled["evm"]["methodIdentifiers"])
    _check_spec_selectors(method_ids)
    _write_json(out_dir / "Diamond.abi.json", _diamond_abi(abis))
    _write_json(out_dir / "deploy-plan.json", _deploy_plan(contracts))


def check() -> int:
    """Rebuild in a temp dir; 1 if the committed artifacts differ from a fresh build."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        build(fresh)
        expected = sorted(p.name for p in fresh.iterdir())
        actual = sorted(p.name for p in ARTIFACTS.iterdir()) if ARTIFACTS.is_dir() else []
        problems = [f"missing: {n}" for n in expected if n not in actual]
        problems += [f"unexpected: {n}" for n in actual if n not in expected]
        problems += [
            f"stale: {n}" for n in expected if n in actual and not filecmp.cmp(fresh / n, ARTIFACTS / n, shallow=False)
        ]
    if problems:
        print(
            "contract artifacts are out of date with resources/contracts/src:\n  "
            + "\n  ".join(problems)
            + "\nrun `python3 resources/contracts/build.py` and commit resources/contracts/artifacts/",
            file=sys.stderr,
        )
        return 1
    print("contract artifacts are up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed artifacts are stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            return check()
        build(ARTIFACTS)
    except BuildError as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    print(f"wrote {len(CONTRACTS) + 2} artifacts to {ARTIFACTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
