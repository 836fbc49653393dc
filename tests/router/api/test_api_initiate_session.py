"""``/proxy/sessions/initiate`` against a real provider node: the provider's signed SessionRes, passed on intact."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.router.morrpc import signing
from app.router.morrpc.messages import SessionRes
from app.router.morrpc.receipts import Approval, recover_personal_signer
from tests.chain.protocol_env import MOR
from tests.support.market_api import Api, running_api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as running:
        yield running


async def _initiate(api: Api, spend: int) -> tuple[int, dict[str, object]]:
    a = api.market.a
    return await api.call("POST", "/proxy/sessions/initiate", json={
        "user": api.market.user.address, "provider": a.address, "spend": str(spend), "providerUrl": a.endpoint,
        "bidId": "0x" + a.bid_id.hex()})


async def test_initiate_answers_the_providers_signed_session_res(api: Api) -> None:
    a, user = api.market.a, api.market.user

    status, body = await _initiate(api, 20 * MOR)

    assert status == 200, body
    assert set(body) == {"message", "approval", "approvalSig", "user", "timestamp", "signature"}
    res = SessionRes.from_obj(body, "result")
    assert signing.public_key_to_address(res.pub_key) == a.address
    assert len(res.signature) == 65 and signing.verify(res, res.pub_key)  # signed by the provider's own key
    assert recover_personal_signer(res.approval, res.approval_sig) == a.address
    approval = Approval.decode(res.approval)
    assert (approval.bid_id, approval.user, approval.chain_id) == (a.bid_id, user.address, api.market.client.chain_id)
    assert res.user == user.address and body["user"] == user.address.lower()  # Go writes addresses lower-case


async def test_the_initiated_approval_opens_a_session_on_chain(api: Api) -> None:
    _, body = await _initiate(api, 20 * MOR)

    status, opened = await api.call("POST", "/blockchain/sessions", json={
        "approval": body["approval"], "approvalSig": body["approvalSig"], "stake": str(20 * MOR),
        "directPayment": False})

    assert status == 200, opened
    session = await api.market.user.diamond.get_session(bytes.fromhex(str(opened["sessionID"])[2:]))
    assert session.stake == 20 * MOR and session.user == api.market.user.address
