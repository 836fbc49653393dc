"""The consumer's MOR-RPC client refuses anything not signed, addressed and framed as the spec demands."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from app.devnet.accounts import dev_private_keys
from app.router.consumer.client import Endpoint, MorRpcClient
from app.router.consumer.failures import FailureKind, ProviderFailure
from app.router.morrpc import signing
from app.router.morrpc.envelope import encode_error, encode_result
from app.router.morrpc.messages import PongRes, SessionRes
from app.router.morrpc.prompt import seal_prompt_response
from app.router.morrpc.receipts import Approval, sign_personal
from app.router.morrpc.rpc_errors import plaintext_error
from app.router.morrpc.structs import parse_hex
from app.wallet.signer import KeySigner
from tests.router.consumer.scripted_peer import ScriptedPeer

PROVIDER = KeySigner(dev_private_keys()[7])
IMPOSTOR = KeySigner(dev_private_keys()[8])
CONSUMER = KeySigner(dev_private_keys()[9])
BID = b"\x11" * 32
SESSION = b"\x22" * 32
CHAIN_ID = 31337


def client(**kw: Any) -> MorRpcClient:
    return MorRpcClient(CONSUMER, **kw)


async def write(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


def pong(request: dict[str, Any], signer: KeySigner, nonce: bytes | None = None) -> bytes:
    nonce = parse_hex(request["params"]["nonce"]) if nonce is None else nonce
    return encode_result("0", signing.sign(PongRes(nonce=nonce, version="test"), signer))


def chunk(text: str, finish: str | None = None) -> bytes:
    return json.dumps({"object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}).encode()


def sealed(payload: bytes, signer: KeySigner = PROVIDER) -> bytes:
    return encode_result("1", seal_prompt_response(signer, CONSUMER.public_key, payload, 1))


async def test_ping_returns_the_providers_key_recovered_from_a_valid_pong() -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, pong(request, PROVIDER))

    async with ScriptedPeer(script) as peer:
        result = await client().ping(Endpoint.parse(peer.endpoint), PROVIDER.address)

    assert result.public_key == PROVIDER.public_key
    assert result.version == "test"


@pytest.mark.parametrize(("signer", "nonce", "kind"), [
    (IMPOSTOR, None, FailureKind.SIGNATURE),
    (PROVIDER, b"\x00" * 8, FailureKind.PROTOCOL),
])
async def test_ping_refuses_a_pong_from_another_key_or_with_another_nonce(
    signer: KeySigner, nonce: bytes | None, kind: FailureKind
) -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, pong(request, signer, nonce))

    async with ScriptedPeer(script) as peer:
        with pytest.raises(ProviderFailure) as caught:
            await client().ping(Endpoint.parse(peer.endpoint), PROVIDER.address)
    assert caught.value.kind is kind


def grant(request: dict[str, Any], approver: KeySigner, bid: bytes = BID) -> bytes:
    approval = Approval(bid_id=bid, chain_id=CHAIN_ID, user=CONSUMER.address, timestamp_ms=1).encode()
    res = SessionRes(pub_key=PROVIDER.public_key, approval=approval, approval_sig=sign_personal(approver, approval),
                     user=CONSUMER.address, timestamp=1)
    return encode_result(request["id"], signing.sign(res, PROVIDER))


@pytest.mark.parametrize(("approver", "bid", "problem"), [
    (IMPOSTOR, BID, "not the bid's provider"),
    (PROVIDER, b"\x33" * 32, "another bid"),
])
async def test_session_request_refuses_an_approval_that_would_waste_gas(
    approver: KeySigner, bid: bytes, problem: str
) -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, grant(request, approver, bid))

    async with ScriptedPeer(script) as peer:
        with pytest.raises(ProviderFailure) as caught:
            await client().request_session(Endpoint.parse(peer.endpoint), PROVIDER.address, BID, 10, CHAIN_ID)
    assert caught.value.kind is FailureKind.SIGNATURE
    assert problem in caught.value.user_message


async def test_session_request_accepts_a_correct_approval() -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, grant(request, PROVIDER))

    async with ScriptedPeer(script) as peer:
        got = await client().request_session(Endpoint.parse(peer.endpoint), PROVIDER.address, BID, 10, CHAIN_ID)
        assert peer.requests[0]["params"]["key"] == "0x" + CONSUMER.public_key.hex()
    assert (got.provider_pubkey, got.decoded.bid_id) == (PROVIDER.public_key, BID)


async def run_prompt(script: Any, **kw: Any) -> tuple[list[Any], ProviderFailure | None]:
    items: list[Any] = []
    async with ScriptedPeer(script) as peer:
        try:
            async for item in client(**kw).prompt(Endpoint.parse(peer.endpoint), PROVIDER.address,
                                                  PROVIDER.public_key, SESSION, '{"messages":[]}'):
                items.append(item)
        except ProviderFailure as e:
            return items, e
    return items, None


async def test_prompt_yields_decrypted_chunks_until_done() -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, sealed(chunk("Hi")) + sealed(chunk("!", "stop")) + sealed(b'"[DONE]"'))

    items, failure = await run_prompt(script)
    assert failure is None
    assert [i if isinstance(i, str) else i["choices"][0]["delta"]["content"] for i in items] == ["Hi", "!", "[DONE]"]


async def test_prompt_stops_at_a_response_signed_by_another_key() -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, sealed(chunk("ok")) + sealed(chunk("forged"), IMPOSTOR))

    items, failure = await run_prompt(script)
    assert len(items) == 1
    assert failure is not None
    assert (failure.kind, failure.received) == (FailureKind.SIGNATURE, 1)


async def test_prompt_reports_eof_when_the_connection_closes_before_the_answer_finished() -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, sealed(chunk("half")))

    items, failure = await run_prompt(script)
    assert failure is not None
    assert (len(items), failure.kind, failure.received) == (1, FailureKind.EOF, 1)


async def test_prompt_times_out_when_the_first_message_never_comes() -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    _, failure = await run_prompt(script, first_message_timeout=0.2)
    assert failure is not None
    assert failure.kind is FailureKind.TIMEOUT


async def test_prompt_surfaces_a_plaintext_refusal_with_its_text() -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, encode_error(request["id"], plaintext_error("Provider at capacity", 1)))

    _, failure = await run_prompt(script)
    assert failure is not None
    assert failure.kind is FailureKind.REJECTED
    assert "Provider at capacity" in failure.user_message


async def test_a_refused_connection_is_a_connect_failure() -> None:
    async with ScriptedPeer(lambda r, w: asyncio.sleep(0)) as peer:
        endpoint = Endpoint.parse(peer.endpoint)
    with pytest.raises(ProviderFailure) as caught:
        await client().ping(endpoint, PROVIDER.address)
    assert caught.value.kind is FailureKind.CONNECT


async def test_cancelling_a_prompt_closes_the_socket_at_once() -> None:
    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, sealed(chunk("first")))
        await asyncio.sleep(5)

    async with ScriptedPeer(script) as peer:
        got_one = asyncio.Event()

        async def consume() -> None:
            async for _ in client().prompt(Endpoint.parse(peer.endpoint), PROVIDER.address, PROVIDER.public_key,
                                           SESSION, "{}"):
                got_one.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_one.wait(), 2)
        task.cancel()
        await asyncio.wait_for(peer.saw_eof.wait(), 1)
    assert task.cancelled()


@pytest.mark.parametrize("endpoint", ["", "host", "host:0", "host:99999", ":80", "host:port"])
def test_an_unusable_registered_endpoint_is_named_in_the_error(endpoint: str) -> None:
    with pytest.raises(ProviderFailure, match="unusable endpoint"):
        Endpoint.parse(endpoint, PROVIDER.address)


def test_endpoints_with_a_scheme_or_ipv6_brackets_are_accepted() -> None:
    assert Endpoint.parse("tcp://provider.example:3333") == Endpoint("provider.example", 3333)
    assert Endpoint.parse("[::1]:3333") == Endpoint("::1", 3333)
