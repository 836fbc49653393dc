"""Both devnet engines behave like one JSON-RPC chain; anvil persists and never outlives its owner."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from devnet_rpc import ANVIL, gone_within, needs_anvil, pid_alive, result, rpc, wait_receipt

from app.devnet.accounts import DEV_BALANCE_WEI, dev_addresses, dev_private_keys
from app.devnet.node import ChainNode, start_anvil, start_chain, start_eth_tester
from app.errors import DevnetError
from app.wallet.signer import KeySigner

# Init code that deploys a contract whose every call reverts with the 4 bytes 0xdeadbeef (a custom error).
_REPO = Path(__file__).resolve().parents[2]
# A process that starts anvil, reports its pid, then waits to be killed.
_OWNER_SCRIPT = """
import asyncio
from app.devnet.node import start_anvil
async def main():
    node = await start_anvil(state_path=None)
    print(node.pid, flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""
_REVERTING_CONTRACT = "0x6010806" + "00b6000396000f3" + "63deadbeef60e01b60005260046000fd"


async def _send(node: ChainNode, key_index: int, tx: dict[str, object]) -> dict[str, object]:
    signer = KeySigner(dev_private_keys()[key_index])
    nonce = int(await result(node.rpc_url, "eth_getTransactionCount", signer.address, "pending"), 16)
    base_fee = int((await result(node.rpc_url, "eth_getBlockByNumber", "latest", False))["baseFeePerGas"], 16)
    full = {
        "chainId": node.chain_id,
        "nonce": nonce,
        "gas": 100_000,
        "type": 2,
        "maxFeePerGas": 2 * base_fee + 10**9,
        "maxPriorityFeePerGas": 10**9,
        "value": 0,
        **tx,
    }
    raw = signer.sign_transaction(full)
    tx_hash = await result(node.rpc_url, "eth_sendRawTransaction", "0x" + raw.hex())
    return await wait_receipt(node.rpc_url, tx_hash)


async def test_chain_answers_chain_id_and_block_number(chain: ChainNode) -> None:
    assert int(await result(chain.rpc_url, "eth_chainId"), 16) == 31337 == chain.chain_id
    assert int(await result(chain.rpc_url, "eth_blockNumber"), 16) >= 0
    assert chain.rpc_url.startswith("http://127.0.0.1:")


async def test_dev_accounts_are_funded_with_10000_eth(chain: ChainNode) -> None:
    for address in (dev_addresses()[0], dev_addresses()[9]):
        assert int(await result(chain.rpc_url, "eth_getBalance", address, "latest"), 16) == DEV_BALANCE_WEI


async def test_signed_value_transfer_is_mined_and_moves_the_value(chain: ChainNode) -> None:
    receiver = "0x000000000000000000000000000000000000bEEF"
    receipt = await _send(chain, 1, {"to": receiver, "value": 12345, "gas": 21000})
    assert receipt["status"] == "0x1"
    assert int(await result(chain.rpc_url, "eth_getBalance", receiver, "latest"), 16) == 12345
    tx = await result(chain.rpc_url, "eth_getTransactionByHash", receipt["transactionHash"])
    assert tx["from"].lower() == dev_addresses()[1].lower()
    assert int(await result(chain.rpc_url, "eth_getTransactionCount", dev_addresses()[1], "pending"), 16) == 1


async def test_revert_data_of_a_custom_error_is_in_the_error_object(chain: ChainNode) -> None:
    receipt = await _send(chain, 2, {"data": _REVERTING_CONTRACT, "gas": 200_000})
    contract = str(receipt["contractAddress"])
    assert await result(chain.rpc_url, "eth_getCode", contract, "latest") == "0x63deadbeef60e01b60005260046000fd"
    call = {"from": dev_addresses()[0], "to": contract, "data": "0x12345678"}
    for method, params in (("eth_call", [call, "latest"]), ("eth_estimateGas", [call])):
        error = (await rpc(chain.rpc_url, method, *params))["error"]
        assert error["code"] == 3, (method, error)
        assert error["data"] == "0xdeadbeef", (method, error)
        assert "execution reverted" in error["message"]


async def test_increase_time_moves_the_next_block_forward(chain: ChainNode) -> None:
    before = int((await result(chain.rpc_url, "eth_getBlockByNumber", "latest", False))["timestamp"], 16)
    await result(chain.rpc_url, "evm_increaseTime", hex(86_400))
    await result(chain.rpc_url, "evm_mine")
    after = int((await result(chain.rpc_url, "eth_getBlockByNumber", "latest", False))["timestamp"], 16)
    assert 86_400 <= after - before < 86_400 + 60


async def test_set_next_block_timestamp_stamps_the_next_block(chain: ChainNode) -> None:
    target = int(time.time()) + 7 * 86_400
    await result(chain.rpc_url, "evm_setNextBlockTimestamp", hex(target))
    await result(chain.rpc_url, "evm_mine")
    block = await result(chain.rpc_url, "eth_getBlockByNumber", "latest", False)
    assert int(block["timestamp"], 16) == target


async def test_snapshot_and_revert_undo_a_transfer(chain: ChainNode) -> None:
    receiver = "0x000000000000000000000000000000000000cafE"
    snapshot = await result(chain.rpc_url, "evm_snapshot")
    await _send(chain, 3, {"to": receiver, "value": 1, "gas": 21000})
    assert await result(chain.rpc_url, "evm_revert", snapshot) is True
    assert int(await result(chain.rpc_url, "eth_getBalance", receiver, "latest"), 16) == 0


async def test_fee_history_and_gas_price_are_usable_for_eip1559_fees(chain: ChainNode) -> None:
    history = await result(chain.rpc_url, "eth_feeHistory", "0x2", "latest", [50])
    assert len(history["baseFeePerGas"]) == len(history["gasUsedRatio"]) + 1
    assert int(await result(chain.rpc_url, "eth_gasPrice"), 16) > 0
    assert int(await result(chain.rpc_url, "eth_maxPriorityFeePerGas"), 16) > 0


async def test_unknown_method_answers_a_json_rpc_error(chain: ChainNode) -> None:
    reply = await rpc(chain.rpc_url, "eth_noSuchMethod")
    assert reply["error"]["code"] in {-32601, -32600}


@needs_anvil
async def test_anvil_state_persists_across_stop_and_start(tmp_path: Path) -> None:
    state = tmp_path / "devnet" / "anvil-state.json"
    node = await start_anvil(state_path=state)
    receipt = await _send(node, 4, {"to": "0x000000000000000000000000000000000000dEaD", "value": 77, "gas": 21000})
    await node.stop()
    assert state.is_file()
    node = await start_anvil(state_path=state)
    try:
        assert node.persistent
        balance = await result(node.rpc_url, "eth_getBalance", "0x000000000000000000000000000000000000dEaD", "latest")
        assert int(balance, 16) == 77
        assert int(await result(node.rpc_url, "eth_blockNumber"), 16) >= int(str(receipt["blockNumber"]), 16)
    finally:
        await node.stop()


@needs_anvil
async def test_stopping_anvil_leaves_no_process_behind() -> None:
    node = await start_anvil(state_path=None)
    assert node.pid is not None
    assert pid_alive(node.pid)
    await node.stop()
    assert not pid_alive(node.pid)
    await node.stop()  # idempotent


async def test_bad_anvil_path_raises_a_devnet_error_that_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DevnetError, match="ANVIL_PATH") as caught:
        await start_anvil(state_path=None, anvil_path=tmp_path / "no-such-anvil")
    assert "does not exist" in caught.value.user_message


