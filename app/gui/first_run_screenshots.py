"""Screenshots of a first launch: the start-up screen while the devnet comes up, and a first chat with SmolLM2.

Usage: ``python3 -m app.gui.first_run_screenshots docs/screenshots`` (offscreen, throwaway data folder, real anvil
devnet with the demo marketplace and the real local model; needs the ``llm`` extra).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication, QWidget

from app.gui.chat.pane import ChatPane
from app.gui.controller import AppController
from app.gui.part2_wiring import Part2
from app.gui.refcount_guard import pin_singletons
from app.gui.theme import Theme, apply_theme

SIZE = (1280, 860)


async def _until(condition: Callable[[], object], what: str, within: float = 240.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"screenshots: gave up waiting for {what}")
        await asyncio.sleep(0.1)


async def _save(widget: QWidget, path: Path) -> None:
    await asyncio.sleep(0.3)  # let layouts and the last repaint settle
    widget.grab().save(str(path))
    print("wrote", path)


async def capture(out: Path, data_dir: Path) -> None:
    """Start the app like a first launch (a fresh wallet from the environment), shoot the start-up and a chat."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, Theme.LIGHT)
    # A brand-new throwaway wallet handed in through the environment skips the wizard (shown elsewhere).
    environ = {"MOR_DATA_DIR": str(data_dir), "WALLET_PRIVATE_KEY": "0x" + secrets.token_hex(32),
               "WEB_ADDRESS": "127.0.0.1:0"}
    part2 = Part2()
    controller = AppController(app, data_dir, environ=environ, dotenv_path=data_dir / "absent.env",
                               devnet_engine="anvil", extra_panes=[part2.panes], window_hooks=[part2.attach])
    controller.entry.resize(*SIZE)
    controller.start()
    try:
        startup = controller.entry.startup
        await _until(lambda: "devnet:seeding history" in startup.steps, "the seeding step on the start-up screen")
        await _save(controller.entry, out / "startup.png")
        await _until(lambda: controller.main is not None and controller.main.isVisible(), "the main window")
        main, services = controller.main, controller.services
        assert main is not None
        assert services is not None
        assert services.devnet is not None
        assert services.demo is not None
        assert services.demo.model_id is not None
        assert services.consumer is not None
        main.resize(*SIZE)
        await services.devnet.faucet.fund(services.wallet.signer.address)
        session = await services.consumer.open_session("0x" + services.demo.model_id.hex(), duration_s=3600)
        main.show_pane("chat")
        chat = main.stack.currentWidget()
        assert isinstance(chat, ChatPane)
        await chat.refresh()
        await chat.add_session(session)
        await chat.send("In one sentence: what is a decentralized AI compute marketplace?")
        await _until(lambda: not chat.answering, "the answer", within=120)
        await _save(main, out / "first-chat-devnet.png")
    finally:
        await controller.stop()


def main(argv: list[str] | None = None) -> int:
    """Write startup.png and first-chat-devnet.png into the folder named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    pin_singletons()
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="mor-first-run-") as folder, loop:
        os.environ["MOR_DATA_DIR"] = folder
        loop.run_until_complete(capture(out, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
