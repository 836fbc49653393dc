"""The provider's LLM backend client: any OpenAI-compatible ``/v1/chat/completions`` over aiohttp."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any, Final

import aiohttp

from app.config.models_config import ModelEntry, chat_completions_url
from app.errors import ConfigError, PeerError
from app.router.provider.backend_sse import SSEDecoder
from app.router.provider.backend_stats import RequestStats, StatsMeter

log = logging.getLogger(__name__)

DONE: Final = "[DONE]"
"""The end-of-stream marker, yielded as its own item like every other backend item (spec §4.6)."""

DEFAULT_LLM_TIMEOUT: Final = 240.0
"""Upstream's ``LLM_TIMEOUT`` default (4m), in seconds."""

BackendItem = dict[str, Any] | str
"""One item a provider forwards: a parsed chunk / completion dict, or the ``"[DONE]"`` string."""

_CHECK_PROMPT: Final = "Reply with one short greeting."


class BackendError(PeerError):
    """The LLM backend failed. ``status`` is its HTTP status (None when it never answered);
    ``body`` is its error JSON (or text), for ``{"providerModelError": body}``."""

    def __init__(self, user_message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(user_message)
        self.status = status
        self.body = body


class OpenAIBackend:
    """Streams chat completions from one model served by an OpenAI-compatible server.

    Consume :meth:`stream_chat` with ``async with aclosing(...)`` (or cancel the consuming task):
    either closes the HTTP response at once, so the backend sees the disconnect and stops generating.
    """

    def __init__(
        self,
        model_name: str,
        api_url: str,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_LLM_TIMEOUT,
        request_usage: bool = True,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.model_name = model_name
        self.url = chat_completions_url(api_url)
        self.timeout = timeout
        self._api_key = api_key or None
        # Ask for the final usage chunk to measure tokens exactly; hidden again if the client didn't ask.
        self._request_usage = request_usage
        self._session = session
        self._owns_session = session is None

    @classmethod
    def from_model_config(
        cls, entry: ModelEntry | Mapping[str, Any], *, timeout: float = DEFAULT_LLM_TIMEOUT
    ) -> OpenAIBackend:
        """Build from a loaded :class:`ModelEntry` or a raw ``models-config.json`` entry (Go field names)."""
        if isinstance(entry, ModelEntry):
            key = entry.api_key.reveal() if entry.api_key is not None else None
            return cls(entry.model_name, entry.api_url, key, timeout=timeout)
        name, url = entry.get("modelName"), entry.get("apiUrl")
        if not isinstance(name, str) or not name or not isinstance(url, str) or not url:
            raise ConfigError("models-config.json entry needs a modelName and an apiUrl for an openai backend")
        raw_key = entry.get("apiKey")
        return cls(name, url, raw_key if isinstance(raw_key, str) else None, timeout=timeout)

    def __repr__(self) -> str:
        # Never show the API key.
        return f"OpenAIBackend(model={self.model_name!r}, url={self.url!r})"

    async def __aenter__(self) -> OpenAIBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this backend created it."""
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None

    async def stream_chat(
        self, request: Mapping[str, Any], *, stats: RequestStats | None = None
    ) -> AsyncGenerator[BackendItem, None]:
        """Send ``request`` (an OpenAI ChatCompletionRequest) and yield the backend's items in order.

        Streaming requests yield each SSE chunk as a dict and then ``"[DONE]"``; a non-streaming one
        yields the whole completion. ``stats`` (optional) is filled in as the answer arrives.
        Raises :class:`BackendError` for HTTP errors, unreachable/slow backends and cut streams.
        """
        async with aclosing(self.stream_chat_batches(request, stats=stats)) as batches:
            async for batch in batches:
                for item in batch:
                    yield item

    async def stream_chat_batches(
        self, request: Mapping[str, Any], *, stats: RequestStats | None = None
    ) -> AsyncGenerator[list[BackendItem], None]:
        """:meth:`stream_chat`, but each step yields every item that one read of the response held (≥ 1).

        A reader that keeps up gets one item per step; one that fell behind gets the backlog at once
        (see ``coalesce.py``). Same errors and closing rules as :meth:`stream_chat`.
        """
        body = dict(request)
        if self.model_name:  # empty for the legacy OPENAI_BASE_URL entry: the client's own model is passed on
            body["model"] = self.model_name
        streaming = bool(body.get("stream"))
        hide_usage = streaming and self._request_usage and "stream_options" not in body
        if hide_usage:
            body["stream_options"] = {"include_usage": True}
        meter = StatsMeter(stats if stats is not None else RequestStats())
        response = await self._post(body, streaming)
        complete = False
        try:
            if response.status >= 400:
                raise await self._http_error(response)
            if response.content_type == "text/event-stream":
                async for batch in self._sse_batches(response, meter, hide_usage):
                    yield batch
            else:
                completion = await self._json_body(response)
                meter.completion(completion)
                yield [completion]
            complete = True
        finally:
            meter.finish()
            log.debug("backend %s model %s: complete=%s %s", self.url, self.model_name, complete, meter.stats)
            if complete:
                response.release()
            else:
                # Cancelled, abandoned or failed mid-answer: drop the connection so the backend stops.
                response.close()

    async def check(self, prompt: str = _CHECK_PROMPT, max_tokens: int = 16) -> RequestStats:
        """Send a tiny streamed prompt and return its measurements ("test backend")."""
        stats = RequestStats()
        request = {
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "stream": True,
        }
        async with aclosing(self.stream_chat(request, stats=stats)) as items:
            async for _ in items:
                pass
        if stats.ttft_ms is None:
            raise BackendError(f"LLM backend at {self.url} answered but produced no text; check the model name")
        return stats

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def _post(self, body: dict[str, Any], streaming: bool) -> aiohttp.ClientResponse:
        headers = {"Accept": "text/event-stream" if streaming else "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        session = await self._client()
        try:
            return await session.post(
                self.url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        except TimeoutError as e:
            raise self._timeout_error() from e
        except aiohttp.ClientConnectorError as e:
            raise BackendError(
                f"cannot reach the LLM backend at {self.url} ({e.os_error.strerror or e}); "
                "check that it is running and that apiUrl is right"
            ) from e
        except aiohttp.ClientError as e:
            raise BackendError(f"LLM backend at {self.url} failed before answering: {e}") from e

    async def _sse_batches(
        self, response: aiohttp.ClientResponse, meter: StatsMeter, hide_usage: bool
    ) -> AsyncIterator[list[BackendItem]]:
        decoder = SSEDecoder()
        chunks = 0
        try:
            # iter_any() hands over everything buffered so far: one network read, however many events it holds.
            async for raw in response.content.iter_any():
                batch: list[BackendItem] = []
                for data in decoder.feed(raw):
                    if data.strip() == DONE:
                        batch.append(DONE)
                        yield batch
                        return
                    try:
                        chunk = self._parse_chunk(data)
                    except BackendError:
                        if batch:
                            yield batch  # what came before the bad event is relayed, then the error
                        raise
                    meter.chunk(chunk)
                    chunks += 1
                    if hide_usage and "usage" in chunk and not chunk.get("choices"):
                        continue  # measured above; the client did not ask for it
                    batch.append(chunk)
                if batch:
                    yield batch
        except TimeoutError as e:
            raise self._timeout_error() from e
        except aiohttp.ClientError as e:
            raise self._cut_error(chunks) from e
        if not meter.finished or decoder.pending:
            raise self._cut_error(chunks)
        # Some servers end after the finish chunk without "[DONE]"; the answer is complete anyway.

    def _parse_chunk(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError as e:
            raise BackendError(f"LLM backend at {self.url} sent malformed JSON in its stream") from e
        if not isinstance(chunk, dict):
            raise BackendError(f"LLM backend at {self.url} sent a stream item that is not a JSON object")
        if "error" in chunk and "choices" not in chunk:
            # llama.cpp and vLLM report failures after the 200 header as a data event.
            raise BackendError(
                f"LLM backend at {self.url} failed mid-answer: {_error_text(chunk)}", status=None, body=chunk
            )
        return chunk

    async def _json_body(self, response: aiohttp.ClientResponse) -> dict[str, Any]:
        try:
            completion = await response.json(content_type=None)
        except TimeoutError as e:
            raise self._timeout_error() from e
        except aiohttp.ClientError as e:
            raise self._cut_error(0) from e
        except ValueError as e:
            raise BackendError(f"LLM backend at {self.url} answered with something that is not JSON") from e
        if not isinstance(completion, dict):
            raise BackendError(f"LLM backend at {self.url} answered with JSON that is not an object")
        return completion

    async def _http_error(self, response: aiohttp.ClientResponse) -> BackendError:
        try:
            text = await response.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError):
            text = ""
        body: Any
        try:
            body = json.loads(text)
        except ValueError:
            body = text[:2000]
        detail = _error_text(body) if body else response.reason or "no details"
        return BackendError(
            f"LLM backend at {self.url} answered HTTP {response.status}: {detail}",
            status=response.status,
            body=body,
        )

    def _timeout_error(self) -> BackendError:
        return BackendError(
            f"LLM backend at {self.url} did not finish within {self.timeout:g} s (LLM_TIMEOUT); "
            "the model may be overloaded or too slow for this machine"
        )

    def _cut_error(self, chunks: int) -> BackendError:
        return BackendError(
            f"LLM backend at {self.url} closed the connection mid-answer after {chunks} chunks; check the backend's log"
        )


async def check(entry: ModelEntry | Mapping[str, Any], *, llm_timeout: float = 30.0) -> RequestStats:
    """Test the backend of one ``models-config.json`` entry: TTFT/TPS of a tiny prompt, or BackendError."""
    async with OpenAIBackend.from_model_config(entry, timeout=llm_timeout) as backend:
        return await backend.check()


def _error_text(body: Any) -> str:
    """The human part of an OpenAI-style error JSON (``error.message``, ``detail``, ``message``)."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        for key in ("error", "detail", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    text = body if isinstance(body, str) else json.dumps(body)
    return text[:300]


__all__ = ["DONE", "BackendError", "BackendItem", "OpenAIBackend", "RequestStats", "chat_completions_url", "check"]
