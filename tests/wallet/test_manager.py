"""WalletManager: setup, unlock, lock, auto-lock, reveal, export, reset, and where each wallet is kept."""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
from pathlib import Path

import pytest
from eth_account import Account
from keyring.backends import fail

from app.errors import WalletError
from app.wallet.keychain import DERIVATION_PATH_KEY, MNEMONIC_KEY, PRIVATE_KEY_KEY, SERVICE
from app.wallet.manager import (
    DEFAULT_AUTO_LOCK_SECONDS,
    RESET_CONFIRMATION,
    LockEvent,
    LockState,
    WalletManager,
    WalletSource,
)
from app.wallet.secret import SecretKind, WalletSecret
from wallet.support import MemoryKeyring
from wallet.vectors import APP_PASSWORD, DEV_ADDRESS_0, DEV_ADDRESS_1, DEV_KEY_1, DEV_MNEMONIC, FAST_SCRYPT


async def wait_for_state(manager: WalletManager, state: LockState) -> None:
    """Wait (at most 3 s) for ``manager`` to reach ``state``, woken by its own lock-state events."""
    reached = asyncio.Event()
    unsubscribe = manager.subscribe(lambda event: reached.set() if event.state is state else None)
    try:
        if manager.state is not state:
            async with asyncio.timeout(3.0):
                await reached.wait()
    finally:
        unsubscribe()


def snapshot(folder: Path) -> dict[str, str]:
    files = (p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def restarted(data_dir: Path, **kwargs: object) -> WalletManager:
    """A fresh manager on the same data dir, as after an app restart."""
    return WalletManager(data_dir, scrypt=FAST_SCRYPT, environ={}, **kwargs)  # type: ignore[arg-type]


async def test_no_wallet_before_setup(manager: WalletManager) -> None:
    assert await manager.refresh() is LockState.NO_WALLET
    with pytest.raises(WalletError, match="locked"):
        _ = manager.signer


async def test_setup_stores_in_the_keychain_and_unlocks(
    manager: WalletManager, memory_keyring: MemoryKeyring, isolated_data_dir: Path
) -> None:
    address = await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC, "1"))
    assert address == DEV_ADDRESS_1
    assert (manager.state, manager.source, manager.signer.address) == (
        LockState.UNLOCKED,
        WalletSource.KEYCHAIN,
        DEV_ADDRESS_1,
    )
    assert memory_keyring.items[(SERVICE, MNEMONIC_KEY)] == DEV_MNEMONIC
    verifier = isolated_data_dir / "wallet" / "app-password.json"
    assert stat.S_IMODE(verifier.stat().st_mode) == 0o600
    assert APP_PASSWORD not in verifier.read_text()
    assert not (isolated_data_dir / "wallet" / "keystore.json").exists()


async def test_unlock_after_restart_loads_the_key(manager: WalletManager, isolated_data_dir: Path) -> None:
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    again = restarted(isolated_data_dir)
    assert await again.refresh() is LockState.LOCKED
    assert await again.unlock(APP_PASSWORD) == DEV_ADDRESS_1
    assert len(again.signer.sign_raw_hash(b"hello")) == 65


async def test_wrong_password_is_refused_without_lockout_or_changes(
    manager: WalletManager, memory_keyring: MemoryKeyring, isolated_data_dir: Path
) -> None:
    await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC))
    manager.lock()
    files, items = snapshot(isolated_data_dir), dict(memory_keyring.items)
    for _ in range(5):
        with pytest.raises(WalletError, match="Wrong password"):
            await manager.unlock("not the password")
        assert manager.state is LockState.LOCKED
    assert snapshot(isolated_data_dir) == files
    assert memory_keyring.items == items
    assert await manager.unlock(APP_PASSWORD) == DEV_ADDRESS_0


async def test_lock_drops_the_signer_and_tells_subscribers(manager: WalletManager) -> None:
    events: list[LockEvent] = []
    unsubscribe = manager.subscribe(events.append)
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    manager.lock()
    with pytest.raises(WalletError, match="locked"):
        _ = manager.signer
    await manager.unlock(APP_PASSWORD)
    unsubscribe()
    manager.lock()
    assert [(e.state, e.reason) for e in events] == [
        (LockState.UNLOCKED, "set up"),
        (LockState.LOCKED, "manual"),
        (LockState.UNLOCKED, "unlocked"),
    ]
    assert all(e.address == DEV_ADDRESS_1 for e in events)


async def test_a_failing_subscriber_does_not_break_locking(manager: WalletManager) -> None:
    def broken(event: LockEvent) -> None:
        raise RuntimeError("listener bug")

    manager.subscribe(broken)
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    manager.lock()
    assert manager.state is LockState.LOCKED


async def test_auto_lock_after_idle_time(manager: WalletManager) -> None:
    events: list[LockEvent] = []
    manager.subscribe(events.append)
    manager.auto_lock_seconds = 0.1
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    await wait_for_state(manager, LockState.LOCKED)
    assert events[-1].reason == "idle"


