"""Request/response envelopes and the error object, encoded and parsed exactly as Go does.

Wire shapes (keys in this order, no whitespace):
  request   ``{"id":"…","method":"…","params":{…}}``
  response  ``{"id":"…","result":{…}|null,"error":{…}}`` — ``error`` omitted when absent
  error     ``{"message":"…","code":400,"data":{"timestamp":…,"signature":"0x…"|null}}``
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from app.router.morrpc import gojson
from app.router.morrpc.exceptions import MorRpcProtocolError
from app.router.morrpc.structs import GoStruct, parse_hex

__all__ = [
    "RpcErrorObject",
    "RpcRequest",
    "RpcResponse",
    "encode_error",
    "encode_request",
    "encode_result",
    "parse_request",
    "parse_response",
]

_UINT64_MAX = (1 << 64) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_MAX_ID_LEN = 256
_MAX_METHOD_LEN = 128


@dataclass(frozen=True, slots=True)
class RpcRequest:
    """A decoded request envelope; ``params`` is the decoded JSON value (parse it with ``parse_params``)."""

    id: str
    method: str
    params: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class RpcErrorObject:
    """Go's ``RpcError``: ``message``, ``code`` and ``data{timestamp, signature}``.

    ``signature`` is ``None`` for Go's nil pointer (encoded ``null``), else bytes (``b""`` → ``"0x"``).
    """

    message: str
    code: int = 400
    timestamp: int
    signature: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.message, str):
            raise TypeError("RpcErrorObject.message must be a str")
        if isinstance(self.code, bool) or not _INT64_MIN <= self.code <= _INT64_MAX:
            raise TypeError("RpcErrorObject.code must be an int64")
        if isinstance(self.timestamp, bool) or not 0 <= self.timestamp <= _UINT64_MAX:
            raise TypeError("RpcErrorObject.timestamp must be a uint64")

    def _encode(self, signature: bytes | None) -> bytes:
        sig = "null" if signature is None else '"0x' + signature.hex() + '"'
        return (
            '{"message":'
            + gojson.encode_string_text(self.message)
            + ',"code":'
            + str(self.code)
            + ',"data":{"timestamp":'
            + str(self.timestamp)
            + ',"signature":'
            + sig
            + "}}"
        ).encode("utf-8")

    def to_json(self) -> bytes:
        """Go's encoding of this error object."""
        return self._encode(self.signature)

    def signing_bytes(self) -> bytes:
        """What a signed (backend) error's signature covers: the object with ``"signature":"0x"``."""
        return self._encode(b"")

    def signing_bytes_nil(self) -> bytes:
        """The object with ``"signature":null`` (older Go providers signed over the nil pointer)."""
        return self._encode(None)

    def with_signature(self, signature: bytes) -> RpcErrorObject:
        """A copy carrying ``signature``."""
        return dataclasses.replace(self, signature=signature)

    @property
    def is_plaintext(self) -> bool:
        """True for an infrastructure error: signature absent, empty or ``0x00`` (PR #545)."""
        return self.signature is None or self.signature in (b"", b"\x00")

    @classmethod
    def from_obj(cls, obj: Any) -> RpcErrorObject:
        """Parse the ``error`` member of a response."""
        if not isinstance(obj, dict):
            raise MorRpcProtocolError("The peer sent a malformed error: 'error' must be an object.", "error")
        message = obj.get("message")
        code = obj.get("code", 0)
        data = obj.get("data")
        if message is None:
            message = ""
        if not isinstance(message, str):
            raise MorRpcProtocolError(
                "The peer sent a malformed error: 'error.message' must be a string.", "error.message"
            )
        if code is None:
            code = 0
        if not isinstance(code, int) or isinstance(code, bool) or not _INT64_MIN <= code <= _INT64_MAX:
            raise MorRpcProtocolError(
                "The peer sent a malformed error: 'error.code' must be a whole number.", "error.code"
            )
        timestamp = 0
        signature: bytes | None = None
        if data is not None:
            if not isinstance(data, dict):
                raise MorRpcProtocolError(
                    "The peer sent a malformed error: 'error.data' must be an object.", "error.data"
                )
            raw_ts = data.get("timestamp", 0)
            if raw_ts is None:
                raw_ts = 0
            if not isinstance(raw_ts, int) or isinstance(raw_ts, bool) or not 0 <= raw_ts <= _UINT64_MAX:
                raise MorRpcProtocolError(
                    "The peer sent a malformed error: 'error.data.timestamp' is invalid.", "error.data.timestamp"
                )
            timestamp = raw_ts
            raw_sig = data.get("signature")
            if raw_sig is not None:
                if not isinstance(raw_sig, str) or len(raw_sig) > 200:
                    raise MorRpcProtocolError(
                        "The peer sent a malformed error: 'error.data.signature' must be short hex.",
                        "error.data.signature",
                    )
                signature = parse_hex(raw_sig, "error.data.signature")
        return cls(message=gojson.normalize_go_string(message), code=code, timestamp=timestamp, signature=signature)


