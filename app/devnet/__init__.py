"""Embedded development chain: node runner, contract deployment, faucet and demo providers."""
