"""First run, headless, on a fresh data folder: devnet + demo marketplace + a new funded wallet → a real SmolLM2 answer.

Composed as the headless entry composes it (``Services`` with an embedded devnet and an environment wallet), with the
demo marketplace started on the running devnet the way the composition root is meant to start it.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from app.bootstrap.services import Services
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.devnet.demo import DemoMarketplace
from app.devnet.local_model import MISSING_MESSAGE, LocalModelServer
from app.devnet.progress import StartupStep
from app.router.consumer.failover import ChunkItem
from app.router.consumer.prompt import content_of
from app.wallet.manager import LockState, WalletManager

pytestmark = [
    pytest.mark.llm,
    pytest.mark.slow,
    pytest.mark.skipif(not LocalModelServer().available(), reason=MISSING_MESSAGE),
    pytest.mark.timeout(150),
]


async def test_a_fresh_install_chats_with_smollm2_through_a_demo_provider(isolated_data_dir: Path) -> None:
    started = time.monotonic()
    # A brand-new wallet: a random throwaway key that has never held anything.
    environ = {"WALLET_PRIVATE_KEY": "0x" + secrets.token_hex(32)}
    settings = load_settings([], environ=environ, dotenv_path=isolated_data_dir / "absent.env")
    services = Services(load_node_config(settings), isolated_data_dir,
                        wallet=WalletManager(isolated_data_dir, environ=environ), with_provider=False)
    demo = DemoMarketplace(isolated_data_dir, model_server=LocalModelServer(log_path=isolated_data_dir / "model.log"))
    steps: list[StartupStep] = []
    try:
        await services.start()
        assert services.devnet is not None
        await demo.start(services.devnet, progress=steps.append)
        consumer, token = services.consumer, services.token
        assert consumer is not None
        assert token is not None
        assert services.wallet.state is LockState.UNLOCKED
        address = services.wallet.signer.address
        balance_before = await token.balance_of(address)
        await services.devnet.faucet.fund(address)
        assert demo.model_id is not None

        session = await consumer.open_session("0x" + demo.model_id.hex(), duration_s=600)
        text = ""
        async for item in consumer.chat(prompt="What is the capital of France? One sentence.",
                                        session_id=session.id, params={"max_tokens": 24, "temperature": 0}):
            if isinstance(item, ChunkItem):
                text += content_of(item.data)
        closed = await consumer.close_session(session.id)
        demo_addresses = {p.address.lower() for p in demo.providers}
    finally:
        await demo.stop()
        await services.stop()
    elapsed = time.monotonic() - started

    assert balance_before == 0
    assert text.strip()
    assert session.provider.lower() in demo_addresses
    assert not closed.disputed  # the provider signed the report
    final = {s.name: s for s in steps if s.state == "ok"}
    assert set(final) == {"local model server", "demo providers", "seeding history"}
    assert final["seeding history"].message.endswith("failed on the flaky provider)")
    assert elapsed < 120
