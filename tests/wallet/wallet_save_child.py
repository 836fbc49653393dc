"""Child process for the wallet-save disk-full test: the disk fills just before the Nth file the save writes.

The "full disk" is a real file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored, so writes fail with EFBIG) set on this
process only, right before that write, so the files written earlier succeed as on a disk that filled mid-save.
Saves the phrase wallet ``NEW_WALLET`` with ``APP_PASSWORD``; prints ``{"error": <the StorageError's message>}``
(null when the save worked).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest

import app.paths
import app.wallet.filestore as filestore
from app.errors import StorageError
from app.wallet.secret import WalletSecret
from tests.wallet.vectors import APP_PASSWORD, DEV_MNEMONIC, FAST_SCRYPT

NEW_WALLET = WalletSecret.from_mnemonic(DEV_MNEMONIC, "7")  # a public dev phrase: a throwaway wallet
FULL_AT = 16  # bytes: smaller than any keystore or sealed phrase, larger than an empty commit marker


def limit_file_size(limit: int) -> None:
    """No file of this process may grow past ``limit`` bytes; a write beyond fails with EFBIG, as on a full disk
    (SIGXFSZ ignored, or it would kill the process instead)."""
    import resource  # POSIX only: the test skips where it is missing

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def save_with_disk_filling_before_write(folder: Path, full_before: int, secret: WalletSecret, password: str) -> None:
    """Save ``secret``; the disk is full from the ``full_before``-th write_private_file call on (1-based)."""
    real_write = app.paths.write_private_file
    calls = 0

    def write(path: Path, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == full_before:
            limit_file_size(FULL_AT)
        real_write(path, data)

    pytest.MonkeyPatch().setattr(filestore, "write_private_file", write)  # the process ends after this save
    filestore.EncryptedFileStore(folder, FAST_SCRYPT).save(secret, password)


def main(folder: str, full_before: str) -> None:
    try:
        save_with_disk_filling_before_write(Path(folder), int(full_before), NEW_WALLET, APP_PASSWORD)
    except StorageError as e:
        print(json.dumps({"error": e.user_message}))
        return
    print(json.dumps({"error": None}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
