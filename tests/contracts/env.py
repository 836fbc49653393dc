"""The test environment: parties, fixture constants, time control and helpers that speak the marketplace's ABI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_tester import EthereumTester
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from .reference import DAY, DEPLOYED_PAYOUT_START, MOR, deployed_pools
from .reverts import RevertCapture, RevertDecoder, reverts_with

# The §11 fixture. payoutStart is the deployed one moved forward by a whole number of days (so it stays at
# 12:00 UTC) into 2100: the wall clock can then never overtake the chain, which keeps every block time exact.
PAYOUT_START = DEPLOYED_PAYOUT_START + 27_721 * DAY  # 2100-01-01 12:00 UTC
NOW0 = PAYOUT_START + 10 * DAY
POOLS = deployed_pools(PAYOUT_START)
MIN_PRICE = 10**14
MAX_PRICE = 900 * MOR
PROVIDER_STAKE = 2 * 10**17  # 0.2 MOR, also the minimum
MODEL_STAKE = 100 * MOR  # also the minimum
BID_FEE = 3 * 10**17  # 0.3 MOR (testnet config)
BID_PRICE = 10**14  # wei per second
SESSION_STAKE = 50 * MOR
MAX_SESSION_DURATION = DAY
ENDPOINT = "localhost:3334"

RULE_PROVIDER = keccak(text="delegation.rules.provider")
RULE_MODEL = keccak(text="delegation.rules.model")
RULE_MARKETPLACE = keccak(text="delegation.rules.marketplace")
RULE_SESSION = keccak(text="delegation.rules.session")
FULL_RIGHTS = b"\x00" * 32


def encode_approval(bid_id: bytes, chain_id: int, user: str, ts: int) -> bytes:
    """§7 approval: abi.encode(bytes32 bidId, uint256 chainId, address user, uint128 timestamp)."""
    return abi_encode(["bytes32", "uint256", "address", "uint128"], [bid_id, chain_id, user, ts])


def encode_receipt(session_id: bytes, chain_id: int, ts: int, tps: int, ttft: int,
                   tokens: tuple[int, int] | None = None) -> bytes:
    """§7 receipt: 5 words, or the Go router's 7 words when `tokens` (input, output) are given."""
    types = ["bytes32", "uint256", "uint128", "uint32", "uint32"]
    values: list[Any] = [session_id, chain_id, ts, tps, ttft]
    if tokens is not None:
        types += ["uint32", "uint32"]
        values += list(tokens)
    return abi_encode(types, values)


def sign_message(encoded: bytes, key: bytes) -> bytes:
    """EIP-191 signature over keccak(encoded), r‖s‖v with v in {27, 28} (§7)."""
    signed = Account.sign_message(encode_defunct(primitive=keccak(encoded)), key)
    return bytes(signed.signature)


