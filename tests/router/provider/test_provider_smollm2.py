"""One real prompt through the provider: codec-only consumer → MOR-RPC → SmolLM2 under llama-cpp-python's server."""

from __future__ import annotations

import pytest

from app.config.models_config import parse_models_config
from app.devnet.local_model import MISSING_MESSAGE, LocalModelServer
from tests.router.provider import morrpc_consumer as c
from tests.router.provider.provider_env import STAKE, Devnet, running_provider

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(not LocalModelServer().available(), reason=MISSING_MESSAGE),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(90),
]


async def test_smollm2_answer_streams_through_the_provider_encrypted_to_the_consumer(
    fresh_chain: Devnet, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log_path = tmp_path_factory.mktemp("smollm2") / "local-model.log"
    async with LocalModelServer(log_path=log_path) as llm:
        entry = {"modelId": "0x" + fresh_chain.model_id.hex(), "modelName": llm.model_name, "apiType": "openai",
                 "apiUrl": llm.chat_completions_url}  # fmt: skip
        models = parse_models_config({"models": [entry]}, "smollm2 models-config")
        async with running_provider(fresh_chain, models) as (server, controller):
            port, user = server.address[1], fresh_chain.protocol.user
            res = c.approval(await c.exchange(port, c.session_request(user.signer, fresh_chain.bid_id, STAKE)))
            session_id = await fresh_chain.open_session(user, res.approval, res.approval_sig)
            body = {
                "messages": [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}],
                "max_tokens": 24,
                "temperature": 0,
                "stream": True,
            }
            responses = await c.exchange(port, c.prompt(user.signer, session_id, body), within=60)
            answer = c.open_answer(responses, user.signer, res.pub_key)
    assert answer.error is None
    assert c.text_of(answer).strip()
    assert answer.items[-1] == "[DONE]"
    state = controller.store.get(session_id)
    assert state is not None and state.totals.count == 1
    stats = state.last_prompt
    assert stats is not None
    assert 0 < stats.output_tokens <= 24
    assert stats.ttft_ms > 0
