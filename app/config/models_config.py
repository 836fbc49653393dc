"""``models-config.json``: which backend serves each on-chain model (Go schema, V2 list and legacy map)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.config.values import Secret, redacted_url
from app.errors import ConfigError
from app.paths import write_private_file

log = logging.getLogger(__name__)

SERVED_API_TYPES = frozenset({"openai"})
# Loaded and listed, but this node has no adapter for them (image generation, Anthropic's own API).
UNSUPPORTED_API_TYPES = frozenset({"claudeai", "prodia-v2", "prodia-sd", "prodia-sdxl", "hyperbolic-sd"})
CAPACITY_POLICIES = ("simple", "idle_timeout")
_MODEL_ID = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_CHAT_PATH = "/chat/completions"


def chat_completions_url(api_url: str) -> str:
    """The endpoint to POST to: ``apiUrl`` as given when it is a full endpoint, a ``…/v1`` root completed.

    Both spellings occur in the wild: ``http://host:8080/v1`` (upstream example) and the full
    ``http://host:8080/v1/chat/completions`` (upstream schema and adapter). Any other path is kept as the operator
    wrote it (a gateway's own endpoint, a query string), only without a trailing slash.
    """
    url = api_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"LLM backend URL {redacted_url(api_url)!r} is not an http(s) URL; "
            "set apiUrl like http://127.0.0.1:8080/v1/chat/completions"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path += _CHAT_PATH
    return urlunsplit(parts._replace(path=path))


@dataclass(frozen=True)
class ModelEntry:
    """One configured model backend."""

    model_id: str
    model_name: str
    api_type: str
    api_url: str
    api_key: Secret | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    concurrent_slots: int = 0  # 0 = unlimited
    capacity_policy: str = "simple"

    @property
    def supported(self) -> bool:
        """Whether this node can serve the entry's apiType."""
        return self.api_type in SERVED_API_TYPES

    @property
    def chat_completions_url(self) -> str:
        """Where chat requests go (see ``chat_completions_url``)."""
        return chat_completions_url(self.api_url)

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (``…/v1``), for other endpoints such as /embeddings."""
        return self.chat_completions_url[: -len(_CHAT_PATH)]


@dataclass(frozen=True)
class ModelsConfig:
    """Every entry of the file, in order, plus the legacy OPENAI_BASE_URL fallback."""

    entries: tuple[ModelEntry, ...] = ()
    source: str = "models-config.json"
    legacy_openai_base_url: str | None = None

    @property
    def supported(self) -> tuple[ModelEntry, ...]:
        """Entries this node serves."""
        return tuple(e for e in self.entries if e.supported)

    @property
    def unsupported(self) -> tuple[ModelEntry, ...]:
        """Entries loaded but skipped (apiType without an adapter here)."""
        return tuple(e for e in self.entries if not e.supported)

    def backend_for(self, model_id: str) -> ModelEntry | None:
        """The served entry for ``model_id``; else, with OPENAI_BASE_URL set, a legacy entry for it; else None.

        The legacy entry has an empty model name: the request's own ``model`` field is passed through.
        """
        wanted = _normalise_id(model_id)
        for entry in self.supported:
            if entry.model_id == wanted:
                return entry
        if self.legacy_openai_base_url:
            return ModelEntry(wanted, "", "openai", self.legacy_openai_base_url)
        return None


def _normalise_id(model_id: str) -> str:
    value = model_id.strip().lower()
    return value if value.startswith("0x") else "0x" + value


def _req_str(raw: Mapping[str, Any], key: str, where: str, expected: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key} must be {expected}.")
    return value.strip()


def parse_entry(raw: Any, where: str) -> ModelEntry:
    """Validate one entry; ``where`` (e.g. ``models-config.json: models[2]``) prefixes every error."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be an object with modelId, modelName, apiType and apiUrl.")
    model_id = _req_str(raw, "modelId", where, "0x followed by 64 hex characters")
    if not _MODEL_ID.match(model_id):
        raise ConfigError(f"{where}.modelId must be 0x followed by 64 hex characters (got {model_id!r}).")
    name = _req_str(raw, "modelName", where, "the model name sent to the backend (non-empty text)")
    api_type = _req_str(raw, "apiType", where, "one of openai, claudeai, prodia-v2, hyperbolic-sd")
    if api_type not in SERVED_API_TYPES | UNSUPPORTED_API_TYPES:
        known = ", ".join(sorted(SERVED_API_TYPES | UNSUPPORTED_API_TYPES))
        raise ConfigError(f"{where}.apiType {api_type!r} is unknown: expected one of {known}.")
    api_url = _req_str(raw, "apiUrl", where, "the backend URL, e.g. http://127.0.0.1:8080/v1")
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}.apiUrl {redacted_url(api_url)!r} must be an http:// or https:// URL.")
    key = raw.get("apiKey")
    if key is not None and not isinstance(key, str):
        raise ConfigError(f"{where}.apiKey must be text.")
    params = raw.get("parameters", {})
    if not isinstance(params, Mapping) or not all(isinstance(x, str) for x in params.values()):
        raise ConfigError(f'{where}.parameters must be an object of text values, e.g. {{"steps": "30"}}.')
    slots = raw.get("concurrentSlots", 0)
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 0:
        raise ConfigError(f"{where}.concurrentSlots must be a whole number ≥ 0 (0 = unlimited), got {slots!r}.")
    policy = raw.get("capacityPolicy", "simple")
    if policy not in CAPACITY_POLICIES:
        raise ConfigError(f"{where}.capacityPolicy {policy!r} must be one of {', '.join(CAPACITY_POLICIES)}.")
    return ModelEntry(
        model_id=_normalise_id(model_id), model_name=name, api_type=api_type, api_url=api_url,
        api_key=Secret(key) if key else None, parameters=dict(params), concurrent_slots=slots,
        capacity_policy=policy,
    )


