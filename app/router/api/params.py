"""Request parsing for the API: JSON bodies, typed fields, hex ids, addresses, amounts, paging; bad → 400."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from eth_utils.address import to_checksum_address

from app.errors import ApiError

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_UINT = re.compile(r"^[0-9]{1,78}$")
MAX_UINT256 = 2**256 - 1


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; ApiError 400 if it is missing, not JSON or not an object."""
    try:
        text = await request.text()
    except UnicodeDecodeError as e:
        raise ApiError("request body must be UTF-8 JSON") from e
    if not text.strip():
        raise ApiError("request body is empty: send a JSON object")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ApiError(f"request body is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from e
    if not isinstance(data, dict):
        raise ApiError("request body must be a JSON object")
    return data


def require(body: dict[str, Any], key: str) -> Any:
    """``body[key]``; ApiError 400 naming the field if it is absent or null."""
    value = body.get(key)
    if value is None:
        raise ApiError(f"field {key!r} is required")
    return value


def text_field(body: dict[str, Any], key: str, *, required: bool = True, max_len: int = 4096) -> str:
    """A string field (ApiError 400 if required and missing, not a string, or too long)."""
    value = require(body, key) if required else body.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApiError(f"field {key!r} must be a string")
    if len(value) > max_len:
        raise ApiError(f"field {key!r} is longer than {max_len} characters")
    return value


def bool_field(body: dict[str, Any], key: str, default: bool = False) -> bool:
    """A boolean field (absent → ``default``)."""
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError(f"field {key!r} must be true or false")
    return value


def uint(value: Any, what: str, *, maximum: int = MAX_UINT256) -> int:
    """A non-negative integer from a JSON number or a decimal string (Go's lib.BigInt accepts both)."""
    if isinstance(value, bool):
        raise ApiError(f"{what} must be a whole number, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _UINT.match(value.strip()):
        number = int(value.strip())
    else:
        raise ApiError(f"{what} must be a non-negative whole number (decimal wei), got {value!r:.80}")
    if number < 0 or number > maximum:
        raise ApiError(f"{what} must be between 0 and {maximum}")
    return number


def uint_field(body: dict[str, Any], key: str, *, maximum: int = MAX_UINT256) -> int:
    """A required non-negative integer field."""
    return uint(require(body, key), f"field {key!r}", maximum=maximum)


def hex32(value: Any, what: str) -> bytes:
    """32 bytes from ``0x`` + 64 hex characters."""
    if not isinstance(value, str) or not _HEX32.match(value):
        raise ApiError(f"{what} must be 0x followed by 64 hex characters, got {str(value)!r:.80}")
    return bytes.fromhex(value[2:])


def address(value: Any, what: str) -> str:
    """A checksummed address (what the chain layer expects) from ``0x`` + 40 hex characters in any case."""
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ApiError(f"{what} must be an address: 0x followed by 40 hex characters, got {str(value)!r:.80}")
    return str(to_checksum_address(value))


def hex_bytes(value: Any, what: str, *, max_len: int = 4096) -> bytes:
    """Bytes from hex text with or without ``0x``."""
    if not isinstance(value, str):
        raise ApiError(f"{what} must be hex text")
    raw = value[2:] if value.startswith(("0x", "0X")) else value
    if len(raw) > 2 * max_len:
        raise ApiError(f"{what} is too long")
    try:
        return bytes.fromhex(raw)
    except ValueError as e:
        raise ApiError(f"{what} must be hex text (0-9, a-f), got {value!r:.80}") from e


def path_hex32(request: web.Request, name: str = "id") -> bytes:
    """A 32-byte id from the URL path."""
    return hex32(request.match_info.get(name, ""), f"path parameter {name!r}")


def path_address(request: web.Request, name: str = "id") -> str:
    """An address from the URL path."""
    return address(request.match_info.get(name, ""), f"path parameter {name!r}")


def query_address(request: web.Request, name: str) -> str:
    """A required address query parameter."""
    value = request.query.get(name)
    if value is None:
        raise ApiError(f"query parameter {name!r} is required")
    return address(value, f"query parameter {name!r}")


@dataclass(frozen=True)
class Paging:
    """``offset``, ``limit`` (0 = everything where allowed) and ``order`` (asc by default; upstream's [AVOID] bug
    returned descending lists for the default)."""

    offset: int
    limit: int
    descending: bool

    def apply(self, items: list[Any]) -> list[Any]:
        """The page of ``items`` (which are in ascending on-chain order)."""
        ordered = list(reversed(items)) if self.descending else list(items)
        end = None if self.limit == 0 else self.offset + self.limit
        return ordered[self.offset : end]


def paging(request: web.Request, *, default_limit: int | None = 10) -> Paging:
    """Parse ``offset``/``limit``/``order``; ``default_limit=None`` means no default (0 = all, as upstream)."""
    q = request.query
    offset = uint(q.get("offset", "0"), "query parameter 'offset'", maximum=2**63 - 1)
    raw_limit = q.get("limit")
    # Upstream parses limit as uint8.
    limit = (default_limit or 0) if raw_limit is None else uint(raw_limit, "query parameter 'limit'", maximum=255)
    order = q.get("order", "asc").lower()
    if order not in ("asc", "desc"):
        raise ApiError("query parameter 'order' must be asc or desc")
    return Paging(offset, limit, order == "desc")
