"""First-start setup of the devnet: deploy the protocol once, fund its funding account, reuse it afterwards.

Extend with more steps (demo providers, a session history) through ``DevnetService.add_setup_step``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from app.chain.client import ChainClient
from app.chain.tx import TxSender
from app.devnet.accounts import dev_private_keys
from app.devnet.deployment import Deployment, load_deployment, save_deployment
from app.errors import AppError, DevnetError
from app.wallet.signer import KeySigner

log = logging.getLogger(__name__)

MOR = 10**18

# Roles of the dev accounts (anvil's first ten keys). Each role has its own account so the faucet, the funding
# account and later seeding never race for one account's nonces.
OWNER_INDEX = 0  # deploys and owns the Diamond; receives the MOR mock's initial 42M supply
FUNDING_INDEX = 1  # the protocol's funding account: pays providers in stake mode (§10.4)
FAUCET_INDEX = 2  # hands out ETH + MOR to new wallets
# Indexes 3..9 are free for demo providers and seeding.

# Devnet protocol parameters, chosen to behave like the real networks (contracts-spec §6.2):
# - provider / model min stake 0.2 / 0.1 MOR (testnet values): the faucet's 1000 MOR covers many registrations;
# - bid fee 0.3 MOR (testnet value, as the v7 user docs state);
# - price floor 1e10 wei/s (the documented v7 floor, the commented-out migration), ceiling 1e16 wei/s (mainnet), so
#   demo prices anywhere from 1e10 to 1e16 wei/s can be posted;
# - max session duration 7 days (as deployed);
# - the deployed pools unchanged: payoutStart 2024-02-08 is long past, so R_3(now) > 0 and openSession works at
#   wall-clock time on both engines (their block times follow the wall clock).
DEVNET_PARAMS: dict[str, int] = {
    "provider_min_stake": 2 * MOR // 10,
    "model_min_stake": MOR // 10,
    "bid_fee": 3 * MOR // 10,
    "min_price_per_second": 10**10,
    "max_price_per_second": 10**16,
    "max_session_duration": 7 * 86_400,
}
PAYOUT_START = 1_707_393_600
POOLS: tuple[tuple[int, int], ...] = (  # (initialReward, rewardDecrease) per pool; pool 3 is the compute pool
    *((3456 * MOR, 592_558_728_240_000_000),) * 4,
    (576 * MOR, 98_759_788_040_000_000),
)
FUNDING_ACCOUNT_MOR = 5_000_000 * MOR  # covers provider payouts for far more sessions than a devnet sees
FAUCET_ACCOUNT_MOR = 20_000_000 * MOR  # 20 000 faucet drips of 1000 MOR
_MAX_UINT256 = 2**256 - 1


def dev_signer(index: int) -> KeySigner:
    """A signer for one of the public dev accounts."""
    return KeySigner(dev_private_keys()[index])


def _erc20_call(signature: str, types: list[str], values: list[Any]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


async def ensure_protocol(client: ChainClient, data_dir: Path, *, persistent: bool) -> tuple[Deployment, bool]:
    """Reuse the saved deployment if its Diamond still has code on this chain, else deploy afresh.

    Returns the deployment and whether it was deployed just now.
    """
    saved = load_deployment(data_dir)
    if saved is not None and saved.chain_id == client.chain_id:
        if await client.get_code(saved.diamond):
            return saved, False
        if persistent:
            log.warning(
                "the devnet state was lost (no contract at the saved Diamond %s); deploying the protocol again",
                saved.diamond,
            )
    deployment = await deploy_devnet_protocol(client)
    save_deployment(data_dir, deployment)
    return deployment, True


async def deploy_devnet_protocol(client: ChainClient) -> Deployment:
    """Deploy and initialise the protocol with :data:`DEVNET_PARAMS`, then fund the funding and faucet accounts."""
    from app.chain.deployer import ProtocolParams, deploy_protocol
    from app.chain.records import Pool

    owner, funding, faucet = dev_signer(OWNER_INDEX), dev_signer(FUNDING_INDEX), dev_signer(FAUCET_INDEX)
    owner_sender = TxSender(client, owner)
    try:
        block = await client.block_number()
        pools = tuple(Pool(initial, decrease, PAYOUT_START, 86_400) for initial, decrease in POOLS)
        params = ProtocolParams(funding_account=funding.address, pools=pools, **DEVNET_PARAMS)
        addresses = await deploy_protocol(client, owner_sender, params)
        mor = addresses.token
        await owner_sender.send(
            mor,
            _erc20_call("transfer(address,uint256)", ["address", "uint256"], [funding.address, FUNDING_ACCOUNT_MOR]),
            purpose="devnet: MOR for the funding account",
        )
        await owner_sender.send(
            mor,
            _erc20_call("transfer(address,uint256)", ["address", "uint256"], [faucet.address, FAUCET_ACCOUNT_MOR]),
            purpose="devnet: MOR for the faucet",
        )
        # The Diamond pays providers from the funding account via transferFrom (§10.4).
        await TxSender(client, funding).send(
            mor,
            _erc20_call("approve(address,uint256)", ["address", "uint256"], [addresses.diamond, _MAX_UINT256]),
            purpose="devnet: funding account approves the Diamond",
        )
    except AppError as e:
        raise DevnetError(f"Deploying the protocol to the devnet failed: {e.user_message} Reset the devnet.") from e
    extra = {"delegate_registry": addresses.delegate_registry, **addresses.facets}
    return Deployment(
        chain_id=client.chain_id,
        diamond=addresses.diamond,
        mor=mor,
        multicall3=addresses.multicall,
        deploy_block=block + 1,
        owner=owner.address,
        funding_account=funding.address,
        faucet_account=faucet.address,
        extra=extra,
    )