@dataclass
class Env:
    """One deployed marketplace and its parties (eth-tester's unlocked accounts)."""

    w3: Web3
    tester: EthereumTester
    decoder: RevertDecoder
    token: Contract
    registry: Contract
    multicall: Contract
    diamond: Contract
    # The same address with struct outputs decoded into named tuples (only for getters returning one struct:
    # web3 cannot name the unnamed outputs of the `(items[], total)` lists).
    structs: Contract
    accounts: list[str]
    keys: dict[str, bytes]
    facets: dict[str, str] = field(default_factory=dict)
    expecting_revert: bool = False

    # ---- parties ----
    @property
    def owner(self) -> str:
        return self.accounts[0]

    @property
    def user(self) -> str:  # SECOND in the reference tests
        return self.accounts[1]

    @property
    def funding(self) -> str:
        return self.accounts[2]

    @property
    def provider(self) -> str:
        return self.accounts[3]

    @property
    def third(self) -> str:
        return self.accounts[4]

    @property
    def delegatee(self) -> str:
        return self.accounts[5]

    @property
    def provider_signer(self) -> str:
        return self.accounts[6]

    @property
    def provider2(self) -> str:
        return self.accounts[7]

    @property
    def sfn(self) -> Any:
        return self.structs.functions

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    @property
    def fn(self) -> Any:
        return self.diamond.functions

    # ---- time ----
    def now(self) -> int:
        """Timestamp of the latest block; the next transaction is mined at now() + 1."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, ts: int) -> None:
        """Make the next transaction be mined exactly at `ts`."""
        assert ts > self.now(), "cannot travel back in time"
        self.tester.time_travel(ts)

    def mine(self) -> None:
        self.tester.mine_blocks(1)

    # ---- transactions ----
    def send(self, call: Any, sender: str) -> TxReceipt:
        if self.expecting_revert:
            # A dry run in the pending block (same timestamp as the real transaction) raises with the revert data.
            call.call({"from": sender}, block_identifier="pending")
        # The explicit gas limit skips eth_estimateGas, whose binary search re-runs the call ~12 times.
        tx = call.transact({"from": sender, "gas": 8_000_000})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        if receipt["status"] != 1:
            # Re-run it to show why it failed (the state is unchanged by a reverted transaction).
            call.call({"from": sender}, block_identifier="pending")
            raise AssertionError(f"transaction reverted: {call.fn_name}")
        return receipt

    @contextmanager
    def reverts(self, name: str, *args: Any) -> Iterator[RevertCapture]:
        """Assert that the block reverts with this error (and these arguments, if given)."""
        self.expecting_revert = True
        try:
            with reverts_with(self.decoder, name, *args) as capture:
                yield capture
        finally:
            self.expecting_revert = False

    def block_time(self, receipt: TxReceipt) -> int:
        return int(self.w3.eth.get_block(receipt["blockNumber"])["timestamp"])

    def events(self, receipt: TxReceipt, name: str, contract: Contract | None = None) -> list[Any]:
        source = contract if contract is not None else self.diamond
        return [e["args"] for e in source.events[name]().process_receipt(receipt, errors=DISCARD)]

    def balance(self, who: str) -> int:
        return int(self.token.functions.balanceOf(who).call())

    def delegate(self, delegator: str, delegatee: str, rule: bytes, enable: bool = True) -> None:
        self.send(self.registry.functions.delegateContract(delegatee, self.diamond.address, rule, enable),
                  delegator)

    # ---- registries and bids ----
    def register_provider(self, provider: str | None = None, amount: int = PROVIDER_STAKE,
                          endpoint: str = ENDPOINT, sender: str | None = None) -> TxReceipt:
        provider = provider or self.provider
        return self.send(self.fn.providerRegister(provider, amount, endpoint), sender or provider)

    def register_model(self, owner: str | None = None, base_id: bytes = b"\x01" * 32, amount: int = MODEL_STAKE,
                       *, ipfs: bytes = b"\xcd" * 32, fee: int = 100, name: str = "Llama 2.0",
                       tags: tuple[str, ...] = ("llama", "animal", "cute"), sender: str | None = None) -> bytes:
        owner = owner or self.owner
        self.send(self.fn.modelRegister(owner, base_id, ipfs, fee, amount, name, list(tags)), sender or owner)
        return bytes(self.fn.getModelId(owner, base_id).call())

    def post_bid(self, provider: str, model_id: bytes, price: int = BID_PRICE, sender: str | None = None) -> bytes:
        receipt = self.send(self.fn.postModelBid(provider, model_id, price), sender or provider)
        posted = self.events(receipt, "MarketplaceBidPosted")
        assert len(posted) == 1
        return bytes(self.fn.getBidId(provider, model_id, posted[0]["nonce"]).call())

    # ---- sessions ----
    def approval(self, bid_id: bytes, *, ts: int | None = None, chain_id: int | None = None,
                 user: str | None = None) -> bytes:
        return encode_approval(bid_id, self.chain_id if chain_id is None else chain_id, user or self.user,
                               self.now() if ts is None else ts)

    def sign(self, encoded: bytes, signer: str) -> bytes:
        return sign_message(encoded, self.keys[signer])

    def open_session(self, bid_id: bytes, amount: int = SESSION_STAKE, *, user: str | None = None,
                     sender: str | None = None, direct: bool = False, signer: str | None = None,
                     approval: bytes | None = None) -> bytes:
        """Open a session with an approval signed by `signer` (default PROVIDER); returns the session id."""
        user = user or self.user
        approval = approval if approval is not None else self.approval(bid_id, user=user)
        signature = self.sign(approval, signer or self.provider)
        receipt = self.send(self.fn.openSession(user, amount, direct, approval, signature), sender or user)
        opened = self.events(receipt, "SessionOpened")
        assert len(opened) == 1
        return bytes(opened[0]["sessionId"])

    def receipt(self, session_id: bytes, *, ts: int | None = None, chain_id: int | None = None, tps: int = 10_000,
                ttft: int = 1_000, tokens: tuple[int, int] | None = None) -> bytes:
        return encode_receipt(session_id, self.chain_id if chain_id is None else chain_id,
                              self.now() if ts is None else ts, tps, ttft, tokens)

    def close_session(self, session_id: bytes, *, signer: str | None = None, sender: str | None = None,
                      tps: int = 10_000, ttft: int = 1_000, tokens: tuple[int, int] | None = None,
                      receipt: bytes | None = None) -> TxReceipt:
        """Close with a receipt signed by `signer` (default PROVIDER: no dispute; the user's key: dispute)."""
        receipt = receipt if receipt is not None else self.receipt(session_id, tps=tps, ttft=ttft, tokens=tokens)
        signature = self.sign(receipt, signer or self.provider)
        return self.send(self.fn.closeSession(receipt, signature), sender or self.user)

    def session(self, session_id: bytes) -> Any:
        return self.sfn.getSession(session_id).call()

    def bid(self, bid_id: bytes) -> Any:
        return self.sfn.getBid(bid_id).call()

    def model(self, model_id: bytes) -> Any:
        return self.sfn.getModel(model_id).call()

    def provider_record(self, provider: str | None = None) -> Any:
        return self.sfn.getProvider(provider or self.provider).call()


@dataclass
class Market:
    """The `market` fixture: PROVIDER's bid (1e14 wei/s) on OWNER's model."""

    env: Env
    model_id: bytes
    bid_id: bytes
