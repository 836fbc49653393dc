"""Hostile frames against a running provider: every one answered with an error (or closed), none crashes it, it
keeps serving valid requests throughout, and it holds no connections or memory afterwards."""

from __future__ import annotations

import gc
import logging
import os
import tracemalloc
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from app.router.provider.server import MorRpcServer
from tests.chain.conftest import eventually
from tests.router.provider.provider_env import Devnet, models_config, running_devnet
from tests.router.provider.threaded_provider import provider_in_thread
from tests.security.morrpc_frames import check_answer, generate, pong_nonce, send_frame, valid_ping
from tests.support.openai_backend import OpenAIBackendServer

CI_FRAMES = 250
VALID_EVERY = 25


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def devnet() -> AsyncIterator[Devnet]:
    async with running_devnet() as env:
        yield env


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def llm() -> AsyncIterator[OpenAIBackendServer]:
    async with OpenAIBackendServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(devnet: Devnet, llm: OpenAIBackendServer) -> Iterator[MorRpcServer]:
    protocol = devnet.protocol
    with provider_in_thread(protocol.provider.signer, devnet.node.rpc_url, protocol.addresses.diamond,
                            models_config(devnet.model_id, llm), first_byte_timeout=2, request_timeout=4) as s:
        yield s


@pytest.fixture(scope="module")
def fuzz_frames() -> list[bytes]:
    return generate(CI_FRAMES)


def _fuzz(port: int, batch: list[bytes]) -> dict[str, int]:
    """Send every frame, checking each answer; a valid ping after every ``VALID_EVERY`` frames must be answered."""
    outcomes: dict[str, int] = {"closed": 0, "error": 0, "result": 0, "valid": 0}
    for index, frame in enumerate(batch, 1):
        outcomes[check_answer(frame, send_frame(port, frame))] += 1
        if index % VALID_EVERY == 0:
            nonce = os.urandom(8)
            assert pong_nonce(send_frame(port, valid_ping(nonce))) == "0x" + nonce.hex()
            outcomes["valid"] += 1
    return outcomes


def test_every_fuzzed_frame_gets_an_error_or_a_close_and_valid_pings_keep_working(
    server: MorRpcServer, fuzz_frames: list[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    outcomes = _fuzz(server.address[1], fuzz_frames)

    assert outcomes["error"] > CI_FRAMES // 3  # the generator does reach the parser, not only the socket
    assert outcomes["valid"] >= CI_FRAMES // VALID_EVERY - 1
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("app.")]
    assert not crashes, crashes[0].getMessage()


@pytest.mark.asyncio(loop_scope="module")
async def test_after_the_fuzz_no_connection_is_left_open(server: MorRpcServer) -> None:
    await eventually(lambda: server.connections == 0, limit_s=5)


def test_memory_held_by_the_server_does_not_grow_with_fuzzed_frames(
    server: MorRpcServer, fuzz_frames: list[bytes]
) -> None:
    port = server.address[1]
    _fuzz(port, fuzz_frames)  # warm caches (codecs, the loop's buffers)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        _fuzz(port, fuzz_frames)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = [s for s in after.compare_to(before, "filename") if "app/router" in str(s.traceback)]
    growth = sum(max(s.size_diff, 0) for s in grown)
    assert growth < 256 * 1024, [str(s) for s in grown[:5]]
