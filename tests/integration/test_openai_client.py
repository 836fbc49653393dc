"""The official ``openai`` client against our ``/v1``: multi-turn streaming chats through a real provider node on
an anvil devnet (MOR-RPC over TCP) and through the local-model path; the Go-shaped blockchain routes on the same
chain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openai import AsyncOpenAI

from tests.router.consumer.consumer_env import CHEAP, DEAR
from tests.support.market_api import Api, running_api
from tests.support.openai_backend import Behaviour


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as running:
        yield running


async def _stream_text(client: AsyncOpenAI, messages: list[dict[str, str]], **kw: Any) -> str:
    stream = await client.chat.completions.create(model=kw.pop("model", "remote"), messages=messages,  # type: ignore[arg-type]
                                                  stream=True, **kw)
    text = ""
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    return text


async def test_openai_client_streams_a_multi_turn_chat_through_a_provider_node(api: Api) -> None:
    status, opened = await api.call("POST", f"/blockchain/models/0x{api.market.model_id.hex()}/session",
                                    json={"sessionDuration": 600})
    assert status == 200, opened
    session_id = opened["sessionID"]
    client = api.openai()
    provider_backend = api.market.a.backend  # A is cheaper, so it ranks first and serves the session
    conversation = [{"role": "user", "content": "first question"}]
    provider_backend.behaviour = Behaviour(tokens=["Answer", " one"])
    first = await _stream_text(client, conversation, extra_headers={"session_id": session_id})
    conversation += [{"role": "assistant", "content": first}, {"role": "user", "content": "second question"}]
    provider_backend.behaviour = Behaviour(tokens=["Answer", " two"])
    second = await _stream_text(client, conversation, extra_headers={"session_id": session_id})
    await client.close()

    assert (first, second) == ("Answer one", "Answer two")
    sent = provider_backend.requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "first question"), ("assistant", "Answer one"), ("user", "second question")]
    status, chats = await api.call("GET", "/v1/chats")
    assert status == 200 and len(chats) == 2 and all(c["isLocal"] is False for c in chats)

    status, closed = await api.call("POST", f"/blockchain/sessions/{session_id}/close")
    assert status == 200 and closed["tx"].startswith("0x")
    status, body = await api.call("GET", f"/blockchain/sessions/{session_id}")
    assert status == 200 and body["session"]["ClosedAt"] > 0


async def test_sse_wire_format_is_data_lines_ending_with_done(api: Api) -> None:
    api.local.behaviour = Behaviour(tokens=["a", "b"])
    async with aiohttp.ClientSession(headers=api.headers) as http, http.post(
        api.server.url + "/v1/chat/completions", json={"model": "local-llm", "stream": True,
                                                         "messages": [{"role": "user", "content": "hi"}]},
    ) as res:
        raw = (await res.read()).decode()
    assert res.headers["Content-Type"].startswith("text/event-stream")
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"


async def test_openai_client_multi_turn_chat_on_the_local_model_is_stored(api: Api) -> None:
    client = api.openai()
    chat_id = "0x" + "c4" * 32
    api.local.behaviour = Behaviour(tokens=["Local", " one"])
    first = await _stream_text(client, [{"role": "user", "content": "hello"}], model="local-llm",
                               extra_headers={"chat_id": chat_id})
    api.local.behaviour = Behaviour(tokens=["Local", " two"])
    second = await _stream_text(client, [{"role": "user", "content": "hello"}, {"role": "assistant", "content": first},
                                         {"role": "user", "content": "again"}], model="local-llm",
                                extra_headers={"chat_id": chat_id})
    completion = await client.chat.completions.create(model="local-llm", messages=[{"role": "user", "content": "x"}])
    await client.close()

    assert (first, second) == ("Local one", "Local two")
    assert api.local.requests[1].body["model"] == "local-llm"
    assert completion.choices[0].message.content
    status, history = await api.call("GET", f"/v1/chats/{chat_id}")
    assert status == 200 and history["isLocal"] is True
    assert [(t["prompt"]["messages"][-1]["content"], t["response"]) for t in history["messages"]] == [
        ("hello", "Local one"), ("again", "Local two")]
    assert (await api.call("POST", f"/v1/chats/{chat_id}", json={"title": "renamed"}))[1] == {"result": True}
    status, chats = await api.call("GET", "/v1/chats")
    assert any(c["chatId"] == chat_id and c["title"] == "renamed" for c in chats)
    assert (await api.call("DELETE", f"/v1/chats/{chat_id}"))[0] == 200
    assert (await api.call("GET", f"/v1/chats/{chat_id}"))[0] == 404


async def test_backend_error_answers_provider_model_error(api: Api) -> None:
    api.local.behaviour = Behaviour(fail_status=500, fail_body={"error": {"message": "model crashed"}})
    status, body = await api.call("POST", "/v1/chat/completions",
                                  json={"model": "local-llm", "messages": [{"role": "user", "content": "x"}]})
    assert status == 400
    assert body == {"providerModelError": {"error": {"message": "model crashed"}}}


async def test_blockchain_routes_answer_in_go_shapes(api: Api) -> None:
    m = api.market
    model_hex = "0x" + m.model_id.hex()
    status, balance = await api.call("GET", "/blockchain/balance")
    assert status == 200 and int(balance["mor"]) > 0 and int(balance["eth"]) > 0
    status, providers = await api.call("GET", "/blockchain/providers")
    assert {p["Address"] for p in providers["providers"]} == {m.a.address.lower(), m.b.address.lower()}
    assert all(isinstance(p["Stake"], str) for p in providers["providers"])
    status, models = await api.call("GET", "/blockchain/models")
    model = next(x for x in models["models"] if x["Id"] == model_hex)
    assert isinstance(model["Stake"], int) and model["ModelType"] == "LLM" and model["Tags"] == ["llm"]
    asc = (await api.call("GET", f"/blockchain/models/{model_hex}/bids"))[1]["bids"]
    desc = (await api.call("GET", f"/blockchain/models/{model_hex}/bids?order=desc"))[1]["bids"]
    assert [b["PricePerSecond"] for b in asc] == [str(CHEAP), str(DEAR)]  # default asc (upstream [AVOID])
    assert desc == list(reversed(asc))
    assert (await api.call("GET", f"/blockchain/models/{model_hex}/bids?limit=1&offset=1"))[1]["bids"] == asc[1:]
    rated = (await api.call("GET", f"/blockchain/models/{model_hex}/bids/rated"))[1]["bids"]
    assert [r["ID"] for r in rated] == [r["Bid"]["Id"] for r in rated] and rated[0]["Bid"]["Id"] == asc[0]["Id"]
    status, bid = await api.call("GET", f"/blockchain/bids/{asc[0]['Id']}")
    assert bid["bid"] == asc[0]
    assert (await api.call("GET", "/blockchain/bids/0x" + "00" * 32))[0] == 404
    status, block = await api.call("GET", "/blockchain/latestBlock")
    assert isinstance(block["block"], int) and block["block"] > 0
    for path, key in (("/blockchain/sessions/budget", "budget"), ("/blockchain/token/supply", "supply")):
        status, body = await api.call("GET", path)
        assert status == 200 and int(body[key]) > 0
    status, opened = await api.call("POST", f"/blockchain/bids/{asc[1]['Id']}/session", json={"sessionDuration": 600})
    assert status == 200, opened
    status, sessions = await api.call("GET", "/blockchain/sessions/user")
    assert [s["Id"] for s in sessions["sessions"]] == [opened["sessionID"]]
    s = sessions["sessions"][0]
    assert s["Provider"] == m.b.address.lower() and s["PricePerSecond"] == DEAR and isinstance(s["Stake"], int)
    assert (await api.call("GET", "/blockchain/sessions/user/ids"))[1] == [opened["sessionID"]]
    status, refused = await api.call("POST", "/blockchain/sessions/withdrawUserStakes")
    assert status == 400 and "nothing to withdraw" in refused["error"]
    closed = await api.call("POST", f"/blockchain/sessions/{opened['sessionID']}/close")
    assert closed[0] == 200, closed
    status, held = await api.call("GET", "/blockchain/sessions/user/stakesOnHold")
    assert status == 200 and set(held) == {"available", "onHold"} and all(v.isdigit() for v in held.values())
    spender = m.protocol.addresses.diamond
    status, allowance = await api.call("GET", f"/blockchain/allowance?spender={spender}")
    assert status == 200 and isinstance(allowance["allowance"], str)
