"""The mnemonic, the private key (hex with or without 0x, any case) and the app password appear nowhere: not in the
data folder, the app's own log file, crash reports, console output or API answers, after a whole session (mnemonic
wallet with an app password, a session opened, a chat, a crash while unlocked, the app closed) and after setting
the wallet over the headless HTTP API with valid and with bad input."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import keyring
import pytest
import pytest_asyncio
from keyring.backends import fail

from app.chain.diamond import Diamond
from app.chain.multicall import Multicall
from app.chain.token import MorToken
from app.chain.tx import TxSender
from app.errors import WalletError
from app.gui.app import _log_to_file
from app.gui.crash import CrashReporter
from app.router.consumer.failover import ChunkItem
from app.router.consumer.prompt import content_of
from app.router.consumer.service import ConsumerService, ConsumerSettings
from app.signer import Signer
from app.storage.store import AsyncStorage
from app.wallet.manager import WalletManager
from app.wallet.mnemonic import generate_mnemonic, validate_mnemonic
from app.wallet.secret import WalletSecret
from tests.chain.conftest import FAST_POLICY
from tests.chain.protocol_env import MOR
from tests.faults.market import FaultMarket, running_fault_market
from tests.security.headless_node import running_headless
from tests.wallet.vectors import FAST_SCRYPT

pytestmark = pytest.mark.asyncio(loop_scope="module")

PASSWORD = "canary-app-password-7f3a"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def market(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultMarket]:
    async with running_fault_market(tmp_path_factory.mktemp("secrets-market")) as env:
        yield env


@pytest.fixture
def app_log() -> Iterator[Path]:
    """The desktop app's own log file setup (app.gui.app), at DEBUG so even debug lines are scanned; undone after."""
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    path = _log_to_file()
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)


def crash_in_signing(signer: Signer, phrase: str, key: bytes, password: str) -> Exception:
    """An unexpected error deep in the signing code, as a real crash: the mnemonic, the key and the password sit in
    the locals of the traceback's frames (this one and the signer's)."""
    key_hex, unlocked_with = "0x" + key.hex(), password
    try:
        signer.sign_transaction({"to": "not an address", "value": -1, "phrase": phrase})
    except Exception as e:  # whatever eth-account raises is the crash being reported
        assert key_hex and unlocked_with  # the locals are live in this frame when the traceback is taken
        return e
    raise AssertionError("signing a malformed transaction did not fail")


async def report_crash_every_way(reporter: CrashReporter, exc: BaseException) -> None:
    """Report ``exc`` directly, through ``sys.excepthook`` and through the event loop, as the app's hooks would."""
    loop = asyncio.get_running_loop()
    hook, handler = sys.excepthook, loop.get_exception_handler()
    reporter.install(loop)
    try:
        reporter.report(exc)
        sys.excepthook(type(exc), exc, exc.__traceback__)
        loop.call_exception_handler({"message": "Task exception was never retrieved", "exception": exc})
    finally:
        sys.excepthook = hook
        loop.set_exception_handler(handler)


def secret_forms(phrase: str, key: bytes, password: str) -> dict[str, bytes]:
    """Every spelling of a secret that could end up on disk, as bytes to search for."""
    forms = {"mnemonic": phrase, "app password": password, "key hex": key.hex(), "key HEX": key.hex().upper(),
             "key 0x": "0x" + key.hex(), "key 0X": "0x" + key.hex().upper()}
    encoded = {name: value.encode() for name, value in forms.items()}
    encoded["key raw bytes"] = key
    encoded["mnemonic utf-16"] = phrase.encode("utf-16-le")
    return encoded


def word_pairs(phrase: str) -> dict[str, bytes]:
    """Every two consecutive words of ``phrase``: part of a mnemonic leaks as much as the whole."""
    return {f"mnemonic words {i}-{i + 1}": f"{a} {b}".encode()
            for i, (a, b) in enumerate(itertools.pairwise(phrase.split()))}


def leaks(folders: list[Path], extra: dict[str, str], secrets: dict[str, bytes],
          allowed: dict[str, Path] | None = None) -> list[str]:
    """Where any of ``secrets`` occurs; ``allowed`` maps a secret to the one file that is its legitimate home."""
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                found += [f"{name} in {path}" for name, needle in secrets.items()
                          if needle in data and (allowed or {}).get(name) != path]
    for where, text in extra.items():
        found += [f"{name} in {where}" for name, needle in secrets.items() if needle in text.encode()]
    return found


