"""A freshly deployed protocol with funded parties, built only through app.chain (shared by the flow tests)."""

from __future__ import annotations

from dataclasses import dataclass

from app.chain.client import ChainClient
from app.chain.deployer import ProtocolAddresses, ProtocolParams, deploy_protocol
from app.chain.diamond import Diamond
from app.chain.multicall import Multicall
from app.chain.records import Pool
from app.chain.token import MorToken
from app.chain.tx import TxSender
from app.wallet.signer import KeySigner
from tests.chain.conftest import FAST_POLICY

MOR = 10**18
PRICE = 10**14  # wei per second
MAIN_POOL = Pool(3456 * MOR, 592558728240000000, 1707393600, 86400)
DEPLOYED_POOLS = (MAIN_POOL,) * 4 + (Pool(576 * MOR, 98759788040000000, 1707393600, 86400),)
PARAMS_BASE = {
    "provider_min_stake": 2 * MOR // 10,
    "model_min_stake": MOR // 10,
    "bid_fee": 3 * MOR // 10,
    "min_price_per_second": 10**10,
    "max_price_per_second": 2 * 10**19,
    "max_session_duration": 86400,
    "pools": DEPLOYED_POOLS,
}


@dataclass
class Party:
    signer: KeySigner
    sender: TxSender
    diamond: Diamond
    token: MorToken

    @property
    def address(self) -> str:
        return self.signer.address


@dataclass
class Protocol:
    client: ChainClient
    addresses: ProtocolAddresses
    owner: Party
    provider: Party
    user: Party
    funding: Party

    async def now(self) -> int:
        return await self.client.block_timestamp()

    async def travel(self, seconds: int) -> None:
        await self.client.rpc("evm_increaseTime", [seconds])
        await self.client.rpc("evm_mine", [])


def _party(client: ChainClient, signer: KeySigner, addresses: ProtocolAddresses) -> Party:
    sender = TxSender(client, signer, policy=FAST_POLICY)
    multicall = Multicall(client, addresses.multicall)
    return Party(
        signer,
        sender,
        Diamond(client, addresses.diamond, sender, multicall),
        MorToken(client, addresses.token, sender),
    )


async def deploy_funded_protocol(client: ChainClient, signers: list[KeySigner]) -> Protocol:
    owner_signer, provider_signer, user_signer, funding_signer = signers[:4]
    owner_sender = TxSender(client, owner_signer, policy=FAST_POLICY)
    params = ProtocolParams(funding_account=funding_signer.address, **PARAMS_BASE)  # type: ignore[arg-type]
    addresses = await deploy_protocol(client, owner_sender, params)
    env = Protocol(
        client,
        addresses,
        _party(client, owner_signer, addresses),
        _party(client, provider_signer, addresses),
        _party(client, user_signer, addresses),
        _party(client, funding_signer, addresses),
    )
    await env.owner.token.transfer(env.provider.address, 20 * MOR)
    await env.owner.token.transfer(env.user.address, 1000 * MOR)
    await env.owner.token.transfer(env.funding.address, 100_000 * MOR)
    await env.funding.token.approve(addresses.diamond, 2**256 - 1)
    return env