async def test_start_chain_falls_back_to_eth_tester_when_anvil_is_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'error: broken install' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ANVIL_PATH", str(fake))
    node = await start_chain(data_dir=tmp_path)
    try:
        assert (node.engine, node.persistent) == ("eth-tester", False)
        assert int(await result(node.rpc_url, "eth_chainId"), 16) == 31337
    finally:
        await node.stop()


async def test_broken_anvil_error_quotes_its_output(tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'error: broken install'\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(DevnetError, match="broken install"):
        await start_anvil(state_path=None, anvil_path=fake)


@needs_anvil
async def test_start_chain_prefers_anvil_with_state_under_the_data_dir(tmp_path: Path) -> None:
    assert ANVIL is not None
    node = await start_chain(data_dir=tmp_path)
    try:
        assert (node.engine, node.persistent) == ("anvil", True)
    finally:
        await node.stop()
    assert (tmp_path / "devnet" / "anvil-state.json").is_file()


@needs_anvil
def test_anvil_dies_with_its_owner_even_on_sigkill(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER_SCRIPT], stdout=subprocess.PIPE, text=True, cwd=_REPO, env=os.environ.copy()
    )
    assert owner.stdout is not None
    anvil_pid = int(owner.stdout.readline())
    assert pid_alive(anvil_pid)
    owner.kill()
    owner.wait()
    owner.stdout.close()
    assert gone_within(anvil_pid)


async def test_eth_tester_answers_batch_requests() -> None:
    node = await start_eth_tester()
    try:
        body = [
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
        ]
        async with aiohttp.ClientSession() as session, session.post(node.rpc_url, json=body) as response:
            replies = await response.json()
        assert [r["id"] for r in replies] == [1, 2]
        assert replies[0]["result"] == "0x7a69"
    finally:
        await node.stop()
