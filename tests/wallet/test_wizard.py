"""The setup wizard walked through every path without Qt: each page validates and says what is wrong."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from eth_account import Account

from app.errors import WalletError
from app.wallet.keychain import DERIVATION_PATH_KEY, MNEMONIC_KEY, PRIVATE_KEY_KEY, SERVICE
from app.wallet.keystore import encrypt_keystore
from app.wallet.manager import LockState, WalletManager
from app.wallet.mnemonic import derive_private_key
from app.wallet.signer import parse_private_key
from app.wallet.wizard import SetupPath, SetupWizard, Step
from wallet.rpc_stub import chain_id_server, probe_chain_id
from wallet.support import MemoryKeyring
from wallet.vectors import APP_PASSWORD, DEV_ADDRESS_0, DEV_ADDRESS_1, DEV_KEY_1, DEV_MNEMONIC, FAST_SCRYPT


@pytest.fixture
async def wizard(manager: WalletManager) -> SetupWizard:
    wizard = SetupWizard(manager, probe_chain_id)
    await wizard.start()
    return wizard


async def at_choose(wizard: SetupWizard) -> SetupWizard:
    wizard.accept_terms(True)
    wizard.set_password(APP_PASSWORD, APP_PASSWORD)
    assert wizard.step is Step.CHOOSE
    return wizard


def nothing_stored(keyring: MemoryKeyring, data_dir: Path) -> bool:
    return keyring.items == {} and not any(p.is_file() for p in data_dir.rglob("*"))


# -- terms and password --------------------------------------------------------------------------------------


async def test_terms_must_be_accepted(wizard: SetupWizard) -> None:
    with pytest.raises(WalletError, match="accept the terms"):
        wizard.accept_terms(False)
    assert wizard.step is Step.TERMS
    assert not wizard.view.can_go_back


@pytest.mark.parametrize(
    ("password", "confirmation", "message"),
    [
        ("", "", "Choose an app password"),
        ("short", "short", "at least 8 characters"),
        (" padded password ", " padded password ", "must not start or end with a space"),
        ("long enough 1", "long enough 2", "passwords differ"),
    ],
)
async def test_bad_app_password_says_what_is_wrong(
    wizard: SetupWizard, password: str, confirmation: str, message: str
) -> None:
    wizard.accept_terms(True)
    with pytest.raises(WalletError, match=message):
        wizard.set_password(password, confirmation)
    assert wizard.step is Step.PASSWORD


async def test_action_from_another_page_is_refused(wizard: SetupWizard) -> None:
    with pytest.raises(WalletError, match="another page"):
        await wizard.import_private_key(DEV_KEY_1)


# -- create --------------------------------------------------------------------------------------------------


async def test_create_path_shows_words_verifies_four_and_stores_the_phrase(
    wizard: SetupWizard, manager: WalletManager, memory_keyring: MemoryKeyring
) -> None:
    await at_choose(wizard)
    view = wizard.choose(SetupPath.CREATE)
    assert view.step is Step.CREATE_SHOW
    assert len(view.words) == 12
    words = wizard.regenerate(24).words
    assert len(words) == 24
    view = wizard.confirm_written_down()
    assert view.step is Step.CREATE_VERIFY
    assert view.words == ()  # the words are not on screen while checking them
    assert len(view.verify_positions) == 4
    view = await wizard.verify_words({p: words[p - 1].upper() for p in view.verify_positions})
    assert view.step is Step.NETWORK
    expected = Account.from_key(derive_private_key(" ".join(words), "", "0")).address
    assert view.address == expected
    view = await wizard.choose_network("devnet")
    assert (view.step, view.address, view.network and view.network.chain_id) == (Step.DONE, expected, 31337)
    assert not view.can_go_back
    assert (manager.state, manager.address) == (LockState.UNLOCKED, expected)
    assert memory_keyring.items[(SERVICE, MNEMONIC_KEY)] == " ".join(words)
    assert memory_keyring.items[(SERVICE, DERIVATION_PATH_KEY)] == "m/44'/60'/0'/0/0"


async def test_create_with_a_passphrase_derives_a_different_wallet(
    wizard: SetupWizard, manager: WalletManager, memory_keyring: MemoryKeyring
) -> None:
    await at_choose(wizard)
    words = wizard.choose(SetupPath.CREATE).words
    with pytest.raises(WalletError, match="passphrases differ"):
        wizard.confirm_written_down("my passphrase", "my passphrase?")
    with pytest.raises(WalletError, match="must not start or end with a space"):
        wizard.confirm_written_down(" my passphrase", " my passphrase")
    positions = wizard.confirm_written_down("my passphrase", "my passphrase").verify_positions
    view = await wizard.verify_words({p: words[p - 1] for p in positions})
    phrase = " ".join(words)
    assert view.address == Account.from_key(derive_private_key(phrase, "my passphrase", "0")).address
    assert view.address != Account.from_key(derive_private_key(phrase, "", "0")).address
    await wizard.choose_network("devnet")
    # Stored for the Go router as the derived key; the phrase + passphrase stay revealable to us.
    assert (SERVICE, PRIVATE_KEY_KEY) in memory_keyring.items
    assert (await manager.reveal_mnemonic(APP_PASSWORD)).passphrase == "my passphrase"


async def test_wrong_or_missing_verification_word_is_named_and_nothing_stored(
    wizard: SetupWizard, memory_keyring: MemoryKeyring, isolated_data_dir: Path
) -> None:
    await at_choose(wizard)
    words = wizard.choose(SetupPath.CREATE).words
    positions = wizard.confirm_written_down().verify_positions
    answers = {p: words[p - 1] for p in positions}
    first = positions[0]
    with pytest.raises(WalletError, match=f"Enter word {first}"):
        await wizard.verify_words({p: w for p, w in answers.items() if p != first})
    wrong = "zoo" if words[first - 1] != "zoo" else "abandon"
    with pytest.raises(WalletError, match=f"Word {first} does not match"):
        await wizard.verify_words({**answers, first: wrong})
    assert wizard.step is Step.CREATE_VERIFY
    assert nothing_stored(memory_keyring, isolated_data_dir)


async def test_back_walks_the_pages_in_reverse_and_keeps_the_words(wizard: SetupWizard) -> None:
    await at_choose(wizard)
    words = wizard.choose(SetupPath.CREATE).words
    wizard.confirm_written_down()
    assert wizard.back().words == words
    assert wizard.back().step is Step.CHOOSE
    assert wizard.back().step is Step.PASSWORD
    assert wizard.back().step is Step.TERMS
    with pytest.raises(WalletError, match="first page"):
        wizard.back()
    await at_choose(wizard)
    assert wizard.choose(SetupPath.CREATE).words == words


async def test_back_from_network_allows_choosing_another_wallet(
    wizard: SetupWizard, memory_keyring: MemoryKeyring
) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_KEY)
    assert (await wizard.import_private_key(DEV_KEY_1)).address == DEV_ADDRESS_1
    assert wizard.back().step is Step.IMPORT_KEY
    assert wizard.back().step is Step.CHOOSE
    wizard.choose(SetupPath.IMPORT_MNEMONIC)
    await wizard.import_mnemonic(DEV_MNEMONIC, index=0)
    assert (await wizard.choose_network("devnet")).address == DEV_ADDRESS_0
    assert (SERVICE, PRIVATE_KEY_KEY) not in memory_keyring.items
    with pytest.raises(WalletError, match="already set up"):
        wizard.back()


# -- import a phrase -----------------------------------------------------------------------------------------


async def test_import_mnemonic_with_preview_and_index(wizard: SetupWizard, manager: WalletManager) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_MNEMONIC)
    previews = await wizard.preview(DEV_MNEMONIC)
    assert [p.address for p in previews[:2]] == [DEV_ADDRESS_0, DEV_ADDRESS_1]
    assert len(previews) == 10
    more = await wizard.preview(DEV_MNEMONIC, start=10)
    assert [p.index for p in more] == list(range(10, 20))
    with pytest.raises(WalletError, match="start at 0"):
        await wizard.preview(DEV_MNEMONIC, start=-1)
    view = await wizard.import_mnemonic(DEV_MNEMONIC, index=previews[1].index)
    assert view.address == DEV_ADDRESS_1
    await wizard.choose_network("devnet")
    assert manager.signer.address == DEV_ADDRESS_1


async def test_import_mnemonic_with_a_full_path(wizard: SetupWizard, memory_keyring: MemoryKeyring) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_MNEMONIC)
    view = await wizard.import_mnemonic(f"  {DEV_MNEMONIC.upper()} ", path="m/44'/60'/0'/0/1")
    assert view.address == DEV_ADDRESS_1
    await wizard.choose_network("devnet")
    assert memory_keyring.items[(SERVICE, DERIVATION_PATH_KEY)] == "m/44'/60'/0'/0/1"


async def test_import_mnemonic_with_passphrase_changes_the_accounts(wizard: SetupWizard) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_MNEMONIC)
    previews = await wizard.preview(DEV_MNEMONIC, "extra")
    view = await wizard.import_mnemonic(DEV_MNEMONIC, "extra", index=0)
    assert view.address == previews[0].address != DEV_ADDRESS_0


@pytest.mark.parametrize(
    ("phrase", "kwargs", "message"),
    [
        ("junk test test test test test test test test test test test", {}, "checksum"),
        ("test test test test test test test test test test junk", {}, "this one has 11"),
        ("test test test test xyz test test test test test test junk", {}, r"'xyz' \(word 5\)"),
        (DEV_MNEMONIC, {"index": 1, "path": "m/44'/60'/0'/0/1"}, "not both"),
        (DEV_MNEMONIC, {"path": "m/abc"}, "invalid level 'abc'"),
        (DEV_MNEMONIC, {"index": -1}, "whole number"),
    ],
)
async def test_bad_mnemonic_import_is_explained_and_nothing_stored(
    wizard: SetupWizard,
    memory_keyring: MemoryKeyring,
    isolated_data_dir: Path,
    phrase: str,
    kwargs: dict[str, object],
    message: str,
) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_MNEMONIC)
    with pytest.raises(WalletError, match=message):
        await wizard.import_mnemonic(phrase, **kwargs)  # type: ignore[arg-type]
    assert wizard.step is Step.IMPORT_MNEMONIC
    assert nothing_stored(memory_keyring, isolated_data_dir)


async def test_preview_of_a_bad_phrase_explains_why(wizard: SetupWizard) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_MNEMONIC)
    with pytest.raises(WalletError, match="checksum"):
        await wizard.preview("junk test test test test test test test test test test test")


# -- import a key --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0x1234", "64 hex characters"),
        ("zz" * 32, "only the hex digits"),
        ("00" * 32, "out of range"),
    ],
)
async def test_invalid_private_key_is_explained_and_nothing_stored(
    wizard: SetupWizard, memory_keyring: MemoryKeyring, isolated_data_dir: Path, text: str, message: str
) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_KEY)
    with pytest.raises(WalletError, match=message):
        await wizard.import_private_key(text)
    assert nothing_stored(memory_keyring, isolated_data_dir)


async def test_import_private_key_with_or_without_0x(wizard: SetupWizard, memory_keyring: MemoryKeyring) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_KEY)
    assert (await wizard.import_private_key(DEV_KEY_1[2:])).address == DEV_ADDRESS_1
    wizard.back()
    assert (await wizard.import_private_key(f" {DEV_KEY_1} ")).address == DEV_ADDRESS_1
    await wizard.choose_network("devnet")
    assert memory_keyring.items[(SERVICE, PRIVATE_KEY_KEY)] == DEV_KEY_1


# -- import a keystore file ----------------------------------------------------------------------------------


@pytest.fixture
def keystore_file(tmp_path: Path) -> Path:
    path = tmp_path / "UTC--dev1.json"
    path.write_text(json.dumps(encrypt_keystore(parse_private_key(DEV_KEY_1), "file password", FAST_SCRYPT)))
    return path


@pytest.fixture
def keystore_text(keystore_file: Path) -> str:
    return keystore_file.read_text()


@pytest.fixture
def huge_file(tmp_path: Path) -> Path:
    path = tmp_path / "huge.json"
    path.write_bytes(b" " * 1_000_001)
    return path


async def test_import_keystore_file_with_its_password(
    wizard: SetupWizard, keystore_file: Path, manager: WalletManager
) -> None:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_KEYSTORE)
    assert (await wizard.import_keystore_file(keystore_file, "file password")).address == DEV_ADDRESS_1
    await wizard.choose_network("devnet")
    # The app password, not the file's, now unlocks the wallet.
    manager.lock()
    assert await manager.unlock(APP_PASSWORD) == DEV_ADDRESS_1


async def test_keystore_problems_are_explained_and_nothing_stored(
    wizard: SetupWizard,
    keystore_file: Path,
    keystore_text: str,
    huge_file: Path,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    isolated_data_dir: Path,
) -> None:
    content = keystore_text
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_KEYSTORE)
    with pytest.raises(WalletError, match="Wrong password for this keystore file"):
        await wizard.import_keystore_file(keystore_file, "not it")
    with pytest.raises(WalletError, match="Enter the password"):
        await wizard.import_keystore(content, "")
    with pytest.raises(WalletError, match="corrupt: it is not valid JSON"):
        await wizard.import_keystore(content[:-20], "file password")
    with pytest.raises(WalletError, match="Cannot read the keystore file"):
        await wizard.import_keystore_file(tmp_path / "missing.json", "file password")
    with pytest.raises(WalletError, match="far too large"):
        await wizard.import_keystore_file(huge_file, "file password")
    assert wizard.step is Step.IMPORT_KEYSTORE
    assert nothing_stored(memory_keyring, isolated_data_dir)


# -- use the wallet already in the keychain ------------------------------------------------------------------


async def test_existing_go_wallet_is_offered_and_kept(
    manager: WalletManager, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, PRIVATE_KEY_KEY, DEV_KEY_1[2:])
    before = dict(memory_keyring.items)
    wizard = SetupWizard(manager, probe_chain_id)
    assert (await wizard.start()).existing_address == DEV_ADDRESS_1
    await at_choose(wizard)
    assert wizard.view.paths[0] is SetupPath.USE_EXISTING
    view = wizard.choose("use-existing")
    assert (view.step, view.address) == (Step.NETWORK, DEV_ADDRESS_1)
    await wizard.choose_network("devnet")
    assert manager.address == DEV_ADDRESS_1
    assert memory_keyring.items == before


async def test_damaged_keychain_entry_is_explained_and_a_new_wallet_replaces_it(
    manager: WalletManager, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, PRIVATE_KEY_KEY, "0xdamaged")
    wizard = SetupWizard(manager, probe_chain_id)
    await wizard.start()
    await at_choose(wizard)
    view = wizard.view
    assert SetupPath.USE_EXISTING not in view.paths
    assert view.notice is not None
    assert "not valid" in view.notice
    wizard.choose(SetupPath.IMPORT_KEY)
    await wizard.import_private_key(DEV_KEY_1)
    await wizard.choose_network("devnet")
    assert memory_keyring.items[(SERVICE, PRIVATE_KEY_KEY)] == DEV_KEY_1


async def test_use_existing_is_refused_when_there_is_none(wizard: SetupWizard) -> None:
    await at_choose(wizard)
    assert SetupPath.USE_EXISTING not in wizard.view.paths
    with pytest.raises(WalletError, match="No existing wallet"):
        wizard.choose(SetupPath.USE_EXISTING)
    with pytest.raises(WalletError, match="Unknown choice"):
        wizard.choose("teleport")


# -- network -------------------------------------------------------------------------------------------------


async def at_network(wizard: SetupWizard) -> SetupWizard:
    await at_choose(wizard)
    wizard.choose(SetupPath.IMPORT_KEY)
    await wizard.import_private_key(DEV_KEY_1)
    return wizard


async def test_network_page_offers_devnet_base_sepolia_base_and_custom(wizard: SetupWizard) -> None:
    await at_network(wizard)
    offered = {(n.key, n.chain_id) for n in wizard.view.networks}
    assert offered == {("devnet", 31337), ("base-sepolia", 84532), ("base", 8453), ("custom", None)}


async def test_custom_rpc_is_accepted_when_its_chain_id_matches(wizard: SetupWizard) -> None:
    await at_network(wizard)
    async with chain_id_server(84532) as url:
        view = await wizard.choose_network("base-sepolia", rpc_url=url)
    assert view.step is Step.DONE
    assert view.network is not None
    assert (view.network.chain_id, view.network.rpc_url) == (84532, url)


async def test_custom_network_with_its_own_chain_id(wizard: SetupWizard) -> None:
    await at_network(wizard)
    async with chain_id_server(1234) as url:
        view = await wizard.choose_network("custom", rpc_url=url, chain_id=1234)
    assert view.network is not None
    assert (view.network.key, view.network.chain_id) == ("custom", 1234)


async def test_rpc_of_another_chain_is_refused_and_nothing_stored(
    wizard: SetupWizard, memory_keyring: MemoryKeyring, isolated_data_dir: Path
) -> None:
    await at_network(wizard)
    async with chain_id_server(1) as url:
        with pytest.raises(WalletError, match=r"serves chain 1, but Base \(mainnet, real MOR\) is chain 8453"):
            await wizard.choose_network("base", rpc_url=url)
        with pytest.raises(WalletError, match="serves chain 1, but Custom RPC"):
            await wizard.choose_network("custom", rpc_url=url, chain_id=8453)
    assert wizard.step is Step.NETWORK
    assert nothing_stored(memory_keyring, isolated_data_dir)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("key", "url", "chain_id", "message"),
    [
        ("base", "ftp://example.org", None, "must start with http"),
        ("base", "http://", None, "has no host"),
        ("devnet", "http://127.0.0.1:8545", None, "needs no RPC URL"),
        ("custom", None, 1234, "Enter the RPC URL"),
        ("custom", "http://127.0.0.1:1", None, "Enter the chain id"),
        ("base", None, 1, "is chain 8453, not 1"),
        ("moon", None, None, "Unknown network 'moon'"),
    ],
)
async def test_bad_network_input_is_explained(
    wizard: SetupWizard, key: str, url: str | None, chain_id: int | None, message: str
) -> None:
    await at_network(wizard)
    with pytest.raises(WalletError, match=message):
        await wizard.choose_network(key, rpc_url=url, chain_id=chain_id)
    assert wizard.step is Step.NETWORK


async def test_unreachable_rpc_is_explained(wizard: SetupWizard) -> None:
    await at_network(wizard)
    with pytest.raises(WalletError, match=r"Could not ask the RPC at http://127\.0\.0\.1:"):
        await wizard.choose_network("base", rpc_url=f"http://127.0.0.1:{closed_port()}/")


async def test_preset_without_url_uses_its_public_rpc(wizard: SetupWizard) -> None:
    await at_network(wizard)
    view = await wizard.choose_network("base")
    assert view.network is not None
    assert (view.network.chain_id, view.network.rpc_url) == (8453, "https://mainnet.base.org")
