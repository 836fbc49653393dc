"""Decode EVM revert data into (error name, args) using the Diamond ABI's custom errors, Error(string), Panic."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_tester.exceptions import TransactionFailed
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.exceptions import ContractLogicError

ARTIFACTS = Path(__file__).resolve().parents[2] / "resources" / "contracts" / "artifacts"

ERROR_STRING_SELECTOR = keccak(text="Error(string)")[:4]
PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]


@dataclass(frozen=True)
class Revert:
    """A decoded revert: `name` is the custom error name, "Error" (string reason) or "Panic" (code)."""

    name: str
    args: tuple[Any, ...] = ()


def _abi_type(param: dict[str, Any]) -> str:
    # Tuples (structs) in error arguments: expand their components recursively.
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def _normalise(value: Any, kind: str) -> Any:
    if kind == "address":
        return to_checksum_address(value)
    return value


@dataclass
class RevertDecoder:
    """Maps 4-byte selectors to custom errors from one or more ABIs."""

    errors: dict[bytes, tuple[str, list[str]]] = field(default_factory=dict)

    def add_abi(self, abi: list[dict[str, Any]]) -> None:
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [_abi_type(p) for p in item.get("inputs", [])]
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            self.errors[selector] = (str(item["name"]), types)

    def decode(self, data: bytes) -> Revert:
        selector, body = data[:4], data[4:]
        if selector == ERROR_STRING_SELECTOR:
            return Revert("Error", (abi_decode(["string"], body)[0],))
        if selector == PANIC_SELECTOR:
            return Revert("Panic", (abi_decode(["uint256"], body)[0],))
        if selector in self.errors:
            name, types = self.errors[selector]
            values = abi_decode(types, body)
            return Revert(name, tuple(_normalise(v, t) for v, t in zip(values, types, strict=True)))
        if not data:
            return Revert("<empty>")
        return Revert(f"<unknown 0x{data.hex()}>")


def load_decoder() -> RevertDecoder:
    decoder = RevertDecoder()
    decoder.add_abi(json.loads((ARTIFACTS / "Diamond.abi.json").read_text()))
    for name in ("MorpheusToken", "DelegateRegistry", "Multicall3"):
        path = ARTIFACTS / f"{name}.json"
        if path.exists():
            decoder.add_abi(json.loads(path.read_text())["abi"])
    return decoder


def revert_data(exc: BaseException) -> bytes:
    """The raw revert bytes behind a web3 ContractLogicError or eth-tester TransactionFailed.

    web3's eth-tester provider re-raises TransactionFailed with the bytes' repr in a string; the original
    exception, holding the raw bytes, is the one it was raised from (its __context__).
    """
    seen: BaseException | None = exc
    while seen is not None:
        data = getattr(seen, "data", None)
        if isinstance(data, bytes) and data:
            return data
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data.removeprefix("0x"))
        if isinstance(seen, TransactionFailed) and seen.args:
            first = seen.args[0]
            if isinstance(first, Exception) and first.args:
                first = first.args[0]
            if isinstance(first, bytes):
                return first
            if isinstance(first, str) and first[:2] in ("b'", 'b"'):
                # eth-tester's eth_call path stringifies the raw revert bytes: parse the literal back.
                parsed = ast.literal_eval(first)
                assert isinstance(parsed, bytes)
                return parsed
            if isinstance(first, str) and not first.startswith("execution reverted"):
                # eth-tester already decoded an Error(string) reason: re-encode it so one decoder handles all.
                return ERROR_STRING_SELECTOR + abi_encode(["string"], [first])
        seen = seen.__cause__ or seen.__context__
    return b""


class RevertCapture:
    """What `expect_revert` caught, for tests that look at the decoded error after the block."""

    revert: Revert | None = None


@contextmanager
def reverts_with(decoder: RevertDecoder, name: str, *args: Any) -> Iterator[RevertCapture]:
    """Assert the block reverts with exactly this error name (and these args, if any are given)."""
    capture = RevertCapture()
    try:
        yield capture
    except (ContractLogicError, TransactionFailed) as exc:
        got = decoder.decode(revert_data(exc))
        capture.revert = got
        assert got.name == name, f"expected revert {name}{args}, got {got.name}{got.args}"
        if args:
            assert got.args == tuple(args), f"expected {name}{args}, got {name}{got.args}"
    else:
        raise AssertionError(f"expected revert {name}{args}, but the call succeeded")
