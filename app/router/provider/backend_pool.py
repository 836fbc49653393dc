"""The provider's backends: one OpenAIBackend per served model, sharing one HTTP connection pool."""

from __future__ import annotations

import aiohttp

from app.config.models_config import ModelEntry, ModelsConfig
from app.router.provider.backends import DEFAULT_LLM_TIMEOUT, OpenAIBackend

__all__ = ["BackendPool"]


class BackendPool:
    """Finds the models-config entry of an on-chain model and the backend client that serves it."""

    def __init__(self, models: ModelsConfig, *, llm_timeout: float = DEFAULT_LLM_TIMEOUT) -> None:
        self.models = models
        self.llm_timeout = llm_timeout
        self._backends: dict[str, OpenAIBackend] = {}
        self._http: aiohttp.ClientSession | None = None

    def entry_for(self, model_id: bytes) -> ModelEntry | None:
        """The served entry for the on-chain ``model_id`` (or the legacy OPENAI_BASE_URL one), else None."""
        return self.models.backend_for("0x" + model_id.hex())

    def backend_for(self, entry: ModelEntry) -> OpenAIBackend:
        """The (cached) client of ``entry``; call from the event loop."""
        backend = self._backends.get(entry.model_id)
        if backend is None:
            if self._http is None or self._http.closed:
                # No total timeout on the pool: each request sets LLM_TIMEOUT itself. No connection cap either:
                # aiohttp's default of 100 would queue the 101st concurrent stream behind the others, and the
                # capacity policy (concurrentSlots) is what limits load, not the HTTP pool.
                self._http = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=None), connector=aiohttp.TCPConnector(limit=0)
                )
            key = entry.api_key.reveal() if entry.api_key is not None else None
            backend = OpenAIBackend(entry.model_name, entry.api_url, key, timeout=self.llm_timeout, session=self._http)
            self._backends[entry.model_id] = backend
        return backend

    async def close(self) -> None:
        """Close the shared HTTP pool (in-flight requests fail)."""
        self._backends.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None
