"""Tiny ABI descriptors: a function or event named by its Solidity signature, encoded with eth_abi."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak


def _normalise(value: Any, abi_type: str) -> Any:
    """Make eth_abi's decoded values friendlier: checksummed addresses, tuples kept as tuples."""
    if abi_type == "address" and isinstance(value, str):
        return to_checksum_address(value)
    if abi_type.endswith("[]") and isinstance(value, tuple | list):
        inner = abi_type[:-2]
        return tuple(_normalise(v, inner) for v in value)
    if abi_type.startswith("(") and isinstance(value, tuple):
        return tuple(_normalise(v, t) for v, t in zip(value, split_tuple_type(abi_type), strict=True))
    return value


def split_tuple_type(abi_type: str) -> list[str]:
    """Split ``(a,(b,c)[],d)`` into ``["a", "(b,c)[]", "d"]``."""
    inner = abi_type[1 : abi_type.rindex(")")]
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    if current:
        parts.append(current)
    return parts


@dataclass(frozen=True)
class Function:
    """A contract function: ``Function("getBid", ("bytes32",), ("(address,bytes32,...)",))``."""

    name: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    def encode(self, *args: Any) -> bytes:
        """Calldata: selector followed by the ABI-encoded arguments."""
        return self.selector + abi_encode(list(self.inputs), list(args))

    def decode(self, data: bytes) -> tuple[Any, ...]:
        """Decode return data into a tuple (one item per output), addresses checksummed."""
        values = abi_decode(list(self.outputs), data)
        return tuple(_normalise(v, t) for v, t in zip(values, self.outputs, strict=True))


@dataclass(frozen=True)
class EventParam:
    """One event parameter: its ABI type, its name, and whether it is indexed (a topic)."""

    abi_type: str
    name: str
    indexed: bool = False


@dataclass(frozen=True)
class Event:
    """A contract event, decodable from a raw log."""

    name: str
    params: tuple[EventParam, ...] = field(default_factory=tuple)

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(p.abi_type for p in self.params)})"

    @property
    def topic0(self) -> bytes:
        return keccak(text=self.signature)

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        """Decode a log's topics (topic0 included) and data into a name → value dict."""
        indexed = [p for p in self.params if p.indexed]
        plain = [p for p in self.params if not p.indexed]
        result: dict[str, Any] = {}
        for param, topic in zip(indexed, topics[1:], strict=True):
            (value,) = abi_decode([param.abi_type], topic)
            result[param.name] = _normalise(value, param.abi_type)
        values = abi_decode([p.abi_type for p in plain], data) if plain else ()
        for param, value in zip(plain, values, strict=True):
            result[param.name] = _normalise(value, param.abi_type)
        return result


def event(name: str, *params: tuple[str, str] | tuple[str, str, bool]) -> Event:
    """Shorthand: ``event("SessionOpened", ("address", "user", True), ...)``."""
    return Event(name, tuple(EventParam(p[0], p[1], bool(p[2]) if len(p) > 2 else False) for p in params))
