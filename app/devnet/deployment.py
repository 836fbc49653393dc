"""The devnet's files: ``deployment.json`` (contract addresses for this chain) and ``rpc.json`` (where it runs)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.errors import DevnetError


def devnet_dir(data_dir: Path) -> Path:
    return data_dir / "devnet"


def deployment_path(data_dir: Path) -> Path:
    return devnet_dir(data_dir) / "deployment.json"


def rpc_info_path(data_dir: Path) -> Path:
    return devnet_dir(data_dir) / "rpc.json"


@dataclass(frozen=True)
class Deployment:
    """Where the protocol lives on the devnet chain and which dev accounts play which role."""

    chain_id: int
    diamond: str
    mor: str
    multicall3: str
    deploy_block: int
    owner: str
    funding_account: str
    faucet_account: str
    extra: dict[str, str] = field(default_factory=dict)  # other contracts the deployer reports (by name)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        return cls(
            chain_id=int(data["chain_id"]),
            diamond=str(data["diamond"]),
            mor=str(data["mor"]),
            multicall3=str(data["multicall3"]),
            deploy_block=int(data["deploy_block"]),
            owner=str(data["owner"]),
            funding_account=str(data["funding_account"]),
            faucet_account=str(data["faucet_account"]),
            extra={str(k): str(v) for k, v in dict(data.get("extra") or {}).items()},
        )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash never leaves half a file


def _read_json(path: Path, what: str) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DevnetError(f"The devnet {what} file {path} is unreadable ({e}). Reset the devnet.") from e
    if not isinstance(data, dict):
        raise DevnetError(f"The devnet {what} file {path} is not a JSON object. Reset the devnet.")
    return data


def save_deployment(data_dir: Path, deployment: Deployment) -> None:
    _write_json(deployment_path(data_dir), deployment.to_json())


def load_deployment(data_dir: Path) -> Deployment | None:
    """The saved deployment, or None if there is none; a damaged file raises DevnetError."""
    data = _read_json(deployment_path(data_dir), "deployment")
    if data is None:
        return None
    try:
        return Deployment.from_json(data)
    except (KeyError, TypeError, ValueError) as e:
        raise DevnetError(f"The devnet deployment file is incomplete ({e}). Reset the devnet.") from e


def save_rpc_info(data_dir: Path, rpc_url: str, chain_id: int, engine: str, pid: int) -> None:
    """Tell other processes (``mor-launch devnet fund``) where the running devnet answers."""
    _write_json(rpc_info_path(data_dir), {"rpc_url": rpc_url, "chain_id": chain_id, "engine": engine, "pid": pid})


def load_rpc_info(data_dir: Path) -> dict[str, Any] | None:
    return _read_json(rpc_info_path(data_dir), "RPC info")


def clear_rpc_info(data_dir: Path) -> None:
    rpc_info_path(data_dir).unlink(missing_ok=True)
