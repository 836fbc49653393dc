"""Test vectors for the wallet tests: anvil's public dev keys, passwords, cheap scrypt."""

from __future__ import annotations

from app.wallet.keystore import ScryptParams

# anvil's public dev accounts: throwaway keys everybody knows.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEV_ADDRESS_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
DEV_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
APP_PASSWORD = "correct horse battery"
# Cheap scrypt keeps the suite fast; the format and code path are the same as with the default cost.
FAST_SCRYPT = ScryptParams(n=2**12)
