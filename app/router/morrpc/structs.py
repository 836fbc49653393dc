"""Typed Go structs: field kinds, Go-exact encoding in declared field order, and strict parsing.

A message class lists its JSON fields once, in Go's struct-field order, as :class:`Field` specs; the
base class :class:`GoStruct` derives encoding (``json.Marshal``-identical), the bytes to sign (the same
with the signature cleared) and validated parsing from a decoded JSON object (unknown keys ignored
and keys matched case-insensitively, as Go does).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable
from typing import Any, ClassVar, Self

from eth_utils.address import to_checksum_address

from app.router.morrpc import gojson
from app.router.morrpc.exceptions import MorRpcProtocolError

__all__ = ["Field", "GoStruct", "Kind", "parse_hex"]

_UINT64_MAX = (1 << 64) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT256_MAX = (1 << 256) - 1
_HEX_BODY = re.compile(r"[0-9a-fA-F]+")
_DECIMAL = re.compile(r"[0-9]{1,78}")
_ADDRESS = re.compile(r"(?:0[xX])?[0-9a-fA-F]{40}")


class Kind(enum.Enum):
    """How a field is represented in Python and on the wire."""

    HEX = "hex"  # bytes ↔ "0x…" lower-case (lib.HexString); incoming 0x optional, odd length padded
    HASH = "hash"  # 32 bytes ↔ "0x" + 64 hex (common.Hash)
    ADDRESS = "address"  # checksummed str ↔ lower-case "0x" + 40 hex (common.Address)
    BIGINT = "bigint"  # int ≥ 0 ↔ decimal string (lib.BigInt)
    UINT64 = "uint64"  # int ↔ JSON number
    INT64 = "int64"  # int ↔ JSON number
    BOOL = "bool"
    STRING = "string"
    RAW = "raw"  # any JSON value ↔ its Go compaction (json.RawMessage)


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    """One JSON field of a Go struct: its key, Python attribute, kind and ``omitempty`` flag."""

    key: str
    attr: str
    kind: Kind
    omitempty: bool = False
    max_len: int | None = None  # for HEX: the most bytes accepted
    exact_len: int | None = None  # for HEX: the only length accepted (when non-empty)
    optional: bool = False  # may be missing on input even though it is always encoded


def parse_hex(text: str, what: str = "value") -> bytes:
    """Decode hex as Go's ``lib.HexString`` does: ``0x`` optional, odd length zero-padded, empty → b''."""
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if not body:
        return b""
    if _HEX_BODY.fullmatch(body) is None:
        raise MorRpcProtocolError(f"The peer sent {what} that is not hexadecimal.", what)
    if len(body) % 2:
        body = "0" + body
    return bytes.fromhex(body)


def _fail(field: str, problem: str) -> MorRpcProtocolError:
    return MorRpcProtocolError(f"The peer sent a malformed message: field {field!r} {problem}.", field)


def _parse_field(spec: Field, raw: Any, where: str) -> Any:
    name = f"{where}.{spec.key}"
    kind = spec.kind
    if kind is Kind.RAW:
        return raw
    if kind is Kind.BOOL:
        if not isinstance(raw, bool):
            raise _fail(name, "must be true or false")
        return raw
    if kind in (Kind.UINT64, Kind.INT64):
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise _fail(name, "must be a whole JSON number")
        low, high = (0, _UINT64_MAX) if kind is Kind.UINT64 else (_INT64_MIN, _INT64_MAX)
        if not low <= raw <= high:
            raise _fail(name, "is out of range")
        return raw
    if kind is Kind.BIGINT:
        # lib.BigInt accepts a quoted or a bare decimal number.
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and _DECIMAL.fullmatch(raw):
            value = int(raw)
        else:
            raise _fail(name, "must be a non-negative decimal integer")
        if not 0 <= value <= _UINT256_MAX:
            raise _fail(name, "is out of range")
        return value
    if not isinstance(raw, str):
        raise _fail(name, "must be a string")
    if kind is Kind.STRING:
        return gojson.normalize_go_string(raw)
    if kind is Kind.ADDRESS:
        if _ADDRESS.fullmatch(raw) is None:
            raise _fail(name, "must be a 20-byte hex address")
        return to_checksum_address("0x" + raw[-40:].lower())
    if kind is Kind.HASH:
        body = raw[2:] if raw[:2] in ("0x", "0X") else raw
        if len(body) != 64 or _HEX_BODY.fullmatch(body) is None:
            raise _fail(name, "must be 32 bytes of hex")
        return bytes.fromhex(body)
    # Kind.HEX
    if spec.max_len is not None and len(raw) > 2 * spec.max_len + 2:
        raise _fail(name, f"is longer than {spec.max_len} bytes")
    data = parse_hex(raw, name)
    if spec.max_len is not None and len(data) > spec.max_len:
        raise _fail(name, f"is longer than {spec.max_len} bytes")
    if spec.exact_len is not None and data and len(data) != spec.exact_len:
        raise _fail(name, f"must be exactly {spec.exact_len} bytes")
    return data


def _check_value(cls_name: str, spec: Field, value: Any) -> None:
    """Reject values a Go struct could not hold, so we never sign or send something malformed."""
    kind = spec.kind
    ok: bool
    if kind in (Kind.HEX, Kind.HASH):
        ok = isinstance(value, bytes) and (kind is Kind.HEX or len(value) == 32)
    elif kind is Kind.ADDRESS:
        ok = isinstance(value, str) and _ADDRESS.fullmatch(value) is not None
    elif kind is Kind.BIGINT:
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _UINT256_MAX
    elif kind is Kind.UINT64:
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _UINT64_MAX
    elif kind is Kind.INT64:
        ok = isinstance(value, int) and not isinstance(value, bool) and _INT64_MIN <= value <= _INT64_MAX
    elif kind is Kind.BOOL:
        ok = isinstance(value, bool)
    elif kind is Kind.STRING:
        ok = isinstance(value, str | bytes)
    else:
        ok = True
    if not ok:
        raise TypeError(f"{cls_name}.{spec.attr}: {value!r} is not a valid {kind.value}")


