"""Which chain to use: the embedded devnet when nothing is configured, else the RPC and contracts from settings."""

from __future__ import annotations

from dataclasses import dataclass

from app.chain.networks import PRESETS, NetworkConfig, chain_name
from app.config.settings import Settings
from app.errors import ConfigError


@dataclass(frozen=True)
class ChainPlan:
    """Either ``devnet`` (start the embedded chain) or a real RPC with a network to expect on it."""

    devnet: bool
    rpc_urls: tuple[str, ...] = ()
    expected_chain_id: int | None = None


def plan_chain(settings: Settings) -> ChainPlan:
    """The devnet when ETH_NODE_ADDRESS is empty; otherwise that RPC, checked against ETH_NODE_CHAIN_ID if set."""
    if not settings.eth_node_address:
        return ChainPlan(devnet=True)
    expected = settings.eth_node_chain_id or None
    return ChainPlan(devnet=False, rpc_urls=(settings.eth_node_address,), expected_chain_id=expected)


def network_for_chain(settings: Settings, chain_id: int, rpc_urls: tuple[str, ...]) -> NetworkConfig:
    """The network on a real RPC: the preset for its chain id, with contract addresses overridable by settings."""
    preset = PRESETS.get(chain_id)
    diamond = settings.diamond_contract_address or (preset.diamond if preset else None)
    mor = settings.mor_token_address or (preset.mor if preset else None)
    if diamond is None or mor is None:
        raise ConfigError(
            f"The RPC is on {chain_name(chain_id)}, which has no built-in contract addresses: set "
            "DIAMOND_CONTRACT_ADDRESS and MOR_TOKEN_ADDRESS, or use a Base / Base Sepolia RPC."
        )
    return NetworkConfig(
        name=preset.name if preset else chain_name(chain_id),
        chain_id=chain_id,
        diamond=diamond,
        mor=mor,
        multicall3=settings.multicall3_addr,
        funding_account=preset.funding_account if preset else None,
        rpc_urls=rpc_urls,
        blockscout_api_url=settings.blockscout_api_url or (preset.blockscout_api_url if preset else None),
        explorer_tx_url=preset.explorer_tx_url if preset else None,
    )
