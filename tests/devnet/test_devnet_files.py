"""deployment.json / rpc.json round-trip, damaged files give a DevnetError, progress steps are timed and reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.devnet.deployment import (
    Deployment,
    deployment_path,
    load_deployment,
    load_rpc_info,
    save_deployment,
    save_rpc_info,
)
from app.devnet.progress import StartupStep, StepReporter
from app.errors import DevnetError

_DEPLOYMENT = Deployment(
    chain_id=31337,
    diamond="0x" + "11" * 20,
    mor="0x" + "22" * 20,
    multicall3="0x" + "33" * 20,
    deploy_block=1,
    owner="0x" + "44" * 20,
    funding_account="0x" + "55" * 20,
    faucet_account="0x" + "66" * 20,
    extra={"delegateRegistry": "0x" + "77" * 20},
)


def test_deployment_round_trips_through_its_file(tmp_path: Path) -> None:
    save_deployment(tmp_path, _DEPLOYMENT)
    assert load_deployment(tmp_path) == _DEPLOYMENT


def test_missing_deployment_means_first_start(tmp_path: Path) -> None:
    assert load_deployment(tmp_path) is None
    assert load_rpc_info(tmp_path) is None


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"chain_id": 31337}'])
def test_damaged_deployment_file_asks_for_a_reset(tmp_path: Path, content: str) -> None:
    path = deployment_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(DevnetError, match="Reset the devnet"):
        load_deployment(tmp_path)


def test_rpc_info_tells_other_processes_where_the_devnet_runs(tmp_path: Path) -> None:
    save_rpc_info(tmp_path, "http://127.0.0.1:1234", 31337, "anvil", 42)
    assert load_rpc_info(tmp_path) == {
        "rpc_url": "http://127.0.0.1:1234",
        "chain_id": 31337,
        "engine": "anvil",
        "pid": 42,
    }


async def test_step_reporter_reports_running_then_ok_with_the_final_message() -> None:
    seen: list[StartupStep] = []
    reporter = StepReporter(seen.append)
    async with reporter.step("chain", "starting") as done:
        done("anvil on http://127.0.0.1:1")
    assert [(s.name, s.state, s.message) for s in seen] == [
        ("chain", "running", "starting"),
        ("chain", "ok", "anvil on http://127.0.0.1:1"),
    ]
    assert seen[1].seconds >= 0


async def test_step_reporter_reports_a_failure_with_the_user_message() -> None:
    seen: list[StartupStep] = []
    reporter = StepReporter(seen.append)
    with pytest.raises(DevnetError):
        async with reporter.step("contracts"):
            raise DevnetError("deploy failed: fix it")
    assert (seen[-1].state, seen[-1].message) == ("failed", "deploy failed: fix it")


async def test_a_broken_progress_callback_does_not_break_startup() -> None:
    def broken(step: StartupStep) -> None:
        raise RuntimeError("view gone")

    reporter = StepReporter(broken)
    async with reporter.step("chain"):
        pass
    assert [s.state for s in reporter.history] == ["running", "ok"]
