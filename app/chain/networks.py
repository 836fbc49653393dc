"""Network presets (Base, Base Sepolia, Arbitrum One/Sepolia) and the devnet's config built from its deployment."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address

from app.errors import ConfigError

MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
DELEGATE_REGISTRY = "0x00000000000000447e69651d841bD8D104Bed493"


@dataclass(frozen=True)
class NetworkConfig:
    """Everything needed to talk to the marketplace on one chain. Live contract parameters are read on-chain."""

    name: str
    chain_id: int
    diamond: str
    mor: str
    multicall3: str = MULTICALL3
    funding_account: str | None = None
    rpc_urls: tuple[str, ...] = ()
    blockscout_api_url: str | None = None
    explorer_tx_url: str | None = None  # "{{hash}}" is replaced by the tx hash (Go's template form)
    is_devnet: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Addresses may come from settings (lower-cased there) or presets; web3 refuses a non-checksummed ``to``.
        for name in ("diamond", "mor", "multicall3", "funding_account"):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, to_checksum_address(value))
                except ValueError as e:
                    raise ConfigError(f"The {name} address {value!r} is not a 20-byte hex address.") from e

    def tx_url(self, tx_hash: str) -> str | None:
        """A link to the transaction in the block explorer, if the network has one."""
        return self.explorer_tx_url.replace("{{hash}}", tx_hash) if self.explorer_tx_url else None


BASE = NetworkConfig(
    name="Base",
    chain_id=8453,
    diamond="0x6aBE1d282f72B474E54527D93b979A4f64d3030a",
    mor="0x7431aDa8a591C955a994a21710752EF9b882b8e3",
    funding_account="0x5160C0311A95E0A1072FA85Df23712A7BA1cD4b1",
    rpc_urls=("https://mainnet.base.org",),
    blockscout_api_url="https://base.blockscout.com/api/v2",
    explorer_tx_url="https://basescan.org/tx/{{hash}}",
)

BASE_SEPOLIA = NetworkConfig(
    name="Base Sepolia",
    chain_id=84532,
    diamond="0x6e4d0B775E3C3b02683A6F277Ac80240C4aFF930",
    mor="0x5C80Ddd187054E1E4aBBfFCD750498e81d34FfA3",
    funding_account="0x19ec1E4b714990620edf41fE28e9a1552953a7F4",
    rpc_urls=("https://sepolia.base.org",),
    blockscout_api_url="https://base-sepolia.blockscout.com/api/v2",
    explorer_tx_url="https://sepolia.basescan.org/tx/{{hash}}",
)

# Arbitrum deployments are legacy (until 2026-03). The specs list no RPC or explorer for them; the URLs below are
# Arbitrum's own public endpoints and explorer (not taken from the upstream node's configuration).
ARBITRUM_ONE = NetworkConfig(
    name="Arbitrum One",
    chain_id=42161,
    diamond="0xDE819AaEE474626E3f34Ef0263373357e5a6C71b",
    mor="0x092bAaDB7DEf4C3981454dD9c0A0D7FF07bCFc86",
    funding_account="0x1FE04BC15Cf2c5A2d41a0b3a96725596676eBa1E",
    rpc_urls=("https://arb1.arbitrum.io/rpc",),
    explorer_tx_url="https://arbiscan.io/tx/{{hash}}",
)

ARBITRUM_SEPOLIA = NetworkConfig(
    name="Arbitrum Sepolia",
    chain_id=421614,
    diamond="0xb8C55cD613af947E73E262F0d3C54b7211Af16CF",
    mor=to_checksum_address("0x34a285a1b1c166420df5b6630132542923b5b27e"),
    funding_account="0x19ec1E4b714990620edf41fE28e9a1552953a7F4",
    rpc_urls=("https://sepolia-rollup.arbitrum.io/rpc",),
    explorer_tx_url="https://sepolia.arbiscan.io/tx/{{hash}}",
)

PRESETS: dict[int, NetworkConfig] = {n.chain_id: n for n in (BASE, BASE_SEPOLIA, ARBITRUM_ONE, ARBITRUM_SEPOLIA)}


def chain_name(chain_id: int) -> str:
    """A human name for a chain id (``"Base"``), or ``"chain <id>"`` for unknown ones."""
    preset = PRESETS.get(chain_id)
    if preset is not None:
        return preset.name
    if chain_id == 31337:
        return "local devnet"
    return f"chain {chain_id}"


def preset_for_chain(chain_id: int) -> NetworkConfig:
    """The preset for a public chain id, or a ConfigError listing the supported ones."""
    try:
        return PRESETS[chain_id]
    except KeyError:
        supported = ", ".join(f"{n.chain_id} ({n.name})" for n in PRESETS.values())
        raise ConfigError(
            f"There is no network preset for chain id {chain_id}. Supported: {supported}; for any other chain set "
            "DIAMOND_CONTRACT_ADDRESS and MOR_TOKEN_ADDRESS yourself."
        ) from None


def devnet_network(
    *,
    chain_id: int,
    rpc_url: str,
    diamond: str,
    mor: str,
    multicall3: str,
    funding_account: str | None = None,
) -> NetworkConfig:
    """The devnet's NetworkConfig, from the addresses its saved deployment recorded."""
    return NetworkConfig(
        name="Local devnet",
        chain_id=chain_id,
        diamond=diamond,  # NetworkConfig checksums its addresses itself
        mor=mor,
        multicall3=multicall3,
        funding_account=funding_account or None,
        rpc_urls=(rpc_url,),
        is_devnet=True,
    )
