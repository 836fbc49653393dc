"""The UI-free setup wizard: a state machine the GUI renders page by page, and tests drive without Qt."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from app.errors import WalletError
from app.wallet.keystore import decrypt_keystore, parse_keystore
from app.wallet.manager import WalletManager
from app.wallet.mnemonic import (
    AddressPreview,
    generate_mnemonic,
    normalize_mnemonic,
    parse_derivation_path,
    path_for_index,
    preview_addresses,
    validate_mnemonic,
)
from app.wallet.networks import PRESETS, ChainIdProbe, NetworkChoice, NetworkPreset, resolve_network
from app.wallet.password import check_new_password
from app.wallet.secret import WalletSecret

VERIFY_WORD_COUNT = 4
MAX_KEYSTORE_BYTES = 1_000_000


class Step(StrEnum):
    """The wizard's pages."""

    TERMS = "terms"
    PASSWORD = "password"  # noqa: S105 - a page name, not a secret
    CHOOSE = "choose"
    CREATE_SHOW = "create-show"
    CREATE_VERIFY = "create-verify"
    IMPORT_MNEMONIC = "import-mnemonic"
    IMPORT_KEY = "import-key"
    IMPORT_KEYSTORE = "import-keystore"
    NETWORK = "network"
    DONE = "done"


class SetupPath(StrEnum):
    """The branches offered on the CHOOSE page."""

    CREATE = "create"
    IMPORT_MNEMONIC = "import-mnemonic"
    IMPORT_KEY = "import-key"
    IMPORT_KEYSTORE = "import-keystore"
    USE_EXISTING = "use-existing"


_PATH_STEPS = {
    SetupPath.CREATE: Step.CREATE_SHOW,
    SetupPath.IMPORT_MNEMONIC: Step.IMPORT_MNEMONIC,
    SetupPath.IMPORT_KEY: Step.IMPORT_KEY,
    SetupPath.IMPORT_KEYSTORE: Step.IMPORT_KEYSTORE,
    SetupPath.USE_EXISTING: Step.NETWORK,
}


@dataclass(frozen=True)
class WizardView:
    """Everything a page needs to render; the GUI reads this and nothing else."""

    step: Step
    can_go_back: bool
    paths: tuple[SetupPath, ...] = ()
    existing_address: str | None = None
    words: tuple[str, ...] = field(default=(), repr=False)
    verify_positions: tuple[int, ...] = ()
    address: str | None = None
    networks: tuple[NetworkPreset, ...] = ()
    network: NetworkChoice | None = None
    notice: str | None = None


