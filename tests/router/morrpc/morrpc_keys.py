"""Throwaway keys for the MOR-RPC codec tests: anvil's published dev accounts #0 and #1."""

from __future__ import annotations

CONSUMER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
CONSUMER_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PROVIDER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
PROVIDER_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
