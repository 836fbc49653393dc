"""Go encoding/json compatibility of the string, number and value encoder.

Expected bytes are derived by hand from Go's ``appendString`` (encoding/json/encode.go, Go 1.25) as
summarised in spec §4.2: ASCII except ``"`` ``\\`` ``<`` ``>`` ``&`` and controls is copied; ``\\b \\f \\n
\\r \\t \\" \\\\`` are short escapes; other controls are ``\\u00`` + two lower-case hex digits; ``<>&`` become
``\\u003c \\u003e \\u0026``; U+2028/U+2029 become ``\\u2028``/``\\u2029``; other valid UTF-8 (including
DEL and U+FFFD itself) is copied raw; each byte that does not start a valid UTF-8 sequence becomes
the six characters ``\\ufffd``.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.router.morrpc.gojson import GoNumber, encode_float, encode_string, encode_value, normalize_go_string


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain ascii 123", b'"plain ascii 123"'),
        ("a<b>c&d", b'"a\\u003cb\\u003ec\\u0026d"'),
        ("<script>", b'"\\u003cscript\\u003e"'),
        ('quote " backslash \\', b'"quote \\" backslash \\\\"'),
        ("\b\f\n\r\t", b'"\\b\\f\\n\\r\\t"'),
        ("\x00\x01\x1f", b'"\\u0000\\u0001\\u001f"'),
        ("\x0b\x1b", b'"\\u000b\\u001b"'),
        ("del\x7f", b'"del\x7f"'),
        ("line\u2028para\u2029", b'"line\\u2028para\\u2029"'),
        ("caf\u00e9 \u4e2d", b'"caf\xc3\xa9 \xe4\xb8\xad"'),
        ("\U0001f600", b'"\xf0\x9f\x98\x80"'),
        ("\ufffd", b'"\xef\xbf\xbd"'),  # a valid U+FFFD stays raw; only invalid bytes are escaped
        ("/", b'"/"'),  # Go does not escape the solidus
        ("", b'""'),
    ],
)
def test_string_escaping_matches_go(text: str, expected: bytes) -> None:
    assert encode_string(text) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xff", b'"\\ufffd"'),
        (b"a\xc3", b'"a\\ufffd"'),  # truncated 2-byte sequence at the end
        (b"\xe2\x82A", b'"\\ufffd\\ufffdA"'),  # truncated 3-byte sequence: one escape per byte
        (b"\xed\xa0\x80", b'"\\ufffd\\ufffd\\ufffd"'),  # UTF-8-encoded surrogate is invalid
        (b"\xc0\xaf", b'"\\ufffd\\ufffd"'),  # overlong encoding of '/'
        (b"\xf4\x90\x80\x80", b'"\\ufffd\\ufffd\\ufffd\\ufffd"'),  # above U+10FFFF
        (b"ok\xe2\x82\xac<", b'"ok\xe2\x82\xac\\u003c"'),  # valid euro sign then '<'
    ],
)
def test_invalid_utf8_bytes_each_become_one_replacement_escape(raw: bytes, expected: bytes) -> None:
    assert encode_string(raw) == expected


def test_surrogateescaped_str_encodes_like_the_raw_bytes() -> None:
    raw = b"x\xff\xe2\x82y"
    assert encode_string(raw.decode("utf-8", "surrogateescape")) == encode_string(raw)


def test_normalize_turns_lone_surrogates_into_replacement_characters() -> None:
    assert normalize_go_string("a\udc80b\ud800") == "a\ufffdb\ufffd"
    assert normalize_go_string("plain") == "plain"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (123456789.0, "123456789"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-6, "0.0000015"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.2345e-10, "1.2345e-10"),
        (5e300, "5e+300"),
        (0.0, "0"),
        (-0.0, "-0"),
    ],
)
def test_float_formatting_matches_go(value: float, expected: str) -> None:
    # Go: strconv.AppendFloat(f, 'f' if 1e-6 <= |f| < 1e21 else 'e', -1, 64), then e-07 → e-7.
    assert encode_float(value) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused_like_go(value: float) -> None:
    with pytest.raises(ValueError, match="refuses"):
        encode_float(value)


def test_values_compact_in_insertion_order_with_html_escaping() -> None:
    value = {"z": [1, True, None, "<&>"], "a": {"n": GoNumber("2.50"), "f": False}}
    assert encode_value(value) == b'{"z":[1,true,null,"\\u003c\\u0026\\u003e"],"a":{"n":2.50,"f":false}}'


def test_sort_keys_gives_go_map_order() -> None:
    assert encode_value({"b": 1, "a": 2}, sort_keys=True) == b'{"a":2,"b":1}'


def test_unencodable_values_raise_type_error() -> None:
    with pytest.raises(TypeError):
        encode_value({"x": object()})
    with pytest.raises(TypeError):
        encode_value({1: "non-string key"})


def _go_reference(raw: bytes) -> bytes:
    """An independent, byte-at-a-time transcription of Go's appendString, used as the oracle."""
    out = bytearray(b'"')
    short = {0x08: b"\\b", 0x0C: b"\\f", 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t", 0x22: b'\\"', 0x5C: b"\\\\"}
    i = 0
    while i < len(raw):
        b = raw[i]
        if b < 0x80:
            if b in short:
                out += short[b]
            elif b < 0x20 or b in b"<>&":
                out += b"\\u00%02x" % b
            else:
                out.append(b)
            i += 1
            continue
        for size in (2, 3, 4):
            try:
                char = raw[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(char) == 1:
                out += b"\\u%04x" % ord(char) if char in "\u2028\u2029" else raw[i : i + size]
                i += size
                break
        else:
            out += b"\\ufffd"
            i += 1
    return bytes(out + b'"')


@given(st.binary(max_size=64))
def test_byte_strings_encode_like_the_go_reference(raw: bytes) -> None:
    assert encode_string(raw) == _go_reference(raw)


@given(st.text(max_size=64))
def test_text_encodes_like_the_go_reference(text: str) -> None:
    assert encode_string(text) == _go_reference(text.encode("utf-8"))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(_json_values)
def test_encoded_values_decode_back_to_the_same_value(value: object) -> None:
    assert _same(json.loads(encode_value(value)), value)


def _same(a: object, b: object) -> bool:
    """Equality where a float may come back as the int Go's 'f' format spells it (1e20 → 100…0)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(b, float) and isinstance(a, int | float) and not isinstance(a, bool):
        return float(a) == b
    return type(a) is type(b) and a == b


@given(_json_values)
def test_encoding_never_emits_html_sensitive_or_separator_characters(value: object) -> None:
    encoded = encode_value(value)
    text = encoded.decode("utf-8")  # always valid UTF-8
    assert not set("<>&\u2028\u2029") & set(text)
    # Re-encoding is byte-stable. One exception is Python's, not Go's: Go writes -0.0 as "-0" (as we do), and
    # json.loads reads "-0" back as the integer 0, which then encodes as "0".
    if not re.search(r'(?<![\w."])-0(?![\d.eE])', text):
        assert encoded == encode_value(json.loads(text))