async def test_activity_postpones_auto_lock(manager: WalletManager) -> None:
    manager.auto_lock_seconds = 0.5
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    loop = asyncio.get_running_loop()
    end = loop.time() + 1.0  # twice the idle time, with activity every 0.05 s
    while loop.time() < end:
        manager.touch()
        await asyncio.sleep(0.05)
        assert manager.state is LockState.UNLOCKED
    await wait_for_state(manager, LockState.LOCKED)


def test_default_auto_lock_is_15_minutes(isolated_data_dir: Path) -> None:
    assert DEFAULT_AUTO_LOCK_SECONDS == 900
    assert WalletManager(isolated_data_dir).auto_lock_seconds == 900


async def test_auto_lock_can_be_disabled(manager: WalletManager) -> None:
    manager.auto_lock_seconds = None
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    assert manager._timer is None
    with pytest.raises(WalletError, match="negative"):
        manager.auto_lock_seconds = -1


async def test_without_a_secure_keychain_the_wallet_is_an_encrypted_keystore_file(isolated_data_dir: Path) -> None:
    manager = restarted(isolated_data_dir, keyring_backend=fail.Keyring())
    await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC, "1"))
    assert manager.source is WalletSource.FILE
    wallet_dir = isolated_data_dir / "wallet"
    keystore = wallet_dir / "keystore.json"
    sealed = wallet_dir / "mnemonic.sealed.json"
    for path in (keystore, sealed):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "test" not in path.read_text()
    # A standard V3 file: any Ethereum wallet opens it with the app password.
    assert Account.from_key(Account.decrypt(json.loads(keystore.read_text()), APP_PASSWORD)).address == DEV_ADDRESS_1

    again = restarted(isolated_data_dir, keyring_backend=fail.Keyring())
    assert await again.refresh() is LockState.LOCKED
    with pytest.raises(WalletError, match="Wrong password"):
        await again.unlock("wrong password!")
    assert await again.unlock(APP_PASSWORD) == DEV_ADDRESS_1
    revealed = await again.reveal_mnemonic(APP_PASSWORD)
    assert (revealed.mnemonic, revealed.path) == (DEV_MNEMONIC, "m/44'/60'/0'/0/1")


async def test_corrupt_keystore_file_says_so_on_unlock(isolated_data_dir: Path) -> None:
    manager = restarted(isolated_data_dir, keyring_backend=fail.Keyring())
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    (isolated_data_dir / "wallet" / "keystore.json").write_text("{garbage")
    with pytest.raises(WalletError, match="damaged"):
        await restarted(isolated_data_dir, keyring_backend=fail.Keyring()).unlock(APP_PASSWORD)


async def test_env_private_key_is_used_and_never_persisted(
    memory_keyring: MemoryKeyring, isolated_data_dir: Path
) -> None:
    manager = WalletManager(isolated_data_dir, scrypt=FAST_SCRYPT, environ={"WALLET_PRIVATE_KEY": DEV_KEY_1[2:]})
    assert await manager.refresh() is LockState.UNLOCKED
    assert (manager.source, manager.signer.address) == (WalletSource.ENVIRONMENT, DEV_ADDRESS_1)
    assert manager._timer is None  # headless: no auto-lock
    assert memory_keyring.items == {}
    assert snapshot(isolated_data_dir) == {}
    with pytest.raises(WalletError, match="nothing stored to reveal"):
        await manager.reveal_mnemonic(APP_PASSWORD)


async def test_invalid_env_private_key_names_the_variable_not_the_value(isolated_data_dir: Path) -> None:
    manager = WalletManager(isolated_data_dir, environ={"WALLET_PRIVATE_KEY": "0x1234zz"})
    with pytest.raises(WalletError, match="WALLET_PRIVATE_KEY is not usable") as info:
        await manager.refresh()
    assert "1234zz" not in str(info.value)


async def test_reveal_mnemonic_needs_the_app_password(manager: WalletManager) -> None:
    await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC, "0", passphrase="extra words"))
    with pytest.raises(WalletError, match="Wrong password"):
        await manager.reveal_mnemonic("guessing-password")
    revealed = await manager.reveal_mnemonic(APP_PASSWORD)
    assert (revealed.kind, revealed.mnemonic, revealed.passphrase) == (
        SecretKind.MNEMONIC,
        DEV_MNEMONIC,
        "extra words",
    )
    assert DEV_MNEMONIC not in repr(revealed)


async def test_private_key_wallet_has_no_phrase_to_reveal(manager: WalletManager) -> None:
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    with pytest.raises(WalletError, match="no recovery phrase"):
        await manager.reveal_mnemonic(APP_PASSWORD)


async def test_export_keystore_opens_with_the_chosen_password(manager: WalletManager) -> None:
    await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC, "1"))
    exported = json.loads(await manager.export_keystore(APP_PASSWORD, "export-password"))
    assert exported["crypto"]["kdf"] == "scrypt"
    assert Account.from_key(Account.decrypt(exported, "export-password")).address == DEV_ADDRESS_1
    with pytest.raises(WalletError, match="Wrong password"):
        await manager.export_keystore("bad password", "export-password")
    with pytest.raises(WalletError, match="at least 8"):
        await manager.export_keystore(APP_PASSWORD, "short")


