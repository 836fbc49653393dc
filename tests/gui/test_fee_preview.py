"""The confirmation's "at most" fee is the gas limit × fee cap of the transaction actually sent (headroom included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.bootstrap.services import Services
from app.chain.diamond import CLAIM_FOR_PROVIDER_HEADROOM, WITHDRAW_USER_STAKES_HEADROOM
from app.gui.staking import StakingPane
from app.gui.wallet_model import WalletModel
from tests.gui.market import SESSION_STAKE, Party, close_session, list_bid, new_party, open_session, travel
from tests.gui.support import answer_confirmation, click, running_services, until

pytestmark = pytest.mark.slow  # each test starts a real devnet (~5 s)


async def _pane(qtbot: QtBot, services: Services) -> StakingPane:
    pane = StakingPane(services, WalletModel(services))
    qtbot.addWidget(pane)
    pane.show()
    await pane.model.refresh()
    return pane


async def _last_tx_from(services: Services, address: str) -> dict[str, Any]:
    """The wallet's transaction in the latest block (the devnet mines one block per transaction)."""
    assert services.chain is not None
    block = await services.chain.request(lambda w3: w3.eth.get_block("latest", full_transactions=True))
    transactions: list[dict[str, Any]] = [dict(tx) for tx in block["transactions"]]  # type: ignore[arg-type]
    sent = [tx for tx in transactions if str(tx["from"]).lower() == address.lower()]
    assert len(sent) == 1, f"expected one transaction from {address} in the latest block, found {len(sent)}"
    return sent[0]


async def _confirm_and_compare(
    qtbot: QtBot, pane: StakingPane, services: Services, headroom: int, progress_text: Any
) -> None:
    dialog = await answer_confirmation(qtbot, pane)
    assert dialog.fee_wei is not None, dialog.error.text()
    await until(progress_text, what="the transaction mined")
    assert services.wallet.address is not None
    tx = await _last_tx_from(services, services.wallet.address)
    assert dialog.fee_wei == tx["gas"] * tx["maxFeePerGas"]
    assert tx["gas"] > headroom  # the limit sent carries the time-dependent headroom the preview now counts


async def test_claim_preview_fee_is_the_mined_claims_gas_limit_times_its_fee_cap(
    qtbot: QtBot, isolated_data_dir: Path
) -> None:
    async with running_services(isolated_data_dir) as services:
        assert services.diamond is not None and services.token is not None and services.sender is not None
        owner = Party(services.sender.signer, services.diamond, services.token)  # type: ignore[arg-type]
        bid = await list_bid(owner)
        user = await new_party(services)
        await user.token.approve(user.diamond.address, SESSION_STAKE)
        await open_session(user.diamond, user.address, services.sender.signer, bid)  # type: ignore[arg-type]
        await travel(services, 8 * 86_400)
        pane = await _pane(qtbot, services)
        assert pane.claim_button.isEnabled()

        click(qtbot, pane.claim_button)
        await _confirm_and_compare(qtbot, pane, services, CLAIM_FOR_PROVIDER_HEADROOM,
                                   lambda: "done in block" in pane.claim_progress.label.text())  # fmt: skip


async def test_withdraw_preview_fee_is_the_mined_withdrawals_gas_limit_times_its_fee_cap(
    qtbot: QtBot, isolated_data_dir: Path
) -> None:
    async with running_services(isolated_data_dir) as services:
        assert services.diamond is not None and services.token is not None and services.wallet.address is not None
        provider = await new_party(services)
        bid = await list_bid(provider)
        await services.token.approve(services.diamond.address, SESSION_STAKE)
        session = await open_session(services.diamond, services.wallet.address, provider.signer, bid)
        await travel(services, 600)
        await close_session(services.diamond, provider.signer, session)  # early: part of the stake goes on hold
        await travel(services, 86_400)
        pane = await _pane(qtbot, services)
        assert pane.withdraw_button.isEnabled()

        click(qtbot, pane.withdraw_button)
        await _confirm_and_compare(qtbot, pane, services, WITHDRAW_USER_STAKES_HEADROOM,
                                   lambda: "done in block" in pane.withdraw_progress.label.text())  # fmt: skip
