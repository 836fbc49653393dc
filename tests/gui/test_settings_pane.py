"""The settings pane: each field validated inline, nothing written on bad input, real files and a real devnet RPC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config.rating_config import load_rating_config
from app.config.settings import load_settings_file
from app.gui.chain_probe import probe_chain_id
from app.gui.prefs import AUTO_LOCK_KEY, load_prefs, settings_file
from app.gui.settings_pane import SettingsPane
from app.gui.theme import Theme
from app.storage.store import AsyncStorage
from app.wallet.manager import LockState
from app.wallet.secret import WalletSecret
from tests.gui.support import PASSWORD, build_services, click, running_services, type_into, until

DEV_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil's public dev key #1


@pytest.fixture
def pane(qtbot: QtBot, isolated_data_dir: Path) -> SettingsPane:
    widget = SettingsPane(build_services(isolated_data_dir), probe_chain_id)
    qtbot.addWidget(widget)
    widget.show()
    return widget


async def test_weights_must_be_numbers_summing_to_one(qtbot: QtBot, pane: SettingsPane) -> None:
    pane.weights["tps"].edit.setText("fast")
    click(qtbot, pane.weights_save)
    assert "Enter a number" in pane.weights["tps"].error.text()
    pane.weights["tps"].edit.setText("0.5")
    click(qtbot, pane.weights_save)
    assert "must sum to 1" in pane.weights_error.text()
    assert not pane.rating_path().exists()


async def test_saved_weights_load_back_and_reset_restores_defaults(qtbot: QtBot, pane: SettingsPane) -> None:
    for name, value in {"tps": "0.4", "ttft": "0.1", "duration": "0.1", "success": "0.3", "stake": "0.1"}.items():
        pane.weights[name].edit.setText(value)
    click(qtbot, pane.weights_save)
    await until(lambda: pane.rating_path().exists(), what="rating-config.json")
    assert load_rating_config(pane.rating_path()).weights.tps == 0.4
    click(qtbot, pane.weights_reset)
    await until(lambda: load_rating_config(pane.rating_path()).weights.tps == 0.24, what="the default weights")
    assert pane.weights["success"].text() == "0.32"


async def test_api_address_is_validated_and_saved(qtbot: QtBot, pane: SettingsPane, isolated_data_dir: Path) -> None:
    pane.web_address.edit.setText("localhost")
    click(qtbot, pane.api_save)
    assert "host:port" in pane.web_address.error.text()
    assert not settings_file(isolated_data_dir).exists()
    pane.web_address.edit.setText("127.0.0.1:9090")
    click(qtbot, pane.api_save)
    await until(lambda: settings_file(isolated_data_dir).exists(), what="settings.json")
    assert load_settings_file(settings_file(isolated_data_dir))["WEB_ADDRESS"] == "127.0.0.1:9090"


async def test_regenerate_writes_a_new_private_admin_password(qtbot: QtBot, pane: SettingsPane) -> None:
    click(qtbot, pane.regenerate_button)
    await until(lambda: pane.cookie_path.exists(), what="the cookie file")
    first = pane.cookie_path.read_text()
    await until(lambda: pane.regenerate_button.isEnabled(), what="the first regeneration")
    click(qtbot, pane.regenerate_button)
    await until(lambda: pane.cookie_path.read_text() != first, what="a new password")
    assert pane.cookie_path.read_text().startswith("admin:")
    assert pane.cookie_path.stat().st_mode & 0o077 == 0
    assert str(pane.cookie_path) in pane.api_status.text()


async def test_auto_lock_minutes_validated_applied_and_stored(
    qtbot: QtBot, pane: SettingsPane, isolated_data_dir: Path
) -> None:
    pane.services.storage = await AsyncStorage.open(isolated_data_dir / "node.sqlite3")
    try:
        pane.auto_lock.edit.setText("ten")
        click(qtbot, pane.auto_lock_save)
        assert "whole minutes" in pane.auto_lock.error.text()
        pane.auto_lock.edit.setText("5")
        click(qtbot, pane.auto_lock_save)
        assert pane.services.wallet.auto_lock_seconds == 300
        storage = pane.services.storage
        await until(lambda: storage.sync.settings.get(AUTO_LOCK_KEY) == "5", what="the stored minutes")
        pane.theme.setCurrentIndex(pane.theme.findData("dark"))
        await until(lambda: storage.sync.settings.get("gui.theme") == "dark", what="the stored theme")
        assert (await load_prefs(storage)).theme is Theme.DARK
    finally:
        await pane.services.storage.close()


async def test_reset_needs_the_typed_confirmation(qtbot: QtBot, pane: SettingsPane) -> None:
    wallet = pane.services.wallet
    await wallet.setup(PASSWORD, WalletSecret.from_private_key(DEV_KEY))
    type_into(pane.reset_confirmation.edit, "delete")
    click(qtbot, pane.reset_button)
    assert "Type exactly" in pane.reset_confirmation.error.text()
    assert wallet.state is LockState.UNLOCKED
    pane.reset_confirmation.edit.setText("DELETE MY WALLET")
    with qtbot.waitSignal(pane.wallet_reset, timeout=5000):
        click(qtbot, pane.reset_button)
        await until(lambda: wallet.state is LockState.NO_WALLET, what="the reset")


async def test_custom_network_needs_a_chain_id(qtbot: QtBot, pane: SettingsPane, isolated_data_dir: Path) -> None:
    pane.network.setCurrentIndex(pane.network.findData("custom"))
    pane.chain_id.edit.setText("")
    click(qtbot, pane.network_button)
    assert "positive whole number" in pane.chain_id.error.text()
    assert not settings_file(isolated_data_dir).exists()


@pytest.mark.slow
async def test_rpc_of_another_chain_is_refused_and_devnet_is_saved(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir, with_wallet=False) as services:
        assert services.network is not None
        pane = SettingsPane(services, probe_chain_id)
        qtbot.addWidget(pane)
        pane.show()
        pane.network.setCurrentIndex(pane.network.findData("base"))
        pane.rpc.edit.setText(services.network.rpc_urls[0])
        click(qtbot, pane.network_button)
        await until(lambda: pane.rpc.error.isVisible(), what="the chain id mismatch")
        assert "serves chain 31337" in pane.rpc.error.text()
        assert not settings_file(isolated_data_dir).exists()

        pane.network.setCurrentIndex(pane.network.findData("devnet"))
        pane.rpc.edit.setText("")
        pane.failover.setChecked(False)
        with qtbot.waitSignal(pane.network_changed, timeout=5000) as blocker:
            click(qtbot, pane.network_button)
            await until(lambda: settings_file(isolated_data_dir).exists(), what="settings.json")
        assert blocker.args[0].key == "devnet"
        saved = json.loads(settings_file(isolated_data_dir).read_text())
        assert saved == {"ETH_NODE_ADDRESS": "", "ETH_NODE_CHAIN_ID": "0", "FAILOVER_ENABLED": "false"}


async def test_reset_devnet_needs_a_second_click_to_ask_for_the_reset(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir, with_wallet=False) as services:
        pane = SettingsPane(services, probe_chain_id)
        qtbot.addWidget(pane)
        assert not pane.reset_devnet.isHidden()  # the devnet is running
        asked: list[bool] = []
        pane.devnet_reset_requested.connect(lambda: asked.append(True))
        pane.reset_devnet.click()
        assert asked == []
        assert "Click again" in pane.reset_devnet.text()
        pane.reset_devnet.click()
        assert asked == [True]
        assert pane.reset_devnet.text() == "Reset devnet…"
