"""Translation between JSON-RPC wire objects (camelCase, hex quantities) and eth-tester's Python objects."""

from __future__ import annotations

from typing import Any

from eth_bloom.bloom import BloomFilter
from eth_utils.conversions import to_bytes

_QUANTITY_FIELDS = {"gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "nonce"}
_DROPPED_TX_FIELDS = {"type", "chainId", "accessList", "blobVersionedHashes", "maxFeePerBlobGas"}
_BLOCK_TAGS = {"latest", "earliest", "pending", "safe", "finalized"}


class RpcError(Exception):
    """A JSON-RPC error object to send back: ``code``, ``message`` and optional ``data`` (e.g. revert bytes)."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def quantity(value: Any, name: str = "value") -> int:
    """Parse a JSON-RPC quantity (``"0x1a"``; plain ints tolerated) or raise an invalid-params error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value[:2].lower() == "0x":
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcError(-32602, f"invalid {name}: expected a hex quantity, got {value!r}")


def block_id(value: Any) -> str | int:
    """A block tag or number as eth-tester takes it; a missing value means ``latest``."""
    if value is None:
        return "latest"
    if isinstance(value, str) and value in _BLOCK_TAGS:
        return value
    if isinstance(value, dict) and "blockNumber" in value:  # EIP-1898 object form
        return quantity(value["blockNumber"], "blockNumber")
    return quantity(value, "block number")


def tx_from_rpc(obj: Any) -> dict[str, Any]:
    """A JSON-RPC call/transaction object → eth-tester's snake_case dict with int quantities."""
    if not isinstance(obj, dict):
        raise RpcError(-32602, "invalid params: the transaction must be an object")
    tx: dict[str, Any] = {}
    for key, value in obj.items():
        if value is None or key in _DROPPED_TX_FIELDS:
            continue
        if key in _QUANTITY_FIELDS:
            tx[_snake(key)] = quantity(value, key)
        elif key in {"input", "data"}:
            tx["data"] = value
        elif key in {"from", "to"}:
            tx[key] = value
        else:
            raise RpcError(-32602, f"invalid params: unsupported transaction field {key!r}")
    if tx.get("gas_price") is not None and "max_fee_per_gas" in tx:
        raise RpcError(-32602, "invalid params: both gasPrice and maxFeePerGas given")
    tx.setdefault("from", "0x" + "00" * 20)  # anvil and geth call from the zero address by default
    return tx


def to_rpc(value: Any) -> Any:
    """Recursively encode eth-tester output for the wire: camelCase keys, hex ints and bytes."""
    if isinstance(value, dict):
        return {_camel(k): to_rpc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_rpc(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, float):  # gasUsedRatio in fee history
        return value
    raise TypeError(f"cannot encode {type(value).__name__} for JSON-RPC")


def format_transaction(tx: dict[str, Any]) -> dict[str, Any]:
    """An eth-tester transaction as ``eth_getTransactionByHash`` returns it."""
    out = dict(tx)
    out["input"] = out.pop("data", "0x")
    if not out.get("to"):
        out["to"] = None
    return dict(to_rpc(out))


def format_log(log: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in log.items() if k != "type"}
    out["removed"] = False
    return dict(to_rpc(out))


def format_receipt(receipt: dict[str, Any]) -> dict[str, Any]:
    """An eth-tester receipt with the fields a geth/anvil receipt has (logs bloom, removed flags)."""
    out = {k: v for k, v in receipt.items() if k not in {"state_root", "logs"}}
    if not out.get("to"):
        out["to"] = None
    out["logs_bloom"] = "0x" + int(_bloom(receipt["logs"])).to_bytes(256, "big").hex()
    rpc = dict(to_rpc(out))
    rpc["logs"] = [format_log(log) for log in receipt["logs"]]
    return rpc


def format_block(block: dict[str, Any], full: bool) -> dict[str, Any]:
    out = {k: v for k, v in block.items() if k not in {"transactions", "logs_bloom"}}
    rpc = dict(to_rpc(out))
    rpc["logsBloom"] = "0x" + int(block.get("logs_bloom") or 0).to_bytes(256, "big").hex()
    txs = block.get("transactions", [])
    rpc["transactions"] = [format_transaction(tx) for tx in txs] if full else list(txs)
    return rpc


def _bloom(logs: list[dict[str, Any]]) -> BloomFilter:
    bloom = BloomFilter()
    for log in logs:
        bloom.add(to_bytes(hexstr=log["address"]))
        for topic in log["topics"]:
            bloom.add(to_bytes(hexstr=topic) if isinstance(topic, str) else topic)
    return bloom


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)
