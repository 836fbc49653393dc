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
        buffer = self._buffer + self._utf8.decode(chunk)
        events: list[str] = []
        pos = 0
        # Walk the buffer with an index and cut it once at the end: one read holds hundreds of events.
        # The next "\r" is remembered, so LF-only streams are not rescanned for it on every line.
        cr = buffer.find("\r")
        while True:
            if cr != -1 and cr < pos:
                cr = buffer.find("\r", pos)
            lf = buffer.find("\n", pos)
            if cr == -1 or (lf != -1 and lf < cr):
                if lf == -1:
                    break
                line, pos = buffer[pos:lf], lf + 1
            elif cr + 1 == len(buffer):
                break  # a "\r" at the very end may be the first half of "\r\n": wait for the next read
            else:
                line, pos = buffer[pos:cr], cr + (2 if buffer[cr + 1] == "\n" else 1)
            if line == "":
                if self._has_data:
                    events.append("\n".join(self._data_lines))
                self._data_lines = []
                self._has_data = False
            else:
                self._field(line)
        self._buffer = buffer[pos:]
        return events

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