def _enc_hex(value: bytes) -> str:
    return '"0x' + value.hex() + '"'


def _enc_int(value: int) -> str:
    return str(value)


def _enc_bigint(value: int) -> str:
    return '"' + str(value) + '"'


def _enc_bool(value: bool) -> str:
    return "true" if value else "false"


def _enc_address(value: str) -> str:
    return '"0x' + value[-40:].lower() + '"'


def _enc_raw(value: Any) -> str:
    return gojson.encode_value(value).decode("utf-8")


_ENCODERS: dict[Kind, Callable[[Any], str]] = {
    Kind.HEX: _enc_hex,
    Kind.HASH: _enc_hex,
    Kind.ADDRESS: _enc_address,
    Kind.BIGINT: _enc_bigint,
    Kind.UINT64: _enc_int,
    Kind.INT64: _enc_int,
    Kind.BOOL: _enc_bool,
    Kind.STRING: gojson.encode_string_text,
    Kind.RAW: _enc_raw,
}

_ZERO: dict[Kind, Any] = {
    Kind.HEX: b"",
    Kind.HASH: bytes(32),
    Kind.ADDRESS: "0x" + "0" * 40,
    Kind.BIGINT: 0,
    Kind.UINT64: 0,
    Kind.INT64: 0,
    Kind.BOOL: False,
    Kind.STRING: "",
    Kind.RAW: None,
}


def _fold(key: str) -> str:
    """Go's case-insensitive key match: ASCII case, plus U+017F (ſ) ≡ s and U+212A (Kelvin) ≡ k."""
    return key.lower().replace("\u017f", "s")


def _is_empty(value: Any) -> bool:
    # Go's omitempty: false, 0, "", empty slice, nil.
    return value is None or value is False or value == 0 or (isinstance(value, str | bytes) and not value)


class GoStruct:
    """Base of every MOR-RPC message: subclasses are frozen dataclasses that set ``FIELDS``.

    Class attributes:
        FIELDS: the JSON fields in Go struct order.
        METHOD: the MOR-RPC method this struct is the params or result of ("" if none).
    """

    __slots__ = ()
    FIELDS: ClassVar[tuple[Field, ...]] = ()
    METHOD: ClassVar[str] = ""
    _BY_KEY: ClassVar[dict[str, Field]]
    _BY_FOLDED: ClassVar[dict[str, Field]]
    _PLAN: ClassVar[tuple[tuple[str, str, Callable[[Any], str], bool], ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._BY_KEY = {f.key: f for f in cls.FIELDS}
        cls._BY_FOLDED = {_fold(f.key): f for f in reversed(cls.FIELDS)}
        # (attr, '"key":', encoder, omitempty) precomputed: encoding runs once per streamed chunk.
        cls._PLAN = tuple(
            (f.attr, gojson.encode_string_text(f.key) + ":", _ENCODERS[f.kind], f.omitempty) for f in cls.FIELDS
        )

    def __post_init__(self) -> None:
        for spec in self.FIELDS:
            value = getattr(self, spec.attr)
            _check_value(type(self).__name__, spec, value)
            if spec.kind is Kind.ADDRESS:
                # One canonical form in memory (checksummed) so equal messages compare equal.
                object.__setattr__(self, spec.attr, to_checksum_address(value))

    def _encode(self, *, clear_signature: bool) -> bytes:
        parts: list[str] = []
        for attr, prefix, encoder, omitempty in self._PLAN:
            value = getattr(self, attr)
            if clear_signature and attr == "signature":
                value = b""
            if omitempty and _is_empty(value):
                continue
            parts.append(prefix + encoder(value))
        return ("{" + ",".join(parts) + "}").encode("utf-8")

    def to_json(self) -> bytes:
        """The exact bytes Go's ``json.Marshal`` produces for this struct."""
        return self._encode(clear_signature=False)

    def signing_bytes(self) -> bytes:
        """The bytes that are signed: the encoding with ``signature`` cleared (omitted if omitempty)."""
        return self._encode(clear_signature=True)

    def with_signature(self, signature: bytes) -> Self:
        """A copy carrying ``signature``."""
        return dataclasses.replace(self, signature=signature)  # type: ignore[type-var]

    @classmethod
    def from_obj(cls, obj: Any, where: str = "params") -> Self:
        """Parse a decoded JSON object into this struct, or raise MorRpcProtocolError naming the field."""
        if not isinstance(obj, dict):
            raise MorRpcProtocolError(f"The peer sent a malformed message: {where!r} must be a JSON object.", where)
        values: dict[str, Any] = {}
        for key, raw in obj.items():
            spec = cls._BY_KEY.get(key) or cls._BY_FOLDED.get(_fold(key))
            if spec is None or raw is None:
                continue  # Go ignores unknown keys, and null leaves a field at its zero value
            values[spec.attr] = _parse_field(spec, raw, where)
        for spec in cls.FIELDS:
            if spec.attr not in values:
                if not (spec.omitempty or spec.optional):
                    raise _fail(f"{where}.{spec.key}", "is missing")
                values[spec.attr] = _ZERO[spec.kind]
        return cls(**values)
