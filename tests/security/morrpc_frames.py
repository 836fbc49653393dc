"""Hypothesis strategies for hostile MOR-RPC frames, and the one rule every answer to them must follow."""

from __future__ import annotations

import json
import socket
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as seed_
from hypothesis import strategies as st

from app.router.morrpc.envelope import encode_request, parse_response
from app.router.morrpc.framing import MessageDecoder
from app.router.morrpc.messages import PingReq

FIELDS = ["nonce", "signature", "user", "key", "spend", "timestamp", "bidid", "sessionid", "message", "streamid",
          "approval", "approvalSig", "pubKey"]
METHODS = ["network.ping", "session.request", "session.prompt", "session.report", "agent.get_tools",
           "agent.call_tool", "session.stream.start", ""]
HEXES = ["0x", "0x00", "0x" + "ab" * 8, "0x" + "ab" * 20, "0x" + "ab" * 32, "0x04" + "cd" * 64, "0x" + "ef" * 65,
         "0xzz", "ab" * 32]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60) | st.sampled_from(HEXES),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner,
                                                                 max_size=5),
    max_leaves=8,
)  # fmt: skip
envelopes = st.fixed_dictionaries(
    {"id": json_values, "method": st.sampled_from(METHODS) | st.text(max_size=24)},
    optional={"params": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8) | json_values,
              "extra": json_values},
).map(lambda d: json.dumps(d).encode())


def _cut(parts: tuple[bytes, int]) -> bytes:
    frame, at = parts
    return frame[: at % (len(frame) + 1)]


def _mutate(parts: tuple[bytes, int, bytes]) -> bytes:
    frame, at, junk = parts
    at %= max(len(frame), 1)
    return frame[:at] + junk + frame[at + len(junk):]


frames = st.one_of(
    envelopes,
    st.binary(max_size=400),
    st.tuples(envelopes, st.integers(0, 2**16)).map(_cut),  # cut off anywhere
    st.tuples(envelopes, st.integers(0, 2**16), st.binary(min_size=1, max_size=4)).map(_mutate),  # bytes flipped
    st.sampled_from([b"{" * 5000, b"[" * 5000 + b"]" * 5000, b'{"id":"1","method":"network.ping","params":' * 200,
                     b'"' + b"\\u0000" * 3000 + b'"', b"\xef\xbb\xbf{}", b"{}", b"null", b"[]", b" " * 100]),
    st.lists(envelopes, min_size=2, max_size=4).map(b"".join),  # several objects on one connection
)


def generate(count: int, seed: int | None = None) -> list[bytes]:
    """``count`` frames drawn by Hypothesis (its generation is the slow part: draw once, send many times)."""
    drawn: list[bytes] = []

    @settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(frames)
    def draw(frame: bytes) -> None:
        drawn.append(frame)

    (seed_(seed)(draw) if seed is not None else draw)()
    return drawn


def send_frame(port: int, frame: bytes, timeout: float = 10.0) -> bytes:
    """One connection: the frame, then our write side closed; everything the server says until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(frame)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may refuse early (oversize) and reset; what it sent is still read below
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def check_answer(frame: bytes, answer: bytes) -> str:
    """Nothing (closed) or exactly one response envelope: an error, or a pong to a ping. Returns which."""
    if not answer:
        return "closed"
    objects = MessageDecoder().feed(answer)
    assert len(objects) == 1, (frame[:200], answer[:400])
    response = parse_response(objects[0])
    if response.error is not None:
        assert response.error.message, (frame[:200], answer[:400])  # says what was wrong
        return "error"
    method = _method_of(frame)
    assert method == "network.ping", (frame[:200], answer[:400])  # only a ping can succeed without a session
    return "result"


def _method_of(frame: bytes) -> Any:
    """The method of the frame's first JSON object (the only one the server reads), else None."""
    try:
        objects = MessageDecoder().feed(frame)
    except Exception:  # malformed: no method at all
        return None
    return objects[0].get("method") if objects else None


def valid_ping(nonce: bytes) -> bytes:
    return encode_request("0", "network.ping", PingReq(nonce=nonce))


def pong_nonce(answer: bytes) -> str:
    [obj] = MessageDecoder().feed(answer)
    return str(obj["result"]["nonce"])
