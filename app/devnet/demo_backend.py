"""A stand-in OpenAI backend for the demo providers when no local model runs: every chat gets a clear error."""

from __future__ import annotations

from aiohttp import web

from app.errors import DevnetError

__all__ = ["UnavailableModelBackend"]


class UnavailableModelBackend:
    """Answers ``POST /v1/chat/completions`` with HTTP 503 and an OpenAI error carrying ``message``.

    The demo providers still register, bid and accept sessions; a prompt then fails with ``message`` (e.g. the
    command that installs the local model), which the provider relays to the consumer as the model's error.
    """

    def __init__(self, message: str, model_name: str) -> None:
        self.message = message
        self.model_name = model_name
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``; only valid after :meth:`start`."""
        if self._port is None:
            raise DevnetError("the stand-in model backend is not running; start it first")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def chat_completions_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    async def _chat(self, request: web.Request) -> web.Response:
        error = {"message": self.message, "type": "model_unavailable", "param": None, "code": 503}
        return web.json_response({"error": error}, status=503)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": []})

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            raise DevnetError(f"could not start the stand-in model backend: {e.strerror or e}") from e
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening. Safe to call twice."""
        runner, self._runner = self._runner, None
        self._port = None
        if runner is not None:
            await runner.cleanup()
