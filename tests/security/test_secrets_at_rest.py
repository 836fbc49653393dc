"""After a whole session (mnemonic wallet with an app password, a session opened, a chat, the app closed) the
mnemonic, the private key and the app password appear nowhere: not in the data folder, logs or console output."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from keyring.backends import fail

from app.chain.diamond import Diamond
from app.chain.multicall import Multicall
from app.chain.token import MorToken
from app.chain.tx import TxSender
from app.errors import WalletError
from app.paths import log_dir
from app.router.consumer.failover import ChunkItem
from app.router.consumer.prompt import content_of
from app.router.consumer.service import ConsumerService, ConsumerSettings
from app.storage.store import AsyncStorage
from app.wallet.manager import WalletManager
from app.wallet.mnemonic import generate_mnemonic
from app.wallet.secret import WalletSecret
from tests.chain.conftest import FAST_POLICY
from tests.chain.protocol_env import MOR
from tests.faults.market import FaultMarket, running_fault_market
from tests.wallet.vectors import FAST_SCRYPT

pytestmark = pytest.mark.asyncio(loop_scope="module")

PASSWORD = "canary-app-password-7f3a"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def market(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultMarket]:
    async with running_fault_market(tmp_path_factory.mktemp("secrets-market")) as env:
        yield env


def secret_forms(phrase: str, key: bytes, password: str) -> dict[str, bytes]:
    """Every spelling of a secret that could end up on disk, as bytes to search for."""
    forms = {"mnemonic": phrase, "app password": password, "key hex": key.hex(), "key HEX": key.hex().upper(),
             "key 0x": "0x" + key.hex(), "key 0X": "0x" + key.hex().upper()}
    encoded = {name: value.encode() for name, value in forms.items()}
    encoded["key raw bytes"] = key
    encoded["mnemonic utf-16"] = phrase.encode("utf-16-le")
    return encoded


def leaks(folders: list[Path], extra: dict[str, str], secrets: dict[str, bytes]) -> list[str]:
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                found += [f"{name} in {path}" for name, needle in secrets.items() if needle in data]
    for where, text in extra.items():
        found += [f"{name} in {where}" for name, needle in secrets.items() if needle in text.encode()]
    return found


async def test_no_secret_at_rest_after_a_whole_session(
    market: FaultMarket, isolated_data_dir: Path, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    logs = log_dir()
    logs.mkdir(parents=True, exist_ok=True)
    file_log = logging.FileHandler(logs / "node.log")
    file_log.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(file_log)
    phrase = generate_mnemonic(24)
    secret = WalletSecret.from_mnemonic(phrase)
    key = await asyncio.to_thread(secret.derive_key)
    try:
        manager = WalletManager(isolated_data_dir, keyring_backend=fail.Keyring(), scrypt=FAST_SCRYPT, environ={})
        address = await manager.setup(PASSWORD, secret)
        owner = market.protocol.owner
        await owner.sender.transfer_eth(address, 10**18)
        await owner.token.transfer(address, 200 * MOR)

        signer = manager.signer
        sender = TxSender(market.client, signer, policy=FAST_POLICY)
        diamond = Diamond(market.client, market.protocol.addresses.diamond, sender,
                          Multicall(market.client, market.protocol.addresses.multicall))
        storage = await AsyncStorage.open(isolated_data_dir / "node.sqlite3")
        consumer = ConsumerService(signer, diamond, MorToken(market.client, market.protocol.addresses.token, sender),
                                   market.client, storage, settings=ConsumerSettings(first_message_timeout_s=5))
        await consumer.start(expiry_interval_s=3600)
        session = await consumer.open_session(bid_id=market.providers[0].bid_hex, duration_s=600)
        text = "".join([content_of(i.data) async for i in consumer.chat(prompt="hello", session_id=session.id)
                        if isinstance(i, ChunkItem)])
        assert text == "Hello, world!"
        manager.lock()
        with pytest.raises(WalletError):
            await manager.unlock(PASSWORD + "-wrong")  # an error path, logged like any other
        await manager.unlock(PASSWORD)
        manager.lock("shutdown")
        await consumer.stop()
        await storage.close()
    finally:
        logging.getLogger().removeHandler(file_log)
        file_log.close()

    out, err = capfd.readouterr()
    scanned = [isolated_data_dir, logs]
    found = await asyncio.to_thread(
        leaks, scanned, {"captured log": caplog.text, "stdout": out, "stderr": err},
        secret_forms(phrase, key, PASSWORD))
    assert found == []
    assert (logs / "node.log").stat().st_size > 0  # the scan did see a real log
    assert (isolated_data_dir / "node.sqlite3").exists()