async def test_no_secret_at_rest_after_a_whole_session_and_a_crash_while_unlocked(
    market: FaultMarket, isolated_data_dir: Path, app_log: Path, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    phrase = generate_mnemonic(24)
    secret = WalletSecret.from_mnemonic(phrase)
    key = await asyncio.to_thread(secret.derive_key)
    reporter = CrashReporter(app_log)
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
    crash = crash_in_signing(signer, phrase, key, PASSWORD)
    await report_crash_every_way(reporter, crash)
    manager.lock()
    with pytest.raises(WalletError):
        await manager.unlock(PASSWORD + "-wrong")  # an error path, logged like any other
    await manager.unlock(PASSWORD)
    manager.lock("shutdown")
    await consumer.stop()
    await storage.close()

    out, err = capfd.readouterr()
    crash_reports = {f"crash report {i}": summary for i, summary in enumerate(reporter.reported)}
    found = await asyncio.to_thread(
        leaks, [isolated_data_dir, app_log.parent],
        {"captured log": caplog.text, "stdout": out, "stderr": err, **crash_reports},
        {**secret_forms(phrase, key, PASSWORD), **word_pairs(phrase)})
    assert found == []
    # The scan saw the real thing: three crash reports with their tracebacks in the app's log, and the database.
    assert len(reporter.reported) == 3
    logged = await asyncio.to_thread(app_log.read_text, encoding="utf-8")
    assert logged.count("unexpected error") >= 3 and "Traceback" in logged and "crash_in_signing" in logged
    assert (isolated_data_dir / "node.sqlite3").exists()


def _failing_checksum(phrase: str) -> str:
    """``phrase`` with its last word swapped for one that breaks the checksum (a 12-word checksum is 4 bits: one
    random swap in 16 would still be valid, so try words until the validator refuses)."""
    for word in ("zoo", "abandon", "ability", "able", "about", "above"):
        candidate = " ".join([*phrase.split()[:-1], word])
        try:
            validate_mnemonic(candidate)
        except WalletError:
            return candidate
    raise AssertionError("no checksum-breaking word found")


async def wallet_routes_with_good_and_bad_input(api_url: str, admin_password: str, phrase: str,
                                                key_hex: str) -> dict[str, str]:
    """POST /wallet/privateKey and /wallet/mnemonic, each first with a near-miss of the secret, then with it; the
    status and body of every answer, keyed by what was sent."""
    bad_phrase = _failing_checksum(phrase)
    calls = [
        ("privateKey 63 hex", "/wallet/privateKey", {"privateKey": "0x" + key_hex[:-1]}),
        ("privateKey bad hex", "/wallet/privateKey", {"privateKey": "0x" + key_hex[:-1] + "g"}),
        ("privateKey upper", "/wallet/privateKey", {"privateKey": "0X" + key_hex.upper()}),
        ("mnemonic checksum", "/wallet/mnemonic", {"mnemonic": bad_phrase, "derivationPath": "0"}),
        ("mnemonic path", "/wallet/mnemonic", {"mnemonic": phrase, "derivationPath": "m/44'/x"}),
        ("mnemonic", "/wallet/mnemonic", {"mnemonic": phrase, "derivationPath": "0"}),
    ]
    answers: dict[str, str] = {}
    admin = {"Authorization": aiohttp.encode_basic_auth("admin", admin_password)}
    async with aiohttp.ClientSession(headers=admin) as http:
        for name, route, body in calls:
            if name == "mnemonic":  # replace the key wallet set just before
                async with http.delete(f"{api_url}/wallet") as res:
                    assert res.status == 200, await res.text()
            async with http.post(f"{api_url}{route}", json=body) as res:
                answers[name] = f"{res.status} {await res.text()}"
    return answers


@pytest.fixture
def no_keychain() -> Iterator[None]:
    """The wallet goes to the encrypted files this test scans, whatever keyring backend an earlier-imported test
    module registered (tests/wallet/support.py's in-memory keyring outranks the rest once imported)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


async def test_wallet_set_over_the_http_api_leaves_no_secret_in_files_logs_or_answers(
    isolated_data_dir: Path, app_log: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
    no_keychain: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    phrase = generate_mnemonic(12)
    phrase_key = await asyncio.to_thread(WalletSecret.from_mnemonic(phrase).derive_key)
    # anvil's public dev key #6: a throwaway key, never used outside local chains
    key = bytes.fromhex("92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e")

    async with running_headless(isolated_data_dir) as node:
        answers = await wallet_routes_with_good_and_bad_input(node.api_url.rstrip("/"), node.admin_password,
                                                              phrase, key.hex())
        admin_password, cookie = node.admin_password, node.data_dir / ".cookie"
        output = node.output

    assert [answers[n][:3] for n in ("privateKey 63 hex", "privateKey bad hex", "mnemonic checksum",
                                     "mnemonic path")] == ["400"] * 4, answers
    assert answers["privateKey upper"].startswith("200") and answers["mnemonic"].startswith("200"), answers
    out, err = capfd.readouterr()
    secrets = {**secret_forms(phrase, key, admin_password), **word_pairs(phrase),
               **{f"mnemonic's {name}": needle for name, needle in secret_forms(phrase, phrase_key, "").items()
                  if name.startswith("key")}}
    # Headless, the app password of an API-set wallet is the admin password, whose home is the .cookie file.
    found = await asyncio.to_thread(
        leaks, [isolated_data_dir, app_log.parent],
        {"captured log": caplog.text, "stdout": out, "stderr": err, "node output": output,
         **{f"answer to {name}": text for name, text in answers.items()}},
        secrets, {"app password": cookie})
    assert found == []
    stored = await asyncio.to_thread(lambda: sorted(p.name for p in isolated_data_dir.rglob("*.json")))
    assert {"keystore.json", "mnemonic.sealed.json"} <= set(stored), stored  # the scan saw the stored wallet
    assert (await asyncio.to_thread(app_log.stat)).st_size > 0  # the node logged to the app's log file