def parse_models_config(data: Any, source: str, legacy_openai_base_url: str | None = None) -> ModelsConfig:
    """Validate a decoded document: ``{"models": [...]}`` (V2) or a legacy map keyed by modelId."""
    if not isinstance(data, Mapping):
        raise ConfigError(f'{source}: the top level must be an object: {{"models": [ ... ]}}.')
    entries: list[ModelEntry] = []
    if "models" in data:
        models = data["models"]
        if not isinstance(models, list):
            raise ConfigError(f"{source}: models must be a list of model entries.")
        entries = [parse_entry(raw, f"{source}: models[{i}]") for i, raw in enumerate(models)]
    else:
        for model_id, raw in data.items():
            if model_id == "$schema" or model_id.startswith("_"):  # schema link, comments
                continue
            where = f"{source}: {model_id}"
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{where} must be an object with modelName, apiType and apiUrl.")
            entries.append(parse_entry({"modelId": model_id, **raw}, where))
    seen: set[str] = set()
    for entry in entries:
        if entry.model_id in seen:
            raise ConfigError(f"{source}: model {entry.model_id} is configured twice; keep one entry.")
        seen.add(entry.model_id)
        if not entry.supported:
            log.warning("%s: model %s (%s) has apiType %r, which this node does not serve: skipped",
                        source, entry.model_id, entry.model_name, entry.api_type)
    if legacy_openai_base_url:
        log.info("OPENAI_BASE_URL is set: it serves models without a models-config.json entry. "
                 "models-config.json is preferred (see resources/examples/models-config.json.example).")
    return ModelsConfig(tuple(entries), source, legacy_openai_base_url)


def write_content_if_missing(path: Path, content: str | None) -> bool:
    """MODELS_CONFIG_CONTENT → ``path`` only when the file does not exist (as upstream); True if written.

    The content is validated first so a typo fails with a clear message instead of leaving a broken file;
    the file is private (0600) because entries may carry API keys.
    """
    if not content or path.exists():
        return False
    try:
        data = json.loads(content)
    except json.JSONDecodeError as e:
        raise ConfigError(f"MODELS_CONFIG_CONTENT is not valid JSON (line {e.lineno}: {e.msg}).") from e
    parse_models_config(data, "MODELS_CONFIG_CONTENT")
    write_private_file(path, content.encode("utf-8"))  # a StorageError names the path, the cause and the fix
    return True


def load_models_config(
    path: Path, content: str | None = None, legacy_openai_base_url: str | None = None
) -> ModelsConfig:
    """Load ``path`` (after writing ``content`` there if the file is missing); a missing file is empty."""
    write_content_if_missing(path, content)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        log.info("%s not found: no local models configured", path)
        return ModelsConfig((), str(path), legacy_openai_base_url)
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror}).") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}.") from e
    return parse_models_config(data, str(path), legacy_openai_base_url)
