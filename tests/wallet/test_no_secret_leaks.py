"""Secrets stay secret: after create/import/sign/lock at DEBUG, no phrase, key or password shows up anywhere."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path

import pytest
from eth_account import Account
from keyring.backends import fail

from app.errors import WalletError
from app.wallet.filestore import KEYSTORE_FILE, SEED_FILE
from app.wallet.keystore import encrypt_keystore
from app.wallet.manager import WalletManager
from app.wallet.mnemonic import generate_mnemonic
from app.wallet.wizard import SetupPath, SetupWizard
from wallet.rpc_stub import chain_id_server, probe_chain_id
from wallet.support import MemoryKeyring
from wallet.vectors import FAST_SCRYPT

PASSWORD = "leak-canary-password"
PASSPHRASE = "leak-canary-passphrase"
KEYSTORE_PASSWORD = "leak-canary-keystore-pw"


def forms_of_key(key: bytes) -> list[str]:
    return [key.hex(), key.hex().upper(), "0x" + key.hex()]


def dump(error: BaseException) -> str:
    """Everything a crash dialog or log could show about an error: message, repr, and the chained traceback."""
    return "".join(traceback.format_exception(error)) + repr(error)


def read_files(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Every file under ``folder``: (plain files, files of the encrypted store)."""
    plain: dict[str, str] = {}
    encrypted: dict[str, str] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            target = encrypted if path.name in (KEYSTORE_FILE, SEED_FILE) else plain
            target[str(path)] = path.read_text(errors="replace")
    return plain, encrypted


async def expect_error(errors: list[str], coro: object) -> None:
    with pytest.raises(WalletError) as info:
        await coro  # type: ignore[misc]
    errors.append(dump(info.value))


@pytest.mark.parametrize("backend", ["keychain", "file"])
async def test_no_secret_in_logs_output_errors_or_plain_files(
    backend: str,
    memory_keyring: MemoryKeyring,
    isolated_data_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    phrase = generate_mnemonic(24)
    imported = Account.create()
    imported_key = bytes(imported.key)
    keystore_path = tmp_path / "import.json"
    keystore_path.write_text(json.dumps(encrypt_keystore(imported_key, KEYSTORE_PASSWORD, FAST_SCRYPT)))
    keystore_text = keystore_path.read_text()
    keyring_backend = fail.Keyring() if backend == "file" else None
    manager = WalletManager(isolated_data_dir, keyring_backend=keyring_backend, scrypt=FAST_SCRYPT, environ={})
    errors: list[str] = []
    reprs: list[str] = [repr(manager)]

    # Import a key, with mistakes on the way.
    wizard = SetupWizard(manager, probe_chain_id)
    await wizard.start()
    wizard.accept_terms(True)
    wizard.set_password(PASSWORD, PASSWORD)
    wizard.choose(SetupPath.IMPORT_KEYSTORE)
    await expect_error(errors, wizard.import_keystore(keystore_text, PASSWORD))
    await wizard.import_keystore(keystore_text, KEYSTORE_PASSWORD)
    wizard.back()
    wizard.back()
    wizard.choose(SetupPath.IMPORT_KEY)
    await expect_error(errors, wizard.import_private_key(imported_key.hex()[:-2] + "zz"))
    await wizard.import_private_key(imported_key.hex())
    wizard.back()
    wizard.back()

    # Import a phrase with a passphrase, with mistakes on the way.
    wizard.choose(SetupPath.IMPORT_MNEMONIC)
    words = phrase.split()
    await expect_error(errors, wizard.import_mnemonic(" ".join([words[1], words[0], *words[2:]])))
    await expect_error(errors, wizard.import_mnemonic(" ".join(words[:-1])))
    await wizard.preview(phrase, PASSPHRASE)
    await wizard.import_mnemonic(phrase, PASSPHRASE, index=3)
    reprs.append(repr(wizard))
    async with chain_id_server(84532) as url:
        await expect_error(errors, wizard.choose_network("base", rpc_url=url))
        await wizard.choose_network("base-sepolia", rpc_url=url)

    # Sign, lock, fail to unlock, unlock, reveal, export, lock.
    signer = manager.signer
    reprs += [repr(signer), repr(manager), repr(wizard.view)]
    signer.sign_personal_hash(b"approval")
    signer.sign_raw_hash(b"morrpc")
    signer.sign_transaction(
        {"chainId": 84532, "nonce": 0, "to": imported.address, "value": 1, "gas": 21000, "gasPrice": 10**9}
    )
    manager.lock()
    await expect_error(errors, manager.unlock(PASSWORD + "x"))
    await manager.unlock(PASSWORD)
    revealed = await manager.reveal_mnemonic(PASSWORD)
    reprs += [repr(revealed), str(revealed)]
    await manager.export_keystore(PASSWORD, KEYSTORE_PASSWORD)
    await expect_error(errors, manager.reveal_mnemonic("wrong" + PASSWORD))
    manager.lock()

    # A fresh create, mistyped once at verification, then completed.
    creator = SetupWizard(WalletManager(tmp_path / "other", scrypt=FAST_SCRYPT, environ={}), probe_chain_id)
    creator.accept_terms(True)
    creator.set_password(PASSWORD, PASSWORD)
    created = creator.choose(SetupPath.CREATE).words
    positions = creator.confirm_written_down().verify_positions
    wrong = {p: ("zoo" if created[p - 1] != "zoo" else "abandon") for p in positions}
    await expect_error(errors, creator.verify_words(wrong))
    reprs.append(repr(creator.view))
    await creator.verify_words({p: created[p - 1] for p in positions})
    await creator.choose_network("devnet")
    reprs.append(repr(creator.view))

    secret_key = revealed.derive_key()
    secrets = [phrase, " ".join(created), PASSWORD, PASSPHRASE, KEYSTORE_PASSWORD]
    secrets += forms_of_key(imported_key) + forms_of_key(secret_key)
    out, err = capfd.readouterr()
    plain_files, encrypted_files = read_files(isolated_data_dir)
    plain_files.update(read_files(tmp_path / "other")[0])
    assert len(caplog.records) > 0
    assert (len(encrypted_files) == 2) is (backend == "file")
    places = {
        "logs": caplog.text,
        "stdout": out,
        "stderr": err,
        "errors": "\n".join(errors),
        "reprs": "\n".join(reprs),
        **plain_files,
        **encrypted_files,
    }
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
        # No run of four consecutive phrase words, in case the phrase was re-joined differently.
        for i in range(len(words) - 3):
            assert " ".join(words[i : i + 4]) not in text, f"phrase words leaked into {where}"
    assert len(errors) == 8
