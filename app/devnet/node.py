"""Starts the devnet chain: anvil when it can be found and run, else the eth-tester chain (its own child process)."""

from __future__ import annotations

import logging
from pathlib import Path

from app.devnet.accounts import DEFAULT_CHAIN_ID
from app.devnet.anvil import find_anvil, start_anvil
from app.devnet.chain_node import ChainNode, Engine
from app.devnet.tester_process import start_eth_tester
from app.errors import DevnetError

log = logging.getLogger(__name__)

__all__ = ["ChainNode", "DevnetError", "Engine", "find_anvil", "start_anvil", "start_chain", "start_eth_tester"]


def anvil_state_path(data_dir: Path) -> Path:
    """Where anvil keeps the devnet chain between launches."""
    return data_dir / "devnet" / "anvil-state.json"


async def start_chain(*, data_dir: Path, prefer_anvil: bool = True, chain_id: int = DEFAULT_CHAIN_ID) -> ChainNode:
    """Start anvil (persistent, state under ``data_dir``) if found and working, else eth-tester (not persistent)."""
    if prefer_anvil:
        path = find_anvil()
        if path is not None:
            try:
                return await start_anvil(state_path=anvil_state_path(data_dir), chain_id=chain_id, anvil_path=path)
            except DevnetError as e:
                log.warning("anvil could not start, using the eth-tester chain instead: %s", e.user_message)
        else:
            log.info("anvil not found; using the eth-tester chain (its state is not kept between launches)")
    return await start_eth_tester(chain_id=chain_id)
