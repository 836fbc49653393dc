"""The devnet faucet: sends ETH and MOR from a dev account to any address (a new wallet, a demo provider)."""

from __future__ import annotations

import logging

from eth_abi.abi import encode
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from app.chain.client import ChainClient
from app.chain.tx import TxSender
from app.errors import AppError, DevnetError
from app.signer import Signer

log = logging.getLogger(__name__)

DEFAULT_ETH_WEI = 10 * 10**18  # enough gas for thousands of transactions
DEFAULT_MOR_WEI = 1_000 * 10**18  # enough for provider/model stakes, bids and many sessions
_TRANSFER = keccak(text="transfer(address,uint256)")[:4]
_BALANCE_OF = keccak(text="balanceOf(address)")[:4]


class Faucet:
    """Hands out devnet ETH and MOR from one dev account that holds a large MOR balance."""

    def __init__(self, client: ChainClient, signer: Signer, mor_address: str) -> None:
        self._client = client
        self._sender = TxSender(client, signer)
        self._mor = to_checksum_address(mor_address)

    @property
    def address(self) -> str:
        return self._sender.address

    async def fund(self, address: str, eth_wei: int = DEFAULT_ETH_WEI, mor_wei: int = DEFAULT_MOR_WEI) -> None:
        """Send ``eth_wei`` ETH and ``mor_wei`` MOR to ``address``; waits until both are mined."""
        if not isinstance(address, str) or not is_address(address):
            raise DevnetError(f"{address!r} is not an Ethereum address (0x followed by 40 hex digits).")
        if eth_wei < 0 or mor_wei < 0:
            raise DevnetError("The faucet cannot send a negative amount.")
        to = to_checksum_address(address)
        try:
            if eth_wei:
                await self._sender.transfer_eth(to, eth_wei)
            if mor_wei:
                data = _TRANSFER + encode(["address", "uint256"], [to, mor_wei])
                await self._sender.send(self._mor, data, purpose=f"faucet: {mor_wei / 10**18:g} MOR to {to}")
        except AppError as e:
            raise DevnetError(f"The devnet faucet could not fund {to}: {e.user_message}") from e
        log.info("faucet sent %d wei ETH and %d wei MOR to %s", eth_wei, mor_wei, to)

    async def mor_balance(self, address: str) -> int:
        """MOR balance of ``address`` in wei."""
        data = _BALANCE_OF + encode(["address"], [to_checksum_address(address)])
        raw = await self._client.call(self._mor, data, context="reading a MOR balance")
        return int.from_bytes(raw[:32], "big")
