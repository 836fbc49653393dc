"""The wizard window renders the wallet's state machine: every path, inline errors, words never copyable."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.gui.wizard_pages import WordLabel
from app.gui.wizard_view import SetupWizardView
from app.wallet.keystore import ScryptParams, encrypt_keystore
from app.wallet.manager import LockState, WalletManager
from app.wallet.wizard import SetupPath, SetupWizard, Step
from tests.gui.support import click, type_into, until

PASSWORD = "correct horse battery"
# anvil's public dev key #1 and the well-known test mnemonic (throwaway, local chains only)
DEV_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
DEV_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TEST_MNEMONIC = "test test test test test test test test test test test junk"
FAST_SCRYPT = ScryptParams(n=2**4)


async def _no_chain(url: str) -> int:
    raise AssertionError("the devnet needs no probe")


@pytest.fixture
def manager(isolated_data_dir: Path) -> WalletManager:
    import keyring.backends.fail

    return WalletManager(
        isolated_data_dir, keyring_backend=keyring.backends.fail.Keyring(), scrypt=FAST_SCRYPT, environ={}
    )


@pytest.fixture
async def view(qtbot: QtBot, manager: WalletManager) -> SetupWizardView:
    async def balances(addresses: Sequence[str]) -> dict[str, tuple[int, int]]:
        return {a: (10**18 * i, 0) for i, a in enumerate(addresses)}

    widget = SetupWizardView(SetupWizard(manager, _no_chain), balances)
    qtbot.addWidget(widget)
    widget.show()
    await widget.start()
    return widget




async def _to_choose(qtbot: QtBot, view: SetupWizardView) -> None:
    view.terms.accept_box.setChecked(True)
    click(qtbot, view.terms.next_button)
    type_into(view.password.password.edit, PASSWORD)
    type_into(view.password.confirmation.edit, PASSWORD)
    click(qtbot, view.password.next_button)
    assert view.wizard.step is Step.CHOOSE


async def _finish_on_devnet(qtbot: QtBot, view: SetupWizardView) -> None:
    await until(lambda: view.wizard.step is Step.NETWORK)
    click(qtbot, view.network.next_button)
    await until(lambda: view.wizard.step is Step.DONE)


async def test_terms_must_be_ticked_and_say_so_inline(qtbot: QtBot, view: SetupWizardView) -> None:
    click(qtbot, view.terms.next_button)
    assert view.wizard.step is Step.TERMS
    assert view.terms.error.isVisible()
    assert "accept the terms" in view.terms.error.text()


async def test_short_password_is_refused_next_to_the_field_with_a_strength_hint(
    qtbot: QtBot, view: SetupWizardView
) -> None:
    view.terms.accept_box.setChecked(True)
    click(qtbot, view.terms.next_button)
    type_into(view.password.password.edit, "abc")
    assert "too short" in view.password.strength.text()
    click(qtbot, view.password.next_button)
    assert view.wizard.step is Step.PASSWORD
    assert "at least 8 characters" in view.password.password.error.text()
    assert not view.password.confirmation.error.isVisible()


async def test_mismatched_confirmation_is_flagged_on_the_confirmation_field(
    qtbot: QtBot, view: SetupWizardView
) -> None:
    view.terms.accept_box.setChecked(True)
    click(qtbot, view.terms.next_button)
    type_into(view.password.password.edit, PASSWORD)
    type_into(view.password.confirmation.edit, PASSWORD + "x")
    click(qtbot, view.password.next_button)
    assert "differ" in view.password.confirmation.error.text()


async def test_create_shows_large_uncopyable_words_then_verifies_and_stores(
    qtbot: QtBot, view: SetupWizardView, manager: WalletManager
) -> None:
    await _to_choose(qtbot, view)
    assert not view.choose.buttons[SetupPath.USE_EXISTING].isVisible()  # nothing in the keychain
    click(qtbot, view.choose.buttons[SetupPath.CREATE])
    assert view.wizard.step is Step.CREATE_SHOW
    words = view.create_show.words
    assert len(words) == 12
    for label in words:
        assert isinstance(label, WordLabel)
        assert label.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction
        assert label.contextMenuPolicy() == Qt.ContextMenuPolicy.NoContextMenu
        assert label.font().pointSize() >= 14
    phrase = [label.text().rsplit(" ", 1)[1] for label in words]

    click(qtbot, view.create_show.next_button)  # not ticked yet
    assert view.wizard.step is Step.CREATE_SHOW
    assert view.create_show.error.isVisible()
    view.create_show.written.setChecked(True)
    click(qtbot, view.create_show.next_button)
    assert view.wizard.step is Step.CREATE_VERIFY
    positions = list(view.create_verify.fields)
    assert 3 <= len(positions) <= 4

    wrong = positions[0]
    for position, field in view.create_verify.fields.items():
        type_into(field.edit, "zoo" if position == wrong else phrase[position - 1])
    click(qtbot, view.create_verify.next_button)
    await until(lambda: view.create_verify.fields[wrong].error.isVisible())
    assert f"Word {wrong}" in view.create_verify.fields[wrong].error.text()
    assert view.wizard.step is Step.CREATE_VERIFY

    view.create_verify.fields[wrong].edit.setText(phrase[wrong - 1])
    click(qtbot, view.create_verify.next_button)
    await _finish_on_devnet(qtbot, view)
    assert manager.state is LockState.UNLOCKED
    with qtbot.waitSignal(view.completed, timeout=1000) as blocker:
        click(qtbot, view.done.next_button)
    assert blocker.args[0].key == "devnet"


async def test_regenerate_switches_to_24_words(qtbot: QtBot, view: SetupWizardView) -> None:
    await _to_choose(qtbot, view)
    view.choose.chosen.emit("create")
    click(qtbot, view.create_show.twenty_four)
    assert len(view.create_show.words) == 24


async def test_import_phrase_checks_checksum_live_and_picks_an_account(
    qtbot: QtBot, view: SetupWizardView, manager: WalletManager
) -> None:
    await _to_choose(qtbot, view)
    click(qtbot, view.choose.buttons[SetupPath.IMPORT_MNEMONIC])
    page = view.import_mnemonic
    page.phrase.setPlainText(TEST_MNEMONIC.replace("junk", "test"))
    assert "checksum" in page.check.text()
    assert not page.show_accounts.isEnabled()
    page.phrase.setPlainText(TEST_MNEMONIC)
    assert page.check.text().startswith("✓")
    click(qtbot, page.show_accounts)
    await until(lambda: page.accounts.rowCount() == 10)
    assert page.accounts.item(1, 1).text() == DEV_ADDRESS
    assert page.accounts.item(1, 2).text() == "1 ETH"
    assert page.check.isVisible()  # the checksum verdict stays next to the phrase
    page.accounts.selectRow(1)
    click(qtbot, page.next_button)
    await _finish_on_devnet(qtbot, view)
    assert manager.address == DEV_ADDRESS


async def test_import_bad_private_key_is_refused_next_to_the_field(
    qtbot: QtBot, view: SetupWizardView, manager: WalletManager
) -> None:
    await _to_choose(qtbot, view)
    view.choose.chosen.emit("import-key")
    type_into(view.import_key.key.edit, "0x1234")
    click(qtbot, view.import_key.next_button)
    await until(lambda: view.import_key.key.error.isVisible())
    assert view.wizard.step is Step.IMPORT_KEY
    assert manager.state is LockState.NO_WALLET
    view.import_key.key.edit.setText(DEV_KEY)
    click(qtbot, view.import_key.next_button)
    await _finish_on_devnet(qtbot, view)
    assert manager.address == DEV_ADDRESS


async def test_import_keystore_file_with_wrong_then_right_password(
    qtbot: QtBot, view: SetupWizardView, manager: WalletManager, tmp_path: Path
) -> None:
    keystore = encrypt_keystore(bytes.fromhex(DEV_KEY[2:]), "keystore-pass", FAST_SCRYPT)
    path = tmp_path / "UTC--key.json"
    path.write_text(json.dumps(keystore))
    await _to_choose(qtbot, view)
    view.choose.chosen.emit("import-keystore")
    page = view.import_keystore
    click(qtbot, page.next_button)
    assert "Choose the keystore file" in page.path.error.text()
    page.path.edit.setText(str(path))
    type_into(page.password.edit, "wrong-password")
    click(qtbot, page.next_button)
    await until(lambda: page.password.error.isVisible())
    page.password.edit.setText("keystore-pass")
    click(qtbot, page.next_button)
    await _finish_on_devnet(qtbot, view)
    assert manager.address == DEV_ADDRESS


async def test_custom_network_needs_a_numeric_chain_id_and_a_valid_url(
    qtbot: QtBot, view: SetupWizardView, manager: WalletManager
) -> None:
    await _to_choose(qtbot, view)
    view.choose.chosen.emit("import-key")
    view.import_key.key.edit.setText(DEV_KEY)
    click(qtbot, view.import_key.next_button)
    await until(lambda: view.wizard.step is Step.NETWORK)
    page = view.network
    page.radios["custom"].setChecked(True)
    type_into(page.chain_id.edit, "eight")
    click(qtbot, page.next_button)
    assert "positive whole number" in page.chain_id.error.text()
    page.chain_id.edit.setText("8453")
    type_into(page.rpc.edit, "ftp://node")
    click(qtbot, page.next_button)
    await until(lambda: page.rpc.error.isVisible())
    assert "must start with http" in page.rpc.error.text()
    assert view.wizard.step is Step.NETWORK
    assert manager.state is LockState.NO_WALLET


async def test_back_returns_to_the_previous_page(qtbot: QtBot, view: SetupWizardView) -> None:
    await _to_choose(qtbot, view)
    assert view.back_button.isVisible()
    click(qtbot, view.back_button)
    assert view.wizard.step is Step.PASSWORD
    assert view.current_page() is view.password
    assert not isinstance(view.current_page(), QLabel)
