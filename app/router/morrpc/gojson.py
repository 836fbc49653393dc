"""A Go ``encoding/json``-compatible encoder: byte-identical output for the values MOR-RPC signs.

Go's ``json.Marshal`` differs from Python's ``json.dumps`` in ways that change signatures: it escapes
``<``, ``>``, ``&``, U+2028 and U+2029, uses short escapes for ``\\b``/``\\f`` (Go ≥ 1.22), emits other
non-ASCII as raw UTF-8, leaves DEL raw, writes every invalid UTF-8 byte as ``\\ufffd``, and writes no
whitespace. This module reproduces that, plus Go's float formatting and ``json.RawMessage`` compaction.

Strings: a Python ``str`` may carry invalid UTF-8 bytes as lone surrogates (the ``surrogateescape``
convention); each lone surrogate is written as ``\\ufffd``, as Go does for each invalid byte. A
``bytes`` value is treated as a Go string holding those raw bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "GoNumber",
    "encode_float",
    "encode_string",
    "encode_string_text",
    "encode_value",
    "normalize_go_string",
]

_HEX = "0123456789abcdef"

# Characters Go escapes inside a string when escapeHTML is on (json.Marshal always sets it), plus the
# surrogate range, which can only come from invalid UTF-8 (surrogateescape) and becomes \ufffd.
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for code in range(0x20):
        table[chr(code)] = "\\u00" + _HEX[code >> 4] + _HEX[code & 0xF]
    table.update({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
    table.update({'"': '\\"', "\\": "\\\\", "<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
    table.update({"\u2028": "\\u2028", "\u2029": "\\u2029"})
    return table


_ESCAPES = _escape_table()


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    # Anything not in the table is a lone surrogate: one invalid UTF-8 byte in Go's view.
    return _ESCAPES.get(char, "\\ufffd")


class GoNumber(str):
    """A JSON number kept as its literal text, so re-encoding a parsed value reproduces it exactly.

    The framing decoder parses every non-integer number into this type (Go's ``RawMessage``
    compaction keeps number literals as sent; a float round trip would not).
    """

    __slots__ = ()


def encode_string_text(value: str | bytes) -> str:
    """Go's quoted form of a string, as ``str`` (no surrogates left, so it always encodes to UTF-8)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    if _NEEDS_ESCAPE.search(value) is None:
        return '"' + value + '"'
    return '"' + _NEEDS_ESCAPE.sub(_replace, value) + '"'


def encode_string(value: str | bytes) -> bytes:
    """Go's quoted, escaped UTF-8 encoding of a string (``json.Marshal(string)``)."""
    return encode_string_text(value).encode("utf-8")


def normalize_go_string(value: str) -> str:
    """Turn a string as Python's json decoder produced it into the string Go's decoder would hold.

    Go replaces each invalid UTF-8 byte and each unpaired surrogate escape by U+FFFD while decoding.
    """
    if _LONE_SURROGATE.search(value) is None:
        return value
    return _LONE_SURROGATE.sub("\ufffd", value)


def encode_float(value: float) -> str:
    """Go's ``json.Marshal(float64)``: shortest round-trip digits, 'f' form for 1e-6 ≤ |x| < 1e21."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"Go's JSON encoder refuses the float {value!r}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    text = repr(value)
    magnitude = abs(value)
    if 1e-6 <= magnitude < 1e21:
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        if text.endswith(".0"):
            text = text[:-2]
        return text
    # Python's repr is already exponential here, with a 2-digit minimum exponent like Go's 'e' format.
    mantissa, _, exponent = text.partition("e")
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    if exponent.startswith("-0") and len(exponent) == 3:
        exponent = "-" + exponent[2]  # Go cleans up e-07 to e-7 (but keeps e+07)
    return mantissa + "e" + exponent


def _encode_into(parts: list[str], value: Any, sort_keys: bool, depth: int) -> None:
    if depth > 10_000:
        raise ValueError("value nested too deeply to encode")
    kind = type(value)
    # Exact-type checks first: this runs for every streamed chunk, and ABC isinstance checks are slow.
    if kind is str:
        parts.append(encode_string_text(value))
    elif kind is dict:
        _encode_object(parts, value, sort_keys, depth)
    elif kind is list:
        _encode_array(parts, value, sort_keys, depth)
    elif kind is int:
        parts.append(str(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(value if isinstance(value, GoNumber) else encode_string_text(value))
    elif isinstance(value, int):
        parts.append(str(int(value)))
    elif isinstance(value, float):
        parts.append(encode_float(value))
    elif isinstance(value, bytes):
        parts.append(encode_string_text(value))
    elif isinstance(value, Mapping):
        _encode_object(parts, value, sort_keys, depth)
    elif isinstance(value, Sequence):
        _encode_array(parts, value, sort_keys, depth)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as Go JSON")


def _encode_object(parts: list[str], value: Mapping[Any, Any], sort_keys: bool, depth: int) -> None:
    items = sorted(value.items()) if sort_keys else value.items()
    parts.append("{")
    first = True
    for key, item in items:
        if not isinstance(key, str):
            raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
        if not first:
            parts.append(",")
        first = False
        parts.append(encode_string_text(key))
        parts.append(":")
        _encode_into(parts, item, sort_keys, depth + 1)
    parts.append("}")


def _encode_array(parts: list[str], value: Sequence[Any], sort_keys: bool, depth: int) -> None:
    parts.append("[")
    for index, item in enumerate(value):
        if index:
            parts.append(",")
        _encode_into(parts, item, sort_keys, depth + 1)
    parts.append("]")


def encode_value(value: Any, *, sort_keys: bool = False) -> bytes:
    """Encode a JSON value (dict/list/str/int/float/bool/None/GoNumber) the way Go would.

    Object keys keep their insertion order, as ``json.RawMessage`` compaction keeps the order as sent;
    pass ``sort_keys=True`` for the order Go uses when marshalling a ``map[string]…``.
    """
    parts: list[str] = []
    _encode_into(parts, value, sort_keys, 0)
    return "".join(parts).encode("utf-8")
