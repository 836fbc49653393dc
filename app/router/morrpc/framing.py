"""MOR-RPC framing: JSON objects back to back on a TCP stream, with no separators and a size cap.

:class:`MessageDecoder` is fed raw bytes as they arrive and returns each complete object. It finds
object boundaries with a small byte scanner (strings, escapes and nesting tracked across reads, so an
object or a multi-byte UTF-8 character may be split anywhere), refuses an object before it grows past
``max_size``, and only then hands the complete bytes to the JSON parser. Every failure is a
:class:`MorRpcProtocolError`; after one the decoder refuses further input (close the connection).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from app.router.morrpc.exceptions import MorRpcProtocolError, MorRpcTimeoutError
from app.router.morrpc.gojson import GoNumber

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "MessageDecoder", "decode_object", "read_messages", "write_message"]

# A stream chunk carries 1 MiB as base64 (~1.4 MB) plus the envelope; leave room above that.
DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024
MAX_DEPTH = 512
_READ_SIZE = 64 * 1024

_WHITESPACE = b" \t\r\n"
_IN_STRUCTURE = re.compile(rb'["{}\[\]]')  # the only bytes that matter outside a string
_IN_STRING = re.compile(rb'["\\]')  # the only bytes that matter inside a string


def _parse_int(text: str) -> int | GoNumber:
    # Keep "-0" literal: it is not the same token as "0" when re-encoded.
    return GoNumber(text) if text == "-0" else int(text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_float=GoNumber, parse_int=_parse_int, parse_constant=_reject_constant)


def decode_object(data: bytes) -> dict[str, Any]:
    """Parse one complete JSON object from bytes (invalid UTF-8 kept as lone surrogates, as Go keeps bytes).

    Non-integer numbers become :class:`GoNumber` (their literal text), so a raw value re-encodes as sent.
    """
    try:
        text = data.decode("utf-8", "surrogateescape")
        value, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError) as e:
        raise MorRpcProtocolError("The peer sent a message that is not valid JSON.") from e
    if text[end:].strip(" \t\r\n"):
        raise MorRpcProtocolError("The peer sent trailing bytes after a JSON message.")
    if not isinstance(value, dict):
        raise MorRpcProtocolError("The peer sent a JSON value that is not an object.")
    return value


class MessageDecoder:
    """Incremental decoder for concatenated JSON objects; feed bytes, get complete objects."""

    __slots__ = ("_buf", "_depth", "_failed", "_in_string", "_max_size", "_pos", "_start")

    def __init__(self, max_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._max_size = max_size
        self._buf = bytearray()
        self._start = -1  # offset of the current object's '{' in _buf, -1 between objects
        self._pos = 0  # scan position in _buf
        self._depth = 0
        self._in_string = False
        self._failed = False

    @property
    def has_partial(self) -> bool:
        """True while an object has started but not finished (EOF now would cut it off)."""
        return self._start >= 0

    def _fail(self, message: str) -> MorRpcProtocolError:
        self._failed = True
        self._buf.clear()
        return MorRpcProtocolError(message)

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Add bytes from the stream; return the objects completed by them, in order."""
        if self._failed:
            raise MorRpcProtocolError("The MOR-RPC stream already failed; the connection must be closed.")
        self._buf += data
        out: list[dict[str, Any]] = []
        try:
            self._scan(out)
        except MorRpcProtocolError:
            self._failed = True
            self._buf.clear()
            raise
        return out

    def _scan(self, out: list[dict[str, Any]]) -> None:
        buf = self._buf
        while True:
            if self._start < 0:
                # Between objects: skip whitespace, then the next byte must open an object.
                pos = self._pos
                while pos < len(buf) and buf[pos] in _WHITESPACE:
                    pos += 1
                if pos >= len(buf):
                    del buf[:]
                    self._pos = 0
                    return
                if buf[pos] != 0x7B:  # '{'
                    raise self._fail("The peer sent bytes that are not a JSON object.")
                self._start = pos
                self._pos = pos + 1
                self._depth = 1
            if self._advance():
                end = self._pos
                out.append(decode_object(bytes(buf[self._start : end])))
                del buf[:end]
                self._start = -1
                self._pos = 0
                continue
            if len(buf) - self._start > self._max_size:
                raise self._fail(f"The peer sent a message larger than the {self._max_size}-byte limit.")
            return

    def _advance(self) -> bool:
        """Scan from ``_pos``; True when the current object closed (``_pos`` just past it)."""
        buf = self._buf
        pos = self._pos
        limit = self._start + self._max_size + 1
        while True:
            if self._in_string:
                match = _IN_STRING.search(buf, pos)
                if match is None:
                    self._pos = len(buf)
                    return False
                pos = match.start()
                if buf[pos] == 0x5C:  # backslash: skip the escaped byte (maybe not yet received)
                    if pos + 1 >= len(buf):
                        self._pos = pos
                        return False
                    pos += 2
                    continue
                self._in_string = False
                pos += 1
                continue
            match = _IN_STRUCTURE.search(buf, pos)
            if match is None:
                self._pos = len(buf)
                return False
            pos = match.start()
            if pos >= limit:
                self._pos = pos
                return False
            char = buf[pos]
            pos += 1
            if char == 0x22:  # '"'
                self._in_string = True
            elif char in (0x7B, 0x5B):  # '{' '['
                self._depth += 1
                if self._depth > MAX_DEPTH:
                    raise self._fail("The peer sent a message nested too deeply.")
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._pos = pos
                    return True


async def read_messages(
    reader: asyncio.StreamReader,
    *,
    max_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    first_byte_timeout: float | None = None,
    idle_timeout: float | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Yield each JSON object the peer sends until it closes the connection.

    ``first_byte_timeout`` bounds the wait for the first byte, ``idle_timeout`` every later wait
    (``None`` = no limit). EOF in the middle of an object is a protocol error.

    Raises:
        MorRpcTimeoutError: the peer stayed silent for too long.
        MorRpcProtocolError: the bytes are not a stream of JSON objects within the size limit.
    """
    decoder = MessageDecoder(max_size)
    timeout = first_byte_timeout
    while True:
        try:
            async with asyncio.timeout(timeout):
                data = await reader.read(_READ_SIZE)
        except TimeoutError:
            waited = "the first byte" if timeout is first_byte_timeout else "more data"
            raise MorRpcTimeoutError(
                f"The MOR-RPC peer did not send {waited} within {timeout} s; it may be overloaded or offline."
            ) from None
        if not data:
            if decoder.has_partial:
                raise MorRpcProtocolError("The peer closed the connection in the middle of a message.")
            return
        timeout = idle_timeout
        for message in decoder.feed(data):
            yield message


async def write_message(writer: asyncio.StreamWriter, message: bytes) -> None:
    """Write one encoded message (no separator, as Go does) and wait until it is flushed."""
    writer.write(message)
    await writer.drain()