async def test_reset_needs_the_typed_confirmation_then_wipes_everything(
    manager: WalletManager, memory_keyring: MemoryKeyring, isolated_data_dir: Path
) -> None:
    await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC, "0", passphrase="extra"))
    with pytest.raises(WalletError, match=RESET_CONFIRMATION):
        await manager.reset("yes")
    assert memory_keyring.items
    await manager.reset(RESET_CONFIRMATION.lower())
    assert memory_keyring.items == {}
    assert snapshot(isolated_data_dir) == {}
    assert manager.state is LockState.NO_WALLET
    assert await restarted(isolated_data_dir).refresh() is LockState.NO_WALLET


async def test_reset_wipes_the_encrypted_files_too(isolated_data_dir: Path) -> None:
    manager = restarted(isolated_data_dir, keyring_backend=fail.Keyring())
    await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC))
    await manager.reset(RESET_CONFIRMATION)
    assert snapshot(isolated_data_dir) == {}


async def test_go_router_wallet_in_the_keychain_is_adopted_unchanged(
    manager: WalletManager, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, MNEMONIC_KEY, DEV_MNEMONIC)
    memory_keyring.set_password(SERVICE, DERIVATION_PATH_KEY, "1")
    before = dict(memory_keyring.items)
    assert await manager.refresh() is LockState.NO_WALLET  # no app password yet
    assert await manager.find_existing_wallet() == DEV_ADDRESS_1
    assert await manager.setup(APP_PASSWORD, None) == DEV_ADDRESS_1
    assert memory_keyring.items == before


async def test_setup_without_a_wallet_to_adopt_stores_nothing(
    manager: WalletManager, memory_keyring: MemoryKeyring, isolated_data_dir: Path
) -> None:
    with pytest.raises(WalletError, match="no existing wallet"):
        await manager.setup(APP_PASSWORD, None)
    assert memory_keyring.items == {}
    assert snapshot(isolated_data_dir) == {}


async def test_our_private_key_wallet_reads_back_as_the_go_router_would(
    manager: WalletManager, memory_keyring: MemoryKeyring
) -> None:
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1[2:]))
    stored = memory_keyring.items[(SERVICE, PRIVATE_KEY_KEY)]
    # go-ethereum's common.FromHex accepts an optional 0x: the stored hex must be exactly the key.
    assert Account.from_key(stored).address == DEV_ADDRESS_1


async def test_change_password_keeps_the_keychain_wallet(manager: WalletManager, isolated_data_dir: Path) -> None:
    await manager.setup(APP_PASSWORD, WalletSecret.from_private_key(DEV_KEY_1))
    with pytest.raises(WalletError, match="passwords differ"):
        await manager.change_password(APP_PASSWORD, "new password 1", "new password 2")
    with pytest.raises(WalletError, match="Wrong password"):
        await manager.change_password("not the password", "new password 1", "new password 1")
    await manager.change_password(APP_PASSWORD, "new password 1", "new password 1")
    again = restarted(isolated_data_dir)
    with pytest.raises(WalletError, match="Wrong password"):
        await again.unlock(APP_PASSWORD)
    assert await again.unlock("new password 1") == DEV_ADDRESS_1


async def test_change_password_re_encrypts_the_wallet_file(isolated_data_dir: Path) -> None:
    manager = restarted(isolated_data_dir, keyring_backend=fail.Keyring())
    await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC, "1"))
    await manager.change_password(APP_PASSWORD, "new password 1", "new password 1")
    keystore = json.loads((isolated_data_dir / "wallet" / "keystore.json").read_text())
    assert Account.from_key(Account.decrypt(keystore, "new password 1")).address == DEV_ADDRESS_1
    again = restarted(isolated_data_dir, keyring_backend=fail.Keyring())
    await again.unlock("new password 1")
    assert (await again.reveal_mnemonic("new password 1")).mnemonic == DEV_MNEMONIC


async def test_slow_work_runs_off_the_event_loop(memory_keyring: MemoryKeyring, isolated_data_dir: Path) -> None:
    # Default scrypt cost (~1 s per derivation here): if it ran on the loop, the heartbeat would stall that long.
    manager = WalletManager(isolated_data_dir, environ={})
    loop = asyncio.get_running_loop()
    gaps: list[float] = []

    async def heartbeat() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            gaps.append(loop.time() - last)
            last = loop.time()

    beat = asyncio.create_task(heartbeat())
    try:
        await manager.setup(APP_PASSWORD, WalletSecret.from_mnemonic(DEV_MNEMONIC, "1"))
        manager.lock()
        await manager.unlock(APP_PASSWORD)
    finally:
        beat.cancel()
    assert len(gaps) > 20
    assert max(gaps) < 0.5, f"event loop stalled for {max(gaps):.2f} s"
