"""The MOR-RPC server under bad input: framing, size and time caps, hang-ups, shutdown, and fuzzed frames."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import AppError
from app.router.morrpc.envelope import encode_request, parse_response
from app.router.morrpc.framing import MessageDecoder
from app.router.morrpc.messages import PingReq
from app.router.provider.controller import VERSION, ProviderController
from app.router.provider.selfcheck import ping_endpoint
from app.router.provider.server import MorRpcServer, parse_host_port
from tests.router.provider import morrpc_consumer as c
from tests.router.provider.provider_env import Devnet, models_config, running_provider, signer
from tests.router.provider.threaded_provider import provider_in_thread
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

Provider = tuple[MorRpcServer, ProviderController]


def port_of(provider: Provider) -> int:
    return provider[0].address[1]


async def still_serves(port: int, address: str) -> None:
    nonce = os.urandom(8)
    c.pong(await c.exchange(port, c.ping(signer(9), nonce)), address, nonce)


async def send_and_half_close(port: int, raw: bytes) -> list[object]:
    """Write ``raw``, shut our sending side, and collect what the provider answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    writer.write_eof()
    async with asyncio.timeout(5):
        data = await reader.read()
    writer.close()
    return [parse_response(o) for o in MessageDecoder().feed(data)]


@pytest.mark.asyncio(loop_scope="module")
async def test_garbage_bytes_get_an_error_and_the_server_keeps_serving(provider: Provider) -> None:
    responses = await c.exchange(port_of(provider), b"\x00\xff GET / HTTP/1.1\r\n\r\n")
    assert "not a JSON object" in c.only_error(responses)
    await still_serves(port_of(provider), provider[1].address)


@pytest.mark.asyncio(loop_scope="module")
async def test_truncated_json_gets_an_error_and_the_server_keeps_serving(provider: Provider) -> None:
    raw = c.ping(signer(2))
    [response] = await send_and_half_close(port_of(provider), raw[: len(raw) // 2])
    assert response.error is not None  # type: ignore[attr-defined]
    assert "cut off" in response.error.message  # type: ignore[attr-defined]
    await still_serves(port_of(provider), provider[1].address)


@pytest.mark.asyncio(loop_scope="module")
async def test_oversized_frame_is_refused_before_it_is_read_whole(
    fresh_chain: Devnet, backend: OpenAIBackendServer
) -> None:
    models = models_config(fresh_chain.model_id, backend)
    async with running_provider(fresh_chain, models, max_message_size=4096) as provider:
        big = b'{"id":"1","method":"network.ping","params":{"nonce":"' + b"ab" * 64 * 1024 + b'"}}'
        responses = await c.exchange(port_of(provider), big)
        assert "larger than the 4096-byte limit" in c.only_error(responses)
        await still_serves(port_of(provider), provider[1].address)


@pytest.mark.asyncio(loop_scope="module")
async def test_wrong_field_types_get_an_error_naming_the_field(provider: Provider) -> None:
    params = {"user": "0x" + "11" * 20, "key": "0x04" + "22" * 64, "spend": "10", "timestamp": "soon"}
    raw = json.dumps({"id": "1", "method": "session.request", "params": {**params, "bidid": "0x" + "33" * 32}}).encode()
    assert "'params.timestamp' must be a whole JSON number" in c.only_error(await c.exchange(port_of(provider), raw))
    await still_serves(port_of(provider), provider[1].address)


@pytest.mark.asyncio(loop_scope="module")
async def test_unknown_method_gets_an_error(provider: Provider) -> None:
    raw = encode_request("7", "network.shutdown", PingReq(nonce=b"\x01"))
    assert "unknown MOR-RPC method 'network.shutdown'" in c.only_error(await c.exchange(port_of(provider), raw))
    await still_serves(port_of(provider), provider[1].address)


@pytest.mark.asyncio(loop_scope="module")
async def test_silent_client_is_told_and_disconnected_after_the_first_byte_timeout(
    fresh_chain: Devnet, backend: OpenAIBackendServer
) -> None:
    async with running_provider(fresh_chain, models_config(fresh_chain.model_id, backend), first_byte_timeout=0.2) as p:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(p))
        async with asyncio.timeout(3):
            data = await reader.read()  # returns at EOF: the server closed the connection
        writer.close()
        [response] = [parse_response(o) for o in MessageDecoder().feed(data)]
        assert response.error is not None
        assert response.error.message.startswith("No request arrived in time")
        await still_serves(port_of(p), p[1].address)


@pytest.mark.asyncio(loop_scope="module")
async def test_stop_closes_open_connections_and_cancels_their_backend_requests(fresh_chain: Devnet) -> None:
    user = fresh_chain.protocol.user
    async with (
        OpenAIBackendServer(Behaviour(tokens=["x"] * 500, token_delay=0.02)) as slow,
        running_provider(fresh_chain, models_config(fresh_chain.model_id, slow)) as provider,
    ):
        res = c.approval(
            await c.exchange(port_of(provider), c.session_request(user.signer, fresh_chain.bid_id, 10**20))
        )
        session_id = await fresh_chain.open_session(user, res.approval, res.approval_sig)
        idle = await asyncio.open_connection("127.0.0.1", port_of(provider))
        streaming = await asyncio.open_connection("127.0.0.1", port_of(provider))
        streaming[1].write(c.prompt(user.signer, session_id, {"messages": [], "stream": True}))
        async with asyncio.timeout(5):
            await streaming[0].read(1)
        assert provider[0].connections == 2
        await provider[0].stop()
        assert provider[0].connections == 0
        async with asyncio.timeout(3):
            await idle[0].read()  # EOF
            await streaming[0].read()
        for _, writer in (idle, streaming):
            writer.close()
        gone = await slow.wait_disconnect(within=2)
        assert not gone.completed


@pytest.mark.asyncio(loop_scope="module")
async def test_connecting_and_leaving_without_a_word_is_harmless(provider: Provider) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port_of(provider))
    writer.close()
    await writer.wait_closed()
    await still_serves(port_of(provider), provider[1].address)


