"""Loads the compiled contract artifacts (ABI, bytecode, deploy plan) from resources/contracts/artifacts."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from app.errors import ChainError
from app.paths import resources_dir

_FIX = "rebuild them with `python3 resources/contracts/build.py` (needs `npm ci --prefix packaging/npm`)"


def artifacts_dir() -> Path:
    """The folder holding ``<Name>.json``, ``Diamond.abi.json`` and ``deploy-plan.json``."""
    return resources_dir() / "contracts" / "artifacts"


def _read_json(name: str) -> Any:
    path = artifacts_dir() / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ChainError(f"The contract artifact {path} is missing: {_FIX}.") from e
    except (OSError, ValueError) as e:
        raise ChainError(f"The contract artifact {path} cannot be read ({e}): {_FIX}.") from e


@cache
def load_artifact(name: str) -> dict[str, Any]:
    """``{"abi": [...], "bytecode": "0x..."}`` for one contract, e.g. ``load_artifact("MorpheusToken")``."""
    data = _read_json(f"{name}.json")
    if not isinstance(data, dict) or "abi" not in data or "bytecode" not in data:
        raise ChainError(f"The contract artifact {name}.json has no abi/bytecode: {_FIX}.")
    return data


@cache
def diamond_abi() -> list[dict[str, Any]]:
    """The union ABI served at the Diamond address (functions, events, custom errors)."""
    data = _read_json("Diamond.abi.json")
    if isinstance(data, dict) and "abi" in data:
        data = data["abi"]
    if not isinstance(data, list):
        raise ChainError(f"Diamond.abi.json is not an ABI list: {_FIX}.")
    return data


@cache
def deploy_plan() -> dict[str, Any]:
    """The per-facet selector lists and initialiser order produced by the contracts build."""
    data = _read_json("deploy-plan.json")
    if not isinstance(data, dict):
        raise ChainError(f"deploy-plan.json is not a JSON object: {_FIX}.")
    return data


def abi_type(entry: dict[str, Any]) -> str:
    """The canonical type string of one ABI input/output entry (tuples expanded)."""
    t = str(entry["type"])
    if t.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in entry.get("components", []))
        return f"({inner}){t[len('tuple') :]}"
    return t
