"""The fallback chain: eth-tester/py-evm behind a JSON-RPC method table that mirrors anvil's answers.

The app runs it in a child process of its own (tester_process), so py-evm never holds the GUI's GIL.
Everything here is synchronous and must run on one worker thread (py-evm state is not thread-safe).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from eth.exceptions import Revert
from eth.vm.spoof import SpoofTransaction
from eth_abi.abi import decode
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import _get_block_by_number
from eth_tester.exceptions import BlockNotFound, FilterNotFound, SnapshotNotFound, TransactionNotFound
from eth_utils.address import to_canonical_address
from eth_utils.exceptions import ValidationError as EthValidationError

from app.devnet.accounts import DEV_ACCOUNT_COUNT, DEV_BALANCE_WEI, DEV_HD_PATH, DEV_MNEMONIC, dev_addresses
from app.devnet.tester_format import (
    RpcError,
    block_id,
    format_block,
    format_log,
    format_receipt,
    format_transaction,
    quantity,
    tx_from_rpc,
)

_PRIORITY_FEE = 10**9  # anvil suggests 1 gwei; clients build EIP-1559 fees from it
_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)


class TesterChain:
    """One eth-tester chain with anvil's chain id and dev accounts, answering JSON-RPC calls by name."""

    def __init__(self, chain_id: int) -> None:
        genesis_state = PyEVMBackend.generate_genesis_state(
            mnemonic=DEV_MNEMONIC,
            num_accounts=DEV_ACCOUNT_COUNT,
            hd_path=DEV_HD_PATH,
            overrides={"balance": DEV_BALANCE_WEI},
        )
        self._backend = PyEVMBackend(genesis_state=genesis_state, mnemonic=DEV_MNEMONIC, hd_path=DEV_HD_PATH)
        # eth-tester hard-codes its chain id on a class it builds per chain; this class is ours alone.
        type(self._backend.chain).chain_id = chain_id
        self._tester = EthereumTester(self._backend)
        self.chain_id = chain_id
        self._time_offset = 0  # evm_increaseTime / evm_setNextBlockTimestamp shift wall-clock time like anvil
        self._next_timestamp: int | None = None
        self._snapshots: dict[int, int] = {}
        self._methods: dict[str, Callable[[list[Any]], Any]] = {
            "web3_clientVersion": lambda p: "eth-tester/py-evm (morpheus devnet)",
            "net_version": lambda p: str(self.chain_id),
            "net_listening": lambda p: True,
            "eth_chainId": lambda p: hex(self.chain_id),
            "eth_syncing": lambda p: False,
            "eth_accounts": lambda p: list(dev_addresses()),
            "eth_blockNumber": lambda p: hex(self._latest_number()),
            "eth_gasPrice": lambda p: hex(self._pending_base_fee() + _PRIORITY_FEE),
            "eth_maxPriorityFeePerGas": lambda p: hex(_PRIORITY_FEE),
            "eth_getBalance": lambda p: hex(self._tester.get_balance(_arg(p, 0), self._state_block(p, 1))),
            "eth_getTransactionCount": lambda p: hex(self._tester.get_nonce(_arg(p, 0), self._state_block(p, 1))),
            "eth_getCode": lambda p: self._tester.get_code(_arg(p, 0), self._state_block(p, 1)),
            "eth_getStorageAt": self._get_storage_at,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_sendRawTransaction": self._send_raw_transaction,
            "eth_getTransactionByHash": self._get_transaction,
            "eth_getTransactionReceipt": self._get_receipt,
            "eth_getBlockByNumber": self._get_block_by_number,
            "eth_getBlockByHash": self._get_block_by_hash,
            "eth_getLogs": self._get_logs,
            "eth_feeHistory": self._fee_history,
            "evm_mine": self._mine,
            "evm_increaseTime": self._increase_time,
            "evm_setNextBlockTimestamp": self._set_next_timestamp,
            "evm_snapshot": self._snapshot,
            "evm_revert": self._revert,
            "anvil_setBalance": self._set_balance,
        }

    def handle(self, method: str, params: list[Any]) -> Any:
        """Run one JSON-RPC method and return its JSON result; raises RpcError for the error object."""
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(-32601, f"the method {method} does not exist/is not available")
        try:
            return handler(params)
        except RpcError:
            raise
        except (BlockNotFound, TransactionNotFound, FilterNotFound, SnapshotNotFound) as e:
            raise RpcError(-32000, str(e)) from e
        except (EthValidationError, ValueError, TypeError, KeyError) as e:
            raise RpcError(-32000, str(e) or type(e).__name__) from e

    # time ---------------------------------------------------------------------------------------------------
    def _latest_number(self) -> int:
        return int(self._backend.chain.get_canonical_head().block_number)

    def _pending_base_fee(self) -> int:
        return int(self._backend.chain.header.base_fee_per_gas)

    def _prepare_pending_block(self) -> None:
        """Stamp the next block with wall-clock time (+ offset); py-evm would keep the time of the last mine."""
        chain = self._backend.chain
        parent_ts = int(chain.get_canonical_head().timestamp)
        target = self._next_timestamp
        if target is None:
            target = int(time.time()) + self._time_offset
        chain.header = chain.header.copy(timestamp=max(target, parent_ts + 1))

    def _after_mine(self) -> None:
        self._next_timestamp = None

    def _mine(self, params: list[Any]) -> str:
        if params and params[0] is not None:
            self._set_next_timestamp([params[0]])
        self._prepare_pending_block()
        self._tester.mine_blocks(1)
        self._after_mine()
        return "0x0"

    def _increase_time(self, params: list[Any]) -> str:
        self._time_offset += quantity(_arg(params, 0), "seconds")
        return hex(self._time_offset)

    def _set_next_timestamp(self, params: list[Any]) -> None:
        target = quantity(_arg(params, 0), "timestamp")
        if target <= int(self._backend.chain.get_canonical_head().timestamp):
            raise RpcError(-32000, f"timestamp {target} is not after the latest block's timestamp")
        self._next_timestamp = target
        self._time_offset = target - int(time.time())  # later blocks continue from there, as on anvil

    # state ---------------------------------------------------------------------------------------------------
    def _state_block(self, params: list[Any], index: int) -> str | int:
        # With auto-mining the pending block is always empty, so "pending" state is the latest state.
        block = block_id(params[index] if len(params) > index else None)
        return "latest" if block in {"pending", "safe", "finalized"} else block

    def _get_storage_at(self, params: list[Any]) -> str:
        slot = quantity(_arg(params, 1), "slot")
        value = self._tester.get_storage_at(_arg(params, 0), slot, self._state_block(params, 2))
        return "0x" + bytes.fromhex(str(value)[2:]).rjust(32, b"\0").hex()

    def _set_balance(self, params: list[Any]) -> None:
        chain = self._backend.chain
        self._prepare_pending_block()
        state = chain.get_vm().state
        state.set_balance(to_canonical_address(_arg(params, 0)), quantity(_arg(params, 1), "balance"))
        state.persist()
        chain.header = chain.header.copy(state_root=state.state_root)
        self._tester.mine_blocks(1)
        self._after_mine()

    # calls and transactions ----------------------------------------------------------------------------------
    def _call(self, params: list[Any]) -> str:
        return "0x" + self._execute(tx_from_rpc(_arg(params, 0)), self._state_block(params, 1)).hex()

    def _execute(self, tx: dict[str, Any], block: str | int) -> bytes:
        """eth_call at the backend level so a revert keeps its raw data (eth-tester flattens it to text)."""
        self._tester.validator.validate_inbound_transaction(tx, txn_internal_type="call")
        raw_tx = dict(self._tester.normalizer.normalize_inbound_transaction(tx))
        raw_tx.setdefault("gas", self._backend._max_available_gas())
        header = _get_block_by_number(self._backend.chain, block).header
        if not any(k in raw_tx for k in ("gas_price", "max_fee_per_gas", "max_priority_fee_per_gas")):
            # Like geth and anvil, a call that names no fee costs nothing: any sender (even 0x0) can make it.
            raw_tx.update(max_fee_per_gas=0, max_priority_fee_per_gas=0)
            header = header.copy(base_fee_per_gas=0)
        unsigned = self._backend._get_normalized_and_unsigned_evm_transaction(raw_tx, block)
        state = self._backend.chain.get_vm(at_header=header).state
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(SpoofTransaction(unsigned, from_=raw_tx["from"]))
        finally:
            state.revert(snapshot)
        if computation.is_error:
            raise _revert_error(computation.error)
        return bytes(computation.output)

    def _estimate_gas(self, params: list[Any]) -> str:
        tx = tx_from_rpc(_arg(params, 0))
        block = self._state_block(params, 1)
        try:
            return hex(self._tester.estimate_gas(tx, block))
        except Exception as e:
            self._execute(tx, block)  # re-run as a call to surface the revert data the way anvil does
            raise RpcError(-32000, f"gas estimation failed: {e}") from e

    def _send_raw_transaction(self, params: list[Any]) -> str:
        raw = _arg(params, 0)
        self._prepare_pending_block()
        try:
            tx_hash = self._tester.send_raw_transaction(raw)
        finally:
            self._after_mine()
        return str(tx_hash)

    def _get_transaction(self, params: list[Any]) -> dict[str, Any] | None:
        try:
            return format_transaction(self._tester.get_transaction_by_hash(_arg(params, 0)))
        except TransactionNotFound:
            return None

    def _get_receipt(self, params: list[Any]) -> dict[str, Any] | None:
        try:
            return format_receipt(self._tester.get_transaction_receipt(_arg(params, 0)))
        except TransactionNotFound:
            return None

    # blocks and logs -----------------------------------------------------------------------------------------
    def _get_block_by_number(self, params: list[Any]) -> dict[str, Any] | None:
        full = bool(params[1]) if len(params) > 1 else False
        try:
            return format_block(self._tester.get_block_by_number(block_id(_arg(params, 0)), full), full)
        except BlockNotFound:
            return None

    def _get_block_by_hash(self, params: list[Any]) -> dict[str, Any] | None:
        full = bool(params[1]) if len(params) > 1 else False
        try:
            return format_block(self._tester.get_block_by_hash(_arg(params, 0), full), full)
        except BlockNotFound:
            return None

    def _get_logs(self, params: list[Any]) -> list[dict[str, Any]]:
        query = _arg(params, 0)
        if not isinstance(query, dict):
            raise RpcError(-32602, "invalid params: the log filter must be an object")
        if query.get("blockHash"):
            number = self._tester.get_block_by_hash(query["blockHash"])["number"]
            first = last = number
        else:
            first = self._block_number(query.get("fromBlock"))
            last = self._block_number(query.get("toBlock"))
        filter_id = self._tester.create_log_filter(
            from_block=first, to_block=last, address=query.get("address"), topics=query.get("topics")
        )
        try:
            return [format_log(log) for log in self._tester.get_all_filter_logs(filter_id)]
        finally:
            self._tester.delete_filter(filter_id)

    def _block_number(self, value: Any) -> int:
        block = block_id(value)
        if block == "earliest":
            return 0
        if isinstance(block, str):
            return self._latest_number()
        return block

    def _fee_history(self, params: list[Any]) -> dict[str, Any]:
        count = min(quantity(_arg(params, 0), "blockCount"), 1024)
        newest = min(self._block_number(params[1] if len(params) > 1 else None), self._latest_number())
        percentiles = params[2] if len(params) > 2 and params[2] else []
        oldest = max(0, newest - count + 1)
        chain = self._backend.chain
        headers = [chain.get_canonical_block_header_by_number(n) for n in range(oldest, newest + 1)]
        next_fee = self._pending_base_fee() if newest == self._latest_number() else None
        base_fees = [h.base_fee_per_gas for h in headers] + [next_fee or headers[-1].base_fee_per_gas]
        result: dict[str, Any] = {
            "oldestBlock": hex(oldest),
            "baseFeePerGas": [hex(f) for f in base_fees],
            "gasUsedRatio": [h.gas_used / h.gas_limit for h in headers],
        }
        if percentiles:
            result["reward"] = [[hex(_PRIORITY_FEE) for _ in percentiles] for _ in headers]
        return result

    # snapshots -----------------------------------------------------------------------------------------------
    def _snapshot(self, params: list[Any]) -> str:
        snapshot_id = self._tester.take_snapshot()
        self._snapshots[snapshot_id] = self._time_offset
        return hex(snapshot_id)

    def _revert(self, params: list[Any]) -> bool:
        snapshot_id = quantity(_arg(params, 0), "snapshot id")
        if snapshot_id not in self._snapshots:
            return False
        self._tester.revert_to_snapshot(snapshot_id)
        self._time_offset = self._snapshots.pop(snapshot_id)
        return True


def _arg(params: list[Any], index: int) -> Any:
    if not isinstance(params, list) or len(params) <= index:
        raise RpcError(-32602, f"invalid params: expected at least {index + 1} parameter(s)")
    return params[index]


def _revert_error(error: Exception) -> RpcError:
    """The error object anvil sends for a revert: code 3, reason in the message, raw bytes in ``data``."""
    if not isinstance(error, Revert):  # out of gas, invalid opcode...: no revert data
        return RpcError(-32000, f"execution failed: {error}")
    data = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
    message = "execution reverted"
    if data[:4] == _ERROR_SELECTOR:
        # A malformed Error(string) payload keeps the plain message; the raw data is still returned.
        with contextlib.suppress(Exception):
            message += f": {decode(['string'], data[4:])[0]}"
    return RpcError(3, message, "0x" + data.hex())
