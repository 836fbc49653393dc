"""The networks the setup wizard offers, and checking a custom RPC URL by the chain id it reports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.errors import AppError, WalletError

ChainIdProbe = Callable[[str], Awaitable[int]]
"""``await probe(url) -> chain id``; supplied by app.chain (this package does no network I/O itself)."""

PROBE_TIMEOUT_SECONDS = 10.0
DEVNET = "devnet"
CUSTOM = "custom"


@dataclass(frozen=True)
class NetworkPreset:
    """A network the wizard offers; ``rpc_url`` None means the app runs it (devnet) or needs a URL (custom)."""

    key: str
    name: str
    chain_id: int | None
    rpc_url: str | None


PRESETS: tuple[NetworkPreset, ...] = (
    NetworkPreset(DEVNET, "Local devnet (on this computer, test tokens)", 31337, None),
    NetworkPreset("base-sepolia", "Base Sepolia (testnet)", 84532, "https://sepolia.base.org"),
    NetworkPreset("base", "Base (mainnet, real MOR)", 8453, "https://mainnet.base.org"),
    NetworkPreset(CUSTOM, "Custom RPC (any chain id)", None, None),
)


@dataclass(frozen=True)
class NetworkChoice:
    """What the person picked: the network, its chain id, and the RPC URL to use (None = built-in/devnet)."""

    key: str
    name: str
    chain_id: int
    rpc_url: str | None


def preset(key: str) -> NetworkPreset:
    """The preset called ``key``, or a WalletError listing the valid ones."""
    for candidate in PRESETS:
        if candidate.key == key:
            return candidate
    raise WalletError(f"Unknown network '{key}'; choose one of: {', '.join(p.key for p in PRESETS)}.")


def check_rpc_url(url: str) -> str:
    """A trimmed http(s)/ws(s) URL with a host, or a WalletError saying what is wrong with it."""
    cleaned = url.strip()
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        raise WalletError(f"The RPC URL must start with http://, https://, ws:// or wss:// (got '{cleaned}').")
    if not parts.hostname:
        raise WalletError(f"The RPC URL '{cleaned}' has no host name.")
    return cleaned


async def resolve_network(
    key: str, rpc_url: str | None, chain_id: int | None, probe: ChainIdProbe
) -> NetworkChoice:
    """Validate a network choice; a given URL must answer ``eth_chainId`` with the expected chain id."""
    chosen = preset(key)
    url = rpc_url.strip() if rpc_url and rpc_url.strip() else None
    if key == DEVNET:
        if url is not None:
            raise WalletError("The local devnet runs inside this app and needs no RPC URL; leave it empty.")
        assert chosen.chain_id is not None
        return NetworkChoice(key, chosen.name, chosen.chain_id, None)
    if key == CUSTOM:
        if url is None:
            raise WalletError("Enter the RPC URL of your node for a custom network.")
        if chain_id is None or chain_id <= 0:
            raise WalletError("Enter the chain id you expect from this RPC (Base is 8453, Base Sepolia 84532).")
        expected = chain_id
    else:
        assert chosen.chain_id is not None
        expected = chosen.chain_id
        if chain_id is not None and chain_id != expected:
            raise WalletError(f"{chosen.name} is chain {expected}, not {chain_id}.")
    if url is None:
        return NetworkChoice(key, chosen.name, expected, chosen.rpc_url)
    url = check_rpc_url(url)
    actual = await _probe(url, probe)
    if actual != expected:
        raise WalletError(
            f"The RPC at {url} serves chain {actual}, but {chosen.name} is chain {expected}. "
            "Use an RPC URL for the chosen network, or choose the network that matches."
        )
    return NetworkChoice(key, chosen.name, expected, url)


async def _probe(url: str, probe: ChainIdProbe) -> int:
    try:
        return await asyncio.wait_for(probe(url), PROBE_TIMEOUT_SECONDS)
    except AppError:
        raise
    except TimeoutError:
        raise WalletError(f"The RPC at {url} did not answer within {PROBE_TIMEOUT_SECONDS:.0f} s.") from None
    except Exception as e:  # the probe is injected: whatever it raises must reach the person as words
        raise WalletError(f"Could not ask the RPC at {url} for its chain id ({type(e).__name__}: {e}).") from e
