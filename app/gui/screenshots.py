"""Screenshots of the wizard, dashboard, staking, settings and unlock screens, from the real app on a devnet.

Usage: ``python3 -m app.gui.screenshots docs/screenshots`` (runs offscreen in a throwaway data folder).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring.backends.fail
import qasync
from PySide6.QtWidgets import QApplication, QWidget

from app.gui.controller import AppController
from app.gui.dashboard import DashboardPane
from app.gui.refcount_guard import pin_singletons
from app.gui.staking import StakingPane
from app.gui.theme import Theme, apply_theme
from app.gui.tx_flow import ConfirmDialog, TxPlan
from app.gui.wizard_view import SetupWizardView
from app.wallet.keystore import ScryptParams
from app.wallet.manager import WalletManager
from app.wallet.wizard import SetupPath, SetupWizard, Step

PASSWORD = "screenshot password 1"  # noqa: S105 - a throwaway wallet on a throwaway devnet
TEST_MNEMONIC = "test test test test test test test test test test test junk"  # the public dev mnemonic
SIZE = (1280, 860)


async def _until(condition: Callable[[], object], what: str, within: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"screenshots: timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Shooter:
    """Saves ``QWidget.grab()`` of widgets into one folder."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.saved: list[Path] = []

    async def save(self, widget: QWidget, name: str) -> None:
        await asyncio.sleep(0.3)  # let layouts and pending repaints settle before grabbing
        QApplication.processEvents()
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        self.saved.append(path)
        print("wrote", path)


def _wallets(data_dir: Path) -> WalletManager:
    # A file-stored wallet in the throwaway folder: screenshots must never touch the real OS keychain.
    backend = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    return WalletManager(data_dir, keyring_backend=backend, scrypt=ScryptParams(n=2**12),
                         environ={})  # fmt: skip


async def _wizard(shoot: Shooter, controller: AppController) -> None:
    await _until(lambda: controller.entry.wizard is not None and controller.entry.wizard.view is not None, "wizard")
    entry, wizard = controller.entry, controller.entry.wizard
    assert wizard is not None
    entry.resize(860, 700)
    wizard.terms.accept_box.setChecked(True)
    await shoot.save(entry, "wizard-1-terms")
    wizard.terms.next_button.click()
    wizard.password.password.edit.insert(PASSWORD)
    wizard.password.confirmation.edit.insert(PASSWORD)
    await shoot.save(entry, "wizard-2-password")
    wizard.password.next_button.click()
    await shoot.save(entry, "wizard-3-choose")
    wizard.choose.buttons[SetupPath.CREATE].click()
    words = [label.text().rsplit(" ", 1)[1] for label in wizard.create_show.words]
    await shoot.save(entry, "wizard-4-recovery-phrase")
    wizard.create_show.written.setChecked(True)
    wizard.create_show.next_button.click()
    for position, field in wizard.create_verify.fields.items():
        field.edit.insert(words[position - 1])
    await shoot.save(entry, "wizard-5-verify")
    wizard.create_verify.next_button.click()
    await _until(lambda: wizard.wizard.step is Step.NETWORK, "the network page")
    await shoot.save(entry, "wizard-6-network")
    wizard.network.next_button.click()
    await _until(lambda: wizard.wizard.step is Step.DONE, "the done page")
    wizard.done.next_button.click()
    await _until(lambda: controller.main is not None and controller.main.isVisible(), "the main window")


async def _import_page(shoot: Shooter, controller: AppController, data_dir: Path) -> None:
    """The import page with the public dev mnemonic: live checksum and the account picker with balances."""
    view = SetupWizardView(SetupWizard(_wallets(data_dir / "import"), controller_probe), controller._preview_balances)
    view.resize(860, 700)
    view.show()
    await view.start()
    view.terms.accept_box.setChecked(True)
    view.terms.next_button.click()
    view.password.password.edit.insert(PASSWORD)
    view.password.confirmation.edit.insert(PASSWORD)
    view.password.next_button.click()
    view.choose.buttons[SetupPath.IMPORT_MNEMONIC].click()
    view.import_mnemonic.phrase.setPlainText(TEST_MNEMONIC)
    view.import_mnemonic.show_accounts.click()
    await _until(lambda: view.import_mnemonic.accounts.rowCount() == 10, "the account preview")
    await shoot.save(view, "wizard-7-import-phrase")
    view.close()
    view.deleteLater()


