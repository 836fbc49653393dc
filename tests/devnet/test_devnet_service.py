"""DevnetService: first start deploys a usable protocol, later starts reuse it, lost state and reset redeploy."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from devnet_rpc import needs_anvil
from eth_abi import decode, encode
from eth_utils import keccak

from app.devnet.deployment import deployment_path, load_rpc_info, rpc_info_path
from app.devnet.node import anvil_state_path
from app.devnet.progress import StartupStep
from app.devnet.service import DevnetService
from app.devnet.setup import FUNDING_ACCOUNT_MOR


async def _call_uint(service: DevnetService, to: str, signature: str, types: list[str], values: list[object]) -> int:
    raw = await service.client.call(to, keccak(text=signature)[:4] + encode(types, values))
    return int(decode(["uint256"], raw)[0])


@pytest.mark.slow  # py-evm executes the ~12 deploy transactions slowly (5-10 s)
async def test_first_start_deploys_a_protocol_ready_for_sessions(tmp_path: Path) -> None:
    steps: list[StartupStep] = []
    service = DevnetService(tmp_path, engine="eth-tester", progress=steps.append)
    await service.start()
    try:
        d = service.addresses
        assert service.freshly_deployed
        assert (service.engine, service.persistent, service.chain_id) == ("eth-tester", False, 31337)
        for address in (d.diamond, d.mor, d.multicall3):
            assert await service.client.get_code(address)
        # R_3(now) > 0: the compute pool has a budget today, so openSession can work right away.
        now = int(time.time())
        assert await _call_uint(service, d.diamond, "getTodaysBudget(uint128)", ["uint128"], [now]) > 0
        funding = d.funding_account
        assert await _call_uint(service, d.mor, "balanceOf(address)", ["address"], [funding]) == FUNDING_ACCOUNT_MOR
        allowance = await _call_uint(
            service, d.mor, "allowance(address,address)", ["address", "address"], [funding, d.diamond]
        )
        assert allowance == 2**256 - 1
        assert deployment_path(tmp_path).is_file()
        assert load_rpc_info(tmp_path) == {
            "rpc_url": service.rpc_url,
            "chain_id": 31337,
            "engine": "eth-tester",
            "pid": os.getpid(),
        }
        assert [(s.name, s.state) for s in steps if s.state != "running"] == [
            ("chain", "ok"),
            ("connect", "ok"),
            ("contracts", "ok"),
        ]
    finally:
        await service.stop()
    assert not rpc_info_path(tmp_path).exists()


@pytest.mark.slow  # py-evm executes the ~12 deploy transactions slowly (5-10 s)
async def test_the_faucet_of_a_started_devnet_funds_a_new_wallet(tmp_path: Path) -> None:
    service = DevnetService(tmp_path, engine="eth-tester")
    await service.start()
    try:
        wallet = "0x000000000000000000000000000000000000bEEF"
        await service.faucet.fund(wallet)
        assert await service.client.get_balance(wallet) == 10 * 10**18
        assert await service.faucet.mor_balance(wallet) == 1000 * 10**18
    finally:
        await service.stop()


@pytest.mark.slow  # py-evm executes the ~12 deploy transactions slowly (5-10 s)
async def test_extra_setup_steps_run_after_the_contracts_and_report_progress(tmp_path: Path) -> None:
    steps: list[StartupStep] = []
    service = DevnetService(tmp_path, engine="eth-tester", progress=steps.append)
    seen_diamond: list[str] = []

    async def seed(svc: DevnetService) -> str:
        seen_diamond.append(svc.addresses.diamond)
        return "3 demo providers"

    service.add_setup_step("seed", seed)
    await service.start()
    await service.stop()
    assert seen_diamond
    assert (steps[-1].name, steps[-1].state, steps[-1].message) == ("seed", "ok", "3 demo providers")


@needs_anvil
async def test_anvil_devnet_reuses_its_deployment_on_the_next_start(tmp_path: Path) -> None:
    service = DevnetService(tmp_path, engine="anvil")
    await service.start()
    first = service.addresses
    await service.stop()
    assert anvil_state_path(tmp_path).is_file()
    service = DevnetService(tmp_path, engine="anvil")
    await service.start()
    try:
        assert not service.freshly_deployed
        assert service.addresses == first
        assert service.persistent
    finally:
        await service.stop()


@needs_anvil
async def test_lost_chain_state_redeploys_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    service = DevnetService(tmp_path, engine="anvil")
    await service.start()
    await service.stop()
    anvil_state_path(tmp_path).unlink()
    service = DevnetService(tmp_path, engine="anvil")
    with caplog.at_level(logging.WARNING, logger="app.devnet.setup"):
        await service.start()
    try:
        assert service.freshly_deployed
        assert await service.client.get_code(service.addresses.diamond)
        assert "state was lost" in caplog.text
    finally:
        await service.stop()


@needs_anvil
async def test_reset_starts_a_fresh_chain_and_deploys_again(tmp_path: Path) -> None:
    service = DevnetService(tmp_path, engine="anvil")
    await service.start()
    try:
        await service.faucet.fund("0x000000000000000000000000000000000000bEEF", eth_wei=1, mor_wei=0)
        await service.reset()
        assert service.freshly_deployed
        assert await service.client.get_balance("0x000000000000000000000000000000000000bEEF") == 0
    finally:
        await service.stop()
