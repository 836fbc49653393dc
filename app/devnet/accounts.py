"""The devnet's well-known dev accounts: anvil's public "test … junk" mnemonic, first ten keys, 10000 ETH each."""

from __future__ import annotations

from functools import cache

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic

# Public test mnemonic shared by anvil, Hardhat and Foundry; these keys hold value on no real chain.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_HD_PATH = "m/44'/60'/0'/0"
DEV_ACCOUNT_COUNT = 10
DEV_BALANCE_WEI = 10_000 * 10**18
DEFAULT_CHAIN_ID = 31337


@cache
def dev_private_keys() -> tuple[bytes, ...]:
    """The ten dev private keys in derivation order (the same keys anvil funds)."""
    seed = seed_from_mnemonic(DEV_MNEMONIC, "")
    return tuple(key_from_seed(seed, f"{DEV_HD_PATH}/{i}") for i in range(DEV_ACCOUNT_COUNT))


@cache
def dev_addresses() -> tuple[str, ...]:
    """The checksummed addresses of :func:`dev_private_keys`."""
    return tuple(str(Account.from_key(key).address) for key in dev_private_keys())
