"""Framing: concatenated JSON objects split anywhere, size caps, garbage, and real TCP streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.router.morrpc.exceptions import MorRpcProtocolError, MorRpcTimeoutError
from app.router.morrpc.framing import MessageDecoder, decode_object, read_messages, write_message
from app.router.morrpc.gojson import GoNumber, encode_value

# Three objects back to back, as a Go provider writes them: braces and quotes inside strings, escapes,
# multi-byte UTF-8 (2, 3 and 4 bytes) and whitespace between objects.
STREAM = (
    b'{"id":"1","result":{"message":"a}b{c\\"}","timestamp":1}}'
    b'{"id":"2","result":{"message":"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \\\\","nested":[{"x":[]}]}}'
    b' \r\n\t{"id":"3","result":null,"error":{"message":"no capacity","code":400}}'
)
EXPECTED = [
    {"id": "1", "result": {"message": 'a}b{c"}', "timestamp": 1}},
    {"id": "2", "result": {"message": "café 中 😀 \\", "nested": [{"x": []}]}},
    {"id": "3", "result": None, "error": {"message": "no capacity", "code": 400}},
]


@pytest.mark.parametrize("split", range(len(STREAM) + 1))
def test_stream_split_at_any_byte_yields_the_same_objects(split: int) -> None:
    decoder = MessageDecoder()
    out = decoder.feed(STREAM[:split]) + decoder.feed(STREAM[split:])
    assert out == EXPECTED
    assert not decoder.has_partial


def test_stream_fed_one_byte_at_a_time_yields_the_same_objects() -> None:
    decoder = MessageDecoder()
    out: list[dict[str, Any]] = []
    for i in range(len(STREAM)):
        out += decoder.feed(STREAM[i : i + 1])
    assert out == EXPECTED


def test_partial_object_is_reported_until_it_completes() -> None:
    decoder = MessageDecoder()
    assert decoder.feed(b'{"a":') == []
    assert decoder.has_partial
    assert decoder.feed(b"1}") == [{"a": 1}]
    assert not decoder.has_partial


def test_float_literals_are_kept_verbatim_for_reencoding() -> None:
    [obj] = MessageDecoder().feed(b'{"n":1.50,"e":1E+2,"z":-0,"i":7}')
    assert obj == {"n": GoNumber("1.50"), "e": GoNumber("1E+2"), "z": GoNumber("-0"), "i": 7}
    assert encode_value(obj) == b'{"n":1.50,"e":1E+2,"z":-0,"i":7}'


def test_invalid_utf8_inside_strings_is_kept_as_surrogates() -> None:
    [obj] = MessageDecoder().feed(b'{"m":"a\xffb"}')
    assert obj == {"m": "a\udcffb"}
    assert encode_value(obj) == b'{"m":"a\\ufffdb"}'


def test_object_at_the_size_limit_is_accepted() -> None:
    message = b'{"m":"' + b"x" * 100 + b'"}'
    assert MessageDecoder(max_size=len(message)).feed(message) == [{"m": "x" * 100}]


def test_oversized_object_is_refused_before_it_completes() -> None:
    decoder = MessageDecoder(max_size=64)
    decoder.feed(b'{"m":"' + b"x" * 50)
    with pytest.raises(MorRpcProtocolError, match="64-byte limit"):
        decoder.feed(b"x" * 50)


def test_oversized_object_is_refused_even_when_it_arrives_whole() -> None:
    with pytest.raises(MorRpcProtocolError, match="limit"):
        MessageDecoder(max_size=16).feed(b'{"m":"' + b"x" * 20 + b'"}')


def test_decoder_refuses_input_after_a_failure() -> None:
    decoder = MessageDecoder()
    with pytest.raises(MorRpcProtocolError):
        decoder.feed(b"[1]")
    with pytest.raises(MorRpcProtocolError, match="already failed"):
        decoder.feed(b'{"a":1}')


@pytest.mark.parametrize(
    "data",
    [
        b"[1,2]",
        b'"string"',
        b"42",
        b"{]",
        b'{"a":1}}',
        b'{"a":tru}',
        b'{"a":NaN}',
        b'{"a":"raw\ncontrol"}',
        b"{" * 600,
        b"\x00",
    ],
)
def test_malformed_input_raises_a_protocol_error(data: bytes) -> None:
    with pytest.raises(MorRpcProtocolError):
        MessageDecoder().feed(data)


def test_decode_object_rejects_trailing_bytes_and_non_objects() -> None:
    with pytest.raises(MorRpcProtocolError, match="trailing"):
        decode_object(b'{"a":1} x')
    with pytest.raises(MorRpcProtocolError, match="not an object"):
        decode_object(b"[1]")


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_nothing_but_protocol_errors(data: bytes) -> None:
    decoder = MessageDecoder(max_size=128)
    try:
        for obj in decoder.feed(data):
            assert isinstance(obj, dict)
    except MorRpcProtocolError:
        pass


_objects = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=12),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
        max_leaves=8,
    ),
    max_size=4,
)


@settings(max_examples=40)
@given(st.lists(_objects, min_size=1, max_size=4), st.data())
def test_any_valid_stream_split_anywhere_round_trips(objects: list[dict[str, Any]], data: st.DataObject) -> None:
    stream = b"".join(encode_value(o) for o in objects)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = MessageDecoder()
    out: list[dict[str, Any]] = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        out += decoder.feed(stream[previous:cut])
        previous = cut
    assert out == objects


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]]:
    """Start a real TCP server on 127.0.0.1:0 running ``handler`` and connect a client to it."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []
    handlers: list[asyncio.Task[Any]] = []

    async def start(handler: Handler) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async def owned(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.append(task)
            writers.append(w)
            await handler(r, w)

        server = await asyncio.start_server(owned, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
        return reader, writer

    yield start
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
    for writer in writers:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    for server in servers:
        server.close()
        await server.wait_closed()


async def _drain(stream: AsyncIterator[dict[str, Any]], into: list[dict[str, Any]]) -> None:
    async for obj in stream:
        into.append(obj)


async def test_read_messages_yields_objects_written_in_pieces_over_tcp(serve: Any) -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for i in range(0, len(STREAM), 7):
            writer.write(STREAM[i : i + 7])
            await writer.drain()
        writer.close()

    reader, _ = await serve(handler)
    got = [obj async for obj in read_messages(reader, first_byte_timeout=5, idle_timeout=5)]
    assert got == EXPECTED


async def test_write_message_sends_bytes_without_separators(serve: Any) -> None:
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def handler(r: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        received.set_result(await r.read())

    _, writer = await serve(handler)
    await write_message(writer, b'{"a":1}')
    await write_message(writer, b'{"b":2}')
    writer.close()
    assert await asyncio.wait_for(received, 5) == b'{"a":1}{"b":2}'


async def test_eof_in_the_middle_of_a_message_is_a_protocol_error(serve: Any) -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b'{"id":"1"}{"id":')
        await writer.drain()
        writer.close()

    reader, _ = await serve(handler)
    got: list[dict[str, Any]] = []
    with pytest.raises(MorRpcProtocolError, match="middle of a message"):
        await _drain(read_messages(reader, first_byte_timeout=5, idle_timeout=5), got)
    assert got == [{"id": "1"}]


async def test_silent_peer_trips_the_first_byte_timeout(serve: Any) -> None:
    release = asyncio.Event()

    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    reader, _ = await serve(handler)
    with pytest.raises(MorRpcTimeoutError, match="first byte"):
        await _drain(read_messages(reader, first_byte_timeout=0.2, idle_timeout=5), [])
    release.set()


async def test_peer_that_stalls_mid_stream_trips_the_idle_timeout(serve: Any) -> None:
    release = asyncio.Event()

    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b'{"id":"1"}')
        await writer.drain()
        await release.wait()
        writer.close()

    reader, _ = await serve(handler)
    got: list[dict[str, Any]] = []
    with pytest.raises(MorRpcTimeoutError, match="more data"):
        await _drain(read_messages(reader, first_byte_timeout=5, idle_timeout=0.2), got)
    assert got == [{"id": "1"}]
    release.set()


async def test_oversized_message_over_tcp_is_refused(serve: Any) -> None:
    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b'{"m":"' + b"x" * 200_000 + b'"}')
        await writer.drain()
        writer.close()

    reader, _ = await serve(handler)
    with pytest.raises(MorRpcProtocolError, match="limit"):
        await _drain(read_messages(reader, max_size=100_000, first_byte_timeout=5, idle_timeout=5), [])


def test_expected_objects_match_pythons_own_json_reading() -> None:
    """Guard on the fixture itself: each slice of STREAM is exactly one JSON document."""
    parts = [STREAM[: STREAM.index(b"}}{") + 2]]
    assert json.loads(parts[0]) == EXPECTED[0]