def test_listen_addresses_parse_like_proxy_address() -> None:
    assert parse_host_port("0.0.0.0:3333") == ("0.0.0.0", 3333)
    assert parse_host_port(":3333") == ("0.0.0.0", 3333)
    assert parse_host_port("[::1]:3334") == ("::1", 3334)
    with pytest.raises(ValueError, match="host:port"):
        parse_host_port("localhost")


# -- fuzz ---------------------------------------------------------------------------------------------------------

FIELDS = ["nonce", "signature", "user", "key", "spend", "timestamp", "bidid", "sessionid", "message", "streamid"]
METHODS = ["network.ping", "session.request", "session.prompt", "session.report", "agent.get_tools", "x"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=80)
    | st.sampled_from(["0x", "0x00", "0x" + "ab" * 32, "0x04" + "cd" * 64]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
envelopes = st.fixed_dictionaries(
    {"id": json_values, "method": st.sampled_from(METHODS) | st.text(max_size=20)},
    optional={"params": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6) | json_values},
).map(lambda d: json.dumps(d).encode())
frames = envelopes | st.binary(max_size=300) | envelopes.flatmap(lambda e: st.integers(0, len(e)).map(lambda n: e[:n]))


def _send_frame(port: int, frame: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(frame)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_fuzzed_frames_never_take_the_server_down(
    devnet: Devnet, llm: OpenAIBackendServer, caplog: pytest.LogCaptureFixture
) -> None:
    protocol = devnet.protocol
    models = models_config(devnet.model_id, llm)
    with provider_in_thread(
        protocol.provider.signer, devnet.node.rpc_url, protocol.addresses.diamond, models, first_byte_timeout=2
    ) as server:
        port = server.address[1]

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(frames)
        def run(frame: bytes) -> None:
            answer = _send_frame(port, frame)
            for obj in MessageDecoder().feed(answer):
                parse_response(obj)  # whatever comes back is a well-formed response envelope

        run()
        ping = PingReq(nonce=b"\x05" * 8)
        [pong] = MessageDecoder().feed(_send_frame(port, encode_request("0", "network.ping", ping)))
        assert pong["result"]["nonce"] == "0x" + "05" * 8
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("app.router")]
    assert not crashes, crashes[0].getMessage()


@pytest.mark.asyncio(loop_scope="module")
async def test_self_ping_checks_the_nonce_and_the_signer(provider: Provider) -> None:
    endpoint = f"127.0.0.1:{port_of(provider)}"
    assert await ping_endpoint(endpoint, signer(3), provider[1].address) == VERSION
    with pytest.raises(AppError, match="answered by another wallet"):
        await ping_endpoint(endpoint, signer(3), signer(3).address)
    with pytest.raises(AppError, match=r"Cannot connect to 127\.0\.0\.1:1 "):
        await ping_endpoint("127.0.0.1:1", signer(3), provider[1].address)
