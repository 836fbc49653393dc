"""The local model server's command: ``python -m llama_cpp.server`` from source, the app re-run when frozen."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.devnet.local_model import bundled_gguf
from app.devnet.model_process import NOT_BUNDLED_MESSAGE, SERVE_FLAG, serve, server_command

ROOT = Path(__file__).resolve().parents[2]
HAS_SERVER = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None


def test_source_checkout_runs_the_server_as_a_python_module() -> None:
    assert server_command() == [sys.executable, "-m", "llama_cpp.server"]


def test_frozen_app_reruns_its_own_executable_with_the_hidden_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/mor-launch/mor-launch")
    assert server_command() == ["/opt/mor-launch/mor-launch", SERVE_FLAG]


def test_serve_without_llama_cpp_says_the_build_has_no_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp.server.__main__", None)  # makes the import fail
    assert serve(["--model", "x.gguf"]) == 1
    assert NOT_BUNDLED_MESSAGE in capsys.readouterr().err


@pytest.mark.llm
@pytest.mark.skipif(not HAS_SERVER, reason="needs the llm extra (llama-cpp-python[server])")
def test_serve_returns_the_usage_exit_code_for_an_unknown_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # serve() replaces argv for the server's parser
    assert serve(["--no-such-flag"]) == 2
    assert "--no-such-flag" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get_json(url: str) -> object | None:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
        return json.load(response)
    return None


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.skipif(not HAS_SERVER or bundled_gguf() is None, reason="needs the llm extra and the SmolLM2 GGUF")
def test_serve_runs_the_openai_server_in_process_as_the_frozen_app_does(tmp_path: Path) -> None:
    port = _free_port()
    script = "import sys; from app.devnet.model_process import serve; sys.exit(serve(sys.argv[1:]))"
    flags = ["--model", str(bundled_gguf()), "--model_alias", "smol", "--host", "127.0.0.1", "--port", str(port)]
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", script, *flags], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        models = None
        while models is None and proc.poll() is None and time.monotonic() < deadline:
            models = _get_json(f"http://127.0.0.1:{port}/v1/models")
            time.sleep(0.1)
        assert models is not None, (tmp_path / "server.log").read_text(errors="replace")[-2000:]
        assert models["data"][0]["id"] == "smol"  # type: ignore[index]
    finally:
        proc.terminate()
        proc.wait(10)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status says why it stopped.
    assert proc.returncode == -signal.SIGTERM
    assert "Finished server process" in (tmp_path / "server.log").read_text(errors="replace")
