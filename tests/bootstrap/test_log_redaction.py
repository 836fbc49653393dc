"""The log redaction filter hides private-key-shaped hex and BIP-39 mnemonics, and nothing an operator needs."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.bootstrap.log_redaction import REDACTED, RedactionFilter, redact
from app.bootstrap.logs import InstalledLogging, LogConfig, install_logging
from app.devnet.accounts import dev_private_keys
from app.wallet.mnemonic import generate_mnemonic
from app.wallet.signer import KeySigner

DEV_KEY = dev_private_keys()[0].hex()
DEV_MNEMONIC = "test test test test test test test test test test test junk"
PHRASE_24 = generate_mnemonic(24)


@pytest.fixture
def node_log(tmp_path: Path) -> Iterator[InstalledLogging]:
    installed = install_logging(LogConfig(), default_folder=tmp_path)
    yield installed
    installed.uninstall()


def test_dev_private_key_is_hidden_bare_and_0x_prefixed() -> None:
    KeySigner(dev_private_keys()[0])  # a key this process holds (every signer registers its key)
    assert redact(f"key={DEV_KEY} and 0x{DEV_KEY.upper()}.") == f"key={REDACTED} and {REDACTED}."
    assert redact(f"signing with {DEV_KEY} now") == f"signing with {REDACTED} now"


def test_transaction_hashes_and_session_ids_stay_readable() -> None:
    tx_hash, session_id = "0x" + os.urandom(32).hex(), os.urandom(32).hex()
    line = f"sent deploying Marketplace: {tx_hash} (nonce 3); session 0x{session_id} opened"
    assert redact(line) == line


def test_unknown_hex_labelled_as_a_key_or_secret_is_hidden() -> None:
    other = os.urandom(32).hex()
    for text in (f"private key: {other}", f"WALLET_PRIVATE_KEY=0x{other}", f"secret '{other}'"):
        assert other not in redact(text), text


def test_mnemonics_are_hidden_as_text_and_as_a_word_list() -> None:
    assert redact(f"restoring: {DEV_MNEMONIC}") == f"restoring: {REDACTED}"
    assert redact(f"words={PHRASE_24.split()!r}") == f"words=['{REDACTED}']"
    assert redact(PHRASE_24.upper()) == REDACTED


def test_mnemonic_with_one_mistyped_word_is_still_hidden() -> None:
    words = PHRASE_24.split()
    words[5] = "zzqx"
    assert redact(" ".join(words)) == REDACTED


def test_addresses_signatures_short_ids_and_prose_are_kept() -> None:
    address = KeySigner(dev_private_keys()[0]).address
    signature = "ab" * 65
    prose = "the provider closed the session because the model was not able to answer all of the prompts"
    for text in (f"wallet {address}", f"sig 0x{signature}", "session 0x1f2e3d4c5b6a", prose,
                 " ".join(DEV_MNEMONIC.split()[:11])):  # fmt: skip
        assert redact(text) == text


def test_filter_redacts_arguments_and_exception_text_and_keeps_the_record() -> None:
    record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "signing with %s failed", (DEV_KEY,), None)
    try:
        raise ValueError(f"bad input: {DEV_MNEMONIC}")
    except ValueError as e:
        record.exc_info = (type(e), e, e.__traceback__)
    assert RedactionFilter().filter(record)
    assert record.getMessage() == f"signing with {REDACTED} failed"
    assert record.exc_text is not None and f"ValueError: bad input: {REDACTED}" in record.exc_text
    assert DEV_MNEMONIC not in record.exc_text


def test_secrets_never_reach_the_log_file(node_log: InstalledLogging) -> None:
    log = logging.getLogger("app.wallet.manager")
    log.info("imported %s", "0x" + DEV_KEY)
    log.warning("restored from %s", PHRASE_24)
    try:
        raise RuntimeError(f"crash holding {DEV_KEY} / {DEV_MNEMONIC}")
    except RuntimeError:
        log.exception("unexpected")
    log.info("bad %s args %s", DEV_KEY)  # a broken call still logs, redacted
    text = node_log.file.read_text()
    assert DEV_KEY not in text.lower() and PHRASE_24 not in text and DEV_MNEMONIC not in text
    assert text.count(REDACTED) == 5 and "RuntimeError: crash holding" in text
