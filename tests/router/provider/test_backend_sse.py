"""SSEDecoder: the event-stream rules that real servers rely on, independent of how bytes arrive."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from app.router.provider.backend_sse import SSEDecoder

STREAM = (
    ": keep-alive comment\r\n\r\n"
    'data: {"a": "naïve ✓"}\r\n\r\n'
    "event: message\nid: 7\ndata: line one\ndata: line two\n\n"
    "retry: 100\n\n"
    "data:no-space\r\r"
    "data: [DONE]\n\n"
).encode()
EVENTS = ['{"a": "naïve ✓"}', "line one\nline two", "no-space", "[DONE]"]


def test_whole_stream_yields_data_of_each_event() -> None:
    assert SSEDecoder().feed(STREAM) == EVENTS


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30))
def test_any_split_into_reads_yields_the_same_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    decoder = SSEDecoder()
    events = [e for lo, hi in itertools.pairwise(bounds) for e in decoder.feed(STREAM[lo:hi])]
    assert events == EVENTS
    assert not decoder.pending


def test_event_without_its_blank_line_is_held_back_and_reported_pending() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"partial": tr') == []
    assert decoder.pending


def test_carriage_return_at_end_of_read_waits_for_a_following_newline() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\n") == ["x"]


def test_empty_data_field_still_makes_an_event() -> None:
    assert SSEDecoder().feed(b"data:\n\n") == [""]
