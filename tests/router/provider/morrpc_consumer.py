"""A consumer-side MOR-RPC test client built only from the codec (app.router.morrpc), never the provider's code."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from app.router.morrpc import signing
from app.router.morrpc.envelope import RpcResponse, encode_request, parse_response
from app.router.morrpc.framing import read_messages
from app.router.morrpc.messages import (
    PingReq,
    PongRes,
    SessionPromptReq,
    SessionPromptRes,
    SessionReportReq,
    SessionReportRes,
    SessionReq,
    SessionRes,
)
from app.router.morrpc.prompt import open_prompt_response
from app.router.morrpc.rpc_errors import open_error
from app.signer import Signer


def now_ms() -> int:
    return int(time.time() * 1000)


async def exchange(port: int, raw: bytes, *, within: float = 10.0) -> list[RpcResponse]:
    """Send raw request bytes on a fresh connection and read every response object until the provider closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(within):
            return [parse_response(obj) async for obj in read_messages(reader)]
    finally:
        writer.close()


def ping(signer: Signer, nonce: bytes | None = None) -> bytes:
    return encode_request("0", "network.ping", signing.sign(PingReq(nonce=nonce or os.urandom(8)), signer))


def session_request(signer: Signer, bid_id: bytes, spend: int, *, key: bytes | None = None) -> bytes:
    req = SessionReq(user=signer.address, key=key or signer.public_key, spend=spend, timestamp=now_ms(), bid_id=bid_id)
    return encode_request("req1", "session.request", signing.sign(req, signer))


def prompt(signer: Signer, session_id: bytes, body: dict[str, Any], *, timestamp: int | None = None) -> bytes:
    req = SessionPromptReq(session_id=session_id, message=json.dumps(body), timestamp=timestamp or now_ms())
    return encode_request("req2", "session.prompt", signing.sign(req, signer))


def report(signer: Signer, session_id: bytes) -> bytes:
    req = SessionReportReq(message="0x" + session_id.hex(), timestamp=now_ms())
    return encode_request("req3", "session.report", signing.sign(req, signer))


def only_error(responses: list[RpcResponse]) -> str:
    """The text of the single plaintext error the provider answered with."""
    assert len(responses) == 1, responses
    error = responses[0].error
    assert error is not None, responses
    assert error.is_plaintext, responses
    return error.message


def pong(responses: list[RpcResponse], provider: str, nonce: bytes) -> PongRes:
    [response] = responses
    result = PongRes.from_obj(response.result, "result")
    assert result.nonce == nonce
    assert signing.verify_by_address(result, provider)
    return result


def approval(responses: list[RpcResponse]) -> SessionRes:
    """The SessionRes, verified with the key it carries (as the Go consumer does)."""
    [response] = responses
    assert response.error is None, response.error
    res = SessionRes.from_obj(response.result, "result")
    assert signing.verify(res, res.pub_key)
    return res


@dataclass
class Answer:
    """A decrypted prompt answer: each item in order, and the decrypted backend error if one came."""

    items: list[Any]
    error: Any = None


def open_answer(responses: list[RpcResponse], consumer: Signer, provider_key: bytes) -> Answer:
    answer = Answer([])
    for response in responses:
        if response.error is not None:
            answer.error = open_error(response.error, consumer, provider_key)[1]
            continue
        res = SessionPromptRes.from_obj(response.result, "result")
        answer.items.append(json.loads(open_prompt_response(res, consumer, provider_key)))
    return answer


def text_of(answer: Answer) -> str:
    return "".join(
        c["delta"].get("content") or ""
        for item in answer.items
        if isinstance(item, dict)
        for c in item.get("choices", [])
    )


def report_result(responses: list[RpcResponse], provider_key: bytes) -> SessionReportRes:
    [response] = responses
    assert response.error is None, response.error
    res = SessionReportRes.from_obj(response.result, "result")
    assert signing.verify(res, provider_key)
    return res
