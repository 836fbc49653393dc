"""The staking pane on a real devnet: every MOR accounted for, approve, withdraw after hold, claim as provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.gui.staking import StakingPane
from app.gui.tx_flow import ConfirmDialog
from app.gui.wallet_model import WalletModel
from tests.gui.market import SESSION_STAKE, Party, close_session, list_bid, new_party, open_session, travel
from tests.gui.support import answer_confirmation, click, running_services, type_into, until

pytestmark = pytest.mark.slow  # each test starts a real devnet (~5 s)


async def _pane(qtbot: QtBot, services) -> StakingPane:  # type: ignore[no-untyped-def]
    pane = StakingPane(services, WalletModel(services))
    qtbot.addWidget(pane)
    pane.show()
    await pane.model.refresh()
    return pane


async def test_approve_explains_the_amount_and_sets_the_allowance(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        pane = await _pane(qtbot, services)
        assert "0 MOR" in pane.allowance_text.text()
        type_into(pane.allowance_amount.edit, "-5")
        click(qtbot, pane.approve_button)
        assert "positive number" in pane.allowance_amount.error.text()
        assert not pane.findChildren(ConfirmDialog)

        pane.allowance_amount.edit.setText("60")
        click(qtbot, pane.approve_button)
        dialog = await answer_confirmation(qtbot, pane)
        assert "No MOR moves now" in dialog.description.text()
        await until(lambda: "60 MOR" in pane.allowance_text.text(), what="the new allowance")
        assert services.network is not None and services.wallet.address is not None
        assert await services.token.allowance(services.wallet.address, services.network.diamond) == 60 * 10**18  # type: ignore[union-attr]
        assert "approving MOR" in " ".join(pane.approve_progress.stages)


async def test_session_stake_then_hold_then_withdraw(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        assert services.devnet is not None and services.diamond is not None and services.token is not None
        me = services.wallet.address
        assert me is not None
        provider = await new_party(services)
        bid = await list_bid(provider)
        await services.token.approve(services.diamond.address, SESSION_STAKE)
        session = await open_session(services.diamond, me, provider.signer, bid)

        pane = await _pane(qtbot, services)
        assert pane.rows["wallet"].text() == "50 MOR"
        assert pane.rows["sessions"].text() == "50 MOR"
        assert pane.rows["total"].text() == "100 MOR"
        assert pane.sessions.rowCount() == 1
        assert pane.sessions.item(0, 4).text() == "50 MOR"  # a staked session returns the whole stake at its end
        assert not pane.withdraw_button.isEnabled()

        await travel(services, 600)
        await close_session(services.diamond, provider.signer, session)
        await pane.model.refresh()
        locked = pane.model.picture.on_hold_locked  # type: ignore[union-attr]
        assert locked > 0
        assert "released" in pane.rows["locked"].text()
        assert not pane.withdraw_button.isEnabled()
        assert pane.rows["total"].text() == "100 MOR"  # nothing lost: it moved from the session to hold

        await travel(services, 86_400)
        await pane.model.refresh()
        assert pane.withdraw_button.isEnabled()
        click(qtbot, pane.withdraw_button)
        await answer_confirmation(qtbot, pane)
        await until(lambda: pane.rows["wallet"].text() == "100 MOR", what="the withdrawn stake")
        assert pane.rows["available"].text() == "0 MOR"


async def test_provider_claims_earnings_of_a_finished_session(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        assert services.diamond is not None and services.token is not None and services.wallet.address is not None
        me_as_provider = services.wallet.address
        assert services.sender is not None
        owner = Party(services.sender.signer, services.diamond, services.token)  # type: ignore[arg-type]
        bid = await list_bid(owner)
        user = await new_party(services)
        await user.token.approve(user.diamond.address, SESSION_STAKE)
        await open_session(user.diamond, user.address, services.sender.signer, bid)  # type: ignore[arg-type]

        pane = await _pane(qtbot, services)
        assert pane.rows["provider"].text() == "5 MOR"
        assert not pane.claim_button.isEnabled()  # the session has not ended yet

        await travel(services, 8 * 86_400)
        await pane.model.refresh()
        assert pane.claim_button.isEnabled()
        before = await services.token.balance_of(me_as_provider)
        click(qtbot, pane.claim_button)
        await answer_confirmation(qtbot, pane)
        await until(lambda: "done in block" in pane.claim_progress.label.text(), what="the claim")
        assert await services.token.balance_of(me_as_provider) > before
        await until(lambda: not pane.claim_button.isEnabled(), what="nothing more to claim")