class SetupWizard:
    """Terms → app password → create | import | use existing → network → done.

    Each ``submit``-style method validates its input and either advances or raises a WalletError whose
    ``user_message`` says what is wrong (the state is then unchanged). :meth:`back` returns to the previous page.
    Nothing is stored until the network page is accepted; then :class:`WalletManager` stores and unlocks.
    """

    def __init__(self, manager: WalletManager, probe_chain_id: ChainIdProbe) -> None:
        self._manager = manager
        self._probe = probe_chain_id
        self._history: list[Step] = []
        self._step = Step.TERMS
        self._password: str | None = None
        self._words: tuple[str, ...] = ()
        self._verify_positions: tuple[int, ...] = ()
        self._secret: WalletSecret | None = None
        self._use_existing = False
        self._address: str | None = None
        self._existing_address: str | None = None
        self._network: NetworkChoice | None = None
        self._notice: str | None = None
        self._passphrase = ""

    def __repr__(self) -> str:
        return f"SetupWizard(step={self._step.value})"

    async def start(self) -> WizardView:
        """Look for a wallet the Go router (or an earlier install) left in the OS keychain; return the first view."""
        try:
            self._existing_address = await self._manager.find_existing_wallet()
        except WalletError as e:
            # A damaged or unreachable keychain entry must not block setting up a new wallet; say why it is not
            # offered, and let a new wallet replace it.
            self._existing_address, self._notice = None, e.user_message
        return self.view

    # -- rendering and navigation --------------------------------------------------------------------------------

    @property
    def step(self) -> Step:
        """The current page."""
        return self._step

    @property
    def view(self) -> WizardView:
        """What to render now."""
        step = self._step
        return WizardView(
            step=step,
            can_go_back=bool(self._history) and step is not Step.DONE,
            paths=self._paths() if step is Step.CHOOSE else (),
            existing_address=self._existing_address,
            words=self._words if step is Step.CREATE_SHOW else (),
            verify_positions=self._verify_positions if step is Step.CREATE_VERIFY else (),
            address=self._address if step in (Step.NETWORK, Step.DONE) else None,
            networks=PRESETS if step is Step.NETWORK else (),
            network=self._network,
            notice=self._notice if step is Step.CHOOSE else None,
        )

    def _paths(self) -> tuple[SetupPath, ...]:
        offered = [SetupPath.CREATE, SetupPath.IMPORT_MNEMONIC, SetupPath.IMPORT_KEY, SetupPath.IMPORT_KEYSTORE]
        if self._existing_address is not None:
            offered.insert(0, SetupPath.USE_EXISTING)
        return tuple(offered)

    def back(self) -> WizardView:
        """Return to the previous page (inputs already given are kept, except verification answers)."""
        if self._step is Step.DONE:
            raise WalletError("The wallet is already set up; there is no going back from here.")
        if not self._history:
            raise WalletError("This is the first page.")
        self._step = self._history.pop()
        return self.view

    def _advance(self, step: Step) -> WizardView:
        self._history.append(self._step)
        self._step = step
        return self.view

    def _expect(self, *steps: Step) -> None:
        if self._step not in steps:
            raise WalletError(f"This action belongs to another page; the wizard is on '{self._step.value}'.")

    # -- terms, password, branch ---------------------------------------------------------------------------------

    def accept_terms(self, accepted: bool) -> WizardView:
        """Terms page: the person must tick "I accept"."""
        self._expect(Step.TERMS)
        if not accepted:
            raise WalletError("Please read and accept the terms to continue.")
        return self._advance(Step.PASSWORD)

    def set_password(self, password: str, confirmation: str) -> WizardView:
        """App password page: the password that unlocks the wallet on this computer."""
        self._expect(Step.PASSWORD)
        check_new_password(password, confirmation)
        self._password = password
        return self._advance(Step.CHOOSE)

    def choose(self, path: SetupPath | str) -> WizardView:
        """Choose page: create a wallet, import one, or use the one already in the OS keychain."""
        self._expect(Step.CHOOSE)
        try:
            chosen = SetupPath(path)
        except ValueError:
            raise WalletError(f"Unknown choice '{path}'.") from None
        if chosen not in self._paths():
            raise WalletError("No existing wallet was found in the OS keychain; create or import one.")
        self._use_existing = chosen is SetupPath.USE_EXISTING
        if self._use_existing:
            self._secret, self._address = None, self._existing_address
        if chosen is SetupPath.CREATE and not self._words:
            self._words = tuple(generate_mnemonic(12).split())
        return self._advance(_PATH_STEPS[chosen])

    # -- create ----------------------------------------------------------------------------------------------------

    def regenerate(self, word_count: int = 12) -> WizardView:
        """Create page: a new phrase of 12 or 24 words (replaces the one shown)."""
        self._expect(Step.CREATE_SHOW)
        self._words = tuple(generate_mnemonic(word_count).split())
        return self.view

    def confirm_written_down(self, passphrase: str = "", passphrase_confirmation: str = "") -> WizardView:
        """Create page: the words are written down; an optional BIP-39 passphrase is typed twice. Pick words to check.

        A passphrase makes a different wallet from the same words; losing it loses the funds.
        """
        self._expect(Step.CREATE_SHOW)
        if passphrase != passphrase_confirmation:
            raise WalletError(
                "The two passphrases differ; type the same passphrase in both fields, or leave both empty."
            )
        if passphrase and passphrase.strip() != passphrase:
            raise WalletError("The passphrase must not start or end with a space; it is too easy to mistype.")
        self._passphrase = passphrase
        rng = secrets.SystemRandom()
        self._verify_positions = tuple(sorted(rng.sample(range(1, len(self._words) + 1), VERIFY_WORD_COUNT)))
        return self._advance(Step.CREATE_VERIFY)

    async def verify_words(self, answers: Mapping[int, str]) -> WizardView:
        """Verify page: ``answers`` maps each asked 1-based position to the word typed there."""
        self._expect(Step.CREATE_VERIFY)
        for position in self._verify_positions:
            typed = normalize_mnemonic(answers.get(position, ""))
            if not typed:
                raise WalletError(f"Enter word {position} of your recovery phrase.")
            if typed != self._words[position - 1]:
                raise WalletError(
                    f"Word {position} does not match the phrase shown before. Check your written copy, or go "
                    "back to see the words again."
                )
        secret = WalletSecret.from_mnemonic(" ".join(self._words), "0", self._passphrase)
        await self._set_secret(secret)
        return self._advance(Step.NETWORK)

    async def _set_secret(self, secret: WalletSecret) -> None:
        self._address = await asyncio.to_thread(secret.address)
        self._secret, self._use_existing = secret, False

    # -- import ----------------------------------------------------------------------------------------------------

    async def preview(self, mnemonic: str, passphrase: str = "", start: int = 0) -> list[AddressPreview]:
        """Import page: addresses for indices ``start``…``start+9`` (0–9 first), to pick the account with funds."""
        self._expect(Step.IMPORT_MNEMONIC)
        validate_mnemonic(mnemonic)
        if start < 0:
            raise WalletError("Account indices start at 0.")
        return await asyncio.to_thread(preview_addresses, mnemonic, passphrase, start)

    async def import_mnemonic(
        self, mnemonic: str, passphrase: str = "", *, index: int | None = None, path: str | None = None
    ) -> WizardView:
        """Import page: a phrase and either an account ``index`` or a derivation ``path`` (default index 0)."""
        self._expect(Step.IMPORT_MNEMONIC)
        phrase = validate_mnemonic(mnemonic)
        if index is not None and path is not None and path.strip():
            raise WalletError("Give either an account index or a derivation path, not both.")
        full_path = parse_derivation_path(path) if path is not None and path.strip() else path_for_index(index or 0)
        await self._set_secret(WalletSecret.from_mnemonic(phrase, full_path, passphrase))
        return self._advance(Step.NETWORK)

    async def import_private_key(self, text: str) -> WizardView:
        """Import page: a raw private key, 64 hex digits with or without 0x."""
        self._expect(Step.IMPORT_KEY)
        await self._set_secret(WalletSecret.from_private_key(text))
        return self._advance(Step.NETWORK)

    async def import_keystore(self, keystore: str | bytes, password: str) -> WizardView:
        """Import page: the contents of a keystore V3 JSON file and its password."""
        self._expect(Step.IMPORT_KEYSTORE)
        if len(keystore) > MAX_KEYSTORE_BYTES:
            raise WalletError("This file is far too large to be a keystore file; choose the keystore JSON.")
        if not password:
            raise WalletError("Enter the password of the keystore file.")
        data = parse_keystore(keystore)
        key = await asyncio.to_thread(decrypt_keystore, data, password)
        await self._set_secret(WalletSecret.from_private_key(key))
        return self._advance(Step.NETWORK)

    async def import_keystore_file(self, path: Path, password: str) -> WizardView:
        """Import page: like :meth:`import_keystore`, reading the file at ``path``."""
        self._expect(Step.IMPORT_KEYSTORE)
        try:
            content = await asyncio.to_thread(_read_capped, path)
        except OSError as e:
            raise WalletError(f"Cannot read the keystore file {path}: {e.strerror or type(e).__name__}.") from None
        return await self.import_keystore(content, password)

    # -- network and finish ----------------------------------------------------------------------------------------

    async def choose_network(
        self, key: str, rpc_url: str | None = None, chain_id: int | None = None
    ) -> WizardView:
        """Network page: a preset (optionally with its own RPC URL) or ``custom`` with URL + chain id.

        A given URL must report the expected chain id. On success the wallet is stored and unlocked.
        """
        self._expect(Step.NETWORK)
        network = await resolve_network(key, rpc_url, chain_id, self._probe)
        assert self._password is not None
        self._address = await self._manager.setup(self._password, None if self._use_existing else self._secret)
        self._network = network
        # The wizard's copies are no longer needed once the manager holds the wallet.
        self._password, self._secret, self._words, self._passphrase = None, None, (), ""
        return self._advance(Step.DONE)

    @property
    def network(self) -> NetworkChoice | None:
        """The chosen network once DONE, for the caller to save in its settings."""
        return self._network


def _read_capped(path: Path) -> bytes:
    """Read at most one byte more than the keystore limit, so a huge file is rejected without loading it."""
    with path.open("rb") as f:
        return f.read(MAX_KEYSTORE_BYTES + 1)
