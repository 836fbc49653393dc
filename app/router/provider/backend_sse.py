"""An incremental Server-Sent Events decoder: bytes in, complete ``data`` payloads out."""

from __future__ import annotations

import codecs


class SSEDecoder:
    """Decodes a ``text/event-stream`` body fed in arbitrary pieces (WHATWG SSE parsing rules).

    Handles events split across reads (even inside a multi-byte UTF-8 character), ``\\n``, ``\\r\\n``
    and bare ``\\r`` line ends (sse-starlette, used by llama-cpp-python's server, writes ``\\r\\n``),
    ``:`` comment lines used as keep-alives, fields other than ``data`` (ignored) and multi-line data
    (joined with ``\\n``). Only the ``data`` of each event matters to an OpenAI-style stream.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data_lines: list[str] = []
        self._has_data = False

    def feed(self, chunk: bytes) -> list[str]:
        """Consume ``chunk`` and return the data of every event it completed, in order."""
        self._buffer += self._utf8.decode(chunk)
        events: list[str] = []
        while True:
            line, found = self._next_line()
            if not found:
                return events
            if line == "":
                if self._has_data:
                    events.append("\n".join(self._data_lines))
                self._data_lines = []
                self._has_data = False
            else:
                self._field(line)

    def _next_line(self) -> tuple[str, bool]:
        buffer = self._buffer
        cr, lf = buffer.find("\r"), buffer.find("\n")
        if cr == -1 and lf == -1:
            return "", False
        if cr == -1 or (lf != -1 and lf < cr):
            self._buffer = buffer[lf + 1 :]
            return buffer[:lf], True
        # A "\r" at the very end may be the first half of "\r\n": wait for the next read.
        if cr + 1 == len(buffer):
            return "", False
        skip = 2 if buffer[cr + 1] == "\n" else 1
        self._buffer = buffer[cr + skip :]
        return buffer[:cr], True

    def _field(self, line: str) -> None:
        if line.startswith(":"):
            return  # comment / keep-alive
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data_lines.append(value)
            self._has_data = True

    @property
    def pending(self) -> bool:
        """True when bytes of an unfinished event are buffered (the stream was cut mid-event)."""
        return bool(self._buffer.strip()) or self._has_data