async def controller_probe(url: str) -> int:
    raise RuntimeError("not used: the devnet needs no probe")


async def _activity(controller: AppController) -> None:
    """Faucet funds, a MOR allowance, two demo sessions (one closed early, so some MOR is on hold)."""
    services = controller.services
    assert services is not None
    assert services.devnet is not None
    assert services.diamond is not None
    address = services.wallet.address
    assert address is not None
    assert services.token is not None
    await services.devnet.faucet.fund(address)
    await services.token.approve(services.diamond.address, 200 * 10**18)
    consumer = services.consumer
    models = (await services.diamond.active_model_ids(0, 10)).items
    if consumer is not None and models:
        model = "0x" + models[0].hex()
        try:
            await consumer.open_session(model, duration_s=3600)
            early = await consumer.open_session(model, duration_s=1800)
            assert services.chain is not None
            # Twenty minutes of use before closing early, so a visible part of the stake goes on hold.
            await services.chain.rpc("evm_increaseTime", [1200])
            await services.chain.rpc("evm_mine", [])
            await consumer.close_session(early.id)
        except Exception as e:  # the screenshots still show balances if the demo market is not reachable
            print("screenshots: demo sessions skipped:", e)


async def capture(out: Path, data_dir: Path) -> list[Path]:
    """Run the app on a fresh devnet in ``data_dir`` and save every screen into ``out``."""
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, Theme.LIGHT)
    shoot = Shooter(out)
    controller = AppController(app, data_dir, environ={"MOR_DATA_DIR": str(data_dir)},
                               dotenv_path=data_dir / "absent.env", wallet_factory=_wallets)  # fmt: skip
    try:
        controller.start()
        await _wizard(shoot, controller)
        await _import_page(shoot, controller, data_dir)
        main = controller.main
        assert main is not None
        assert controller.model is not None
        main.resize(*SIZE)
        await _activity(controller)
        await controller.model.refresh()
        apply_theme(app, Theme.LIGHT)  # the stored preference may have switched it
        for key in ("dashboard", "staking", "settings"):
            main.show_pane(key)
            await shoot.save(main, key)
        staking = main.stack.widget(main.pane_keys().index("staking"))
        assert isinstance(staking, StakingPane)
        plan = TxPlan("Approve MOR for sessions", "Lets the Morpheus contract take up to this much MOR from your "
                      "wallet when you open sessions. No MOR moves now.",
                      (("Allowance now", "200 MOR"), ("New allowance", "500 MOR")), "0x0", b"")  # fmt: skip
        dialog = ConfirmDialog(plan, main)
        dialog.set_fee(63_000 * 2 * 10**9)
        dialog.open()
        await shoot.save(dialog, "confirm-transaction")
        dialog.reject()
        apply_theme(app, Theme.DARK)
        main.show_pane("dashboard")
        dashboard = main.stack.currentWidget()
        assert isinstance(dashboard, DashboardPane)
        await shoot.save(main, "dashboard-dark")
        apply_theme(app, Theme.LIGHT)
        main.lock_requested.emit()
        await _until(lambda: controller.entry.unlock is not None and controller.entry.unlock.isVisible(), "lock")
        controller.entry.resize(860, 560)
        await shoot.save(controller.entry, "unlock")
    finally:
        await controller.stop()
    return shoot.saved


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python3 -m app.gui.screenshots <folder>``."""
    args = sys.argv[1:] if argv is None else argv
    pin_singletons()
    out = Path(args[0] if args else "docs/screenshots")
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="mor-screens-") as tmp, loop:
        saved = loop.run_until_complete(capture(out.resolve(), Path(tmp)))
    print(f"{len(saved)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