@dataclass(frozen=True, slots=True)
class RpcResponse:
    """A decoded response envelope: ``result`` is the decoded JSON value or ``None`` (null/absent)."""

    id: str
    result: Any
    error: RpcErrorObject | None


def encode_request(request_id: str, method: str, params: GoStruct) -> bytes:
    """``{"id":…,"method":…,"params":…}`` with the params struct encoded by Go's rules."""
    return (
        b'{"id":'
        + gojson.encode_string(request_id)
        + b',"method":'
        + gojson.encode_string(method)
        + b',"params":'
        + params.to_json()
        + b"}"
    )


def encode_result(request_id: str, result: GoStruct) -> bytes:
    """A success response carrying ``result`` (no ``error`` key)."""
    return b'{"id":' + gojson.encode_string(request_id) + b',"result":' + result.to_json() + b"}"


def encode_error(request_id: str, error: RpcErrorObject) -> bytes:
    """An error response: ``"result":null`` then the error object."""
    return b'{"id":' + gojson.encode_string(request_id) + b',"result":null,"error":' + error.to_json() + b"}"


def _envelope_id(obj: dict[str, Any]) -> str:
    raw = obj.get("id")
    if raw is None:
        return ""  # Go leaves a missing id empty
    if not isinstance(raw, str) or len(raw) > _MAX_ID_LEN:
        raise MorRpcProtocolError("The peer sent a malformed message: 'id' must be a short string.", "id")
    return gojson.normalize_go_string(raw)


def parse_request(obj: Any) -> RpcRequest:
    """Validate a decoded request envelope (params are left for :func:`parse_params`)."""
    if not isinstance(obj, dict):
        raise MorRpcProtocolError("The peer sent a malformed request: it must be a JSON object.")
    request_id = _envelope_id(obj)
    method = obj.get("method")
    if not isinstance(method, str) or not method or len(method) > _MAX_METHOD_LEN:
        raise MorRpcProtocolError("The peer sent a malformed request: 'method' must be a short string.", "method")
    if obj.get("params") is None:
        raise MorRpcProtocolError("The peer sent a malformed request: 'params' is missing.", "params")
    return RpcRequest(request_id, method, obj["params"])


def parse_response(obj: Any) -> RpcResponse:
    """Validate a decoded response envelope (the result is left for ``parse_result``)."""
    if not isinstance(obj, dict):
        raise MorRpcProtocolError("The peer sent a malformed response: it must be a JSON object.")
    raw_error = obj.get("error")
    error = None if raw_error is None else RpcErrorObject.from_obj(raw_error)
    result = obj.get("result")
    if result is None and error is None:
        raise MorRpcProtocolError("The peer sent a response with neither a result nor an error.", "result")
    return RpcResponse(_envelope_id(obj), result, error)
