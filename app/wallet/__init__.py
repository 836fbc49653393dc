"""Keys and wallets: mnemonic, HD derivation, keystore, keyring, signer, setup wizard state."""
