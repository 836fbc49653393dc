"""models-config.json: both Go shapes, both apiUrl spellings, unsupported types skipped, errors that point."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from app.config.models_config import chat_completions_url, load_models_config, parse_models_config
from app.errors import ConfigError

UPSTREAM = Path("/work/shared/reference/upstream/models-config.json.example")
ID = "0x" + "0" * 63


def _entry(n: int, **overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"modelId": f"0x{n:064x}", "modelName": f"m{n}", "apiType": "openai",
                               "apiUrl": "http://127.0.0.1:8080/v1"}
    base.update(overrides)
    return base


@pytest.mark.skipif(not UPSTREAM.exists(), reason="upstream reference files not present")
def test_upstream_example_loads_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        config = load_models_config(UPSTREAM)
    assert len(config.entries) == 6
    assert [e.model_name for e in config.supported] == ["llama2", "gpt-4o-mini"]
    assert {e.api_type for e in config.unsupported} == {"prodia-v2", "hyperbolic-sd", "claudeai"}
    llama = config.backend_for(ID + "0")
    assert llama is not None
    assert llama.chat_completions_url == "http://localhost:8080/v1/chat/completions"
    assert config.backend_for(ID + "1") is None  # prodia: loaded but not served
    assert caplog.text.count("does not serve") == 4
    assert "FILL_ME_IN" not in caplog.text
    assert "FILL_ME_IN" not in repr(config)


@pytest.mark.parametrize(("api_url", "endpoint"), [
    ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions"),
    ("http://127.0.0.1:11434/v1/chat/completions", "http://127.0.0.1:11434/v1/chat/completions"),
    ("https://api.example.com/openai/v1/chat/completions/", "https://api.example.com/openai/v1/chat/completions"),
])
def test_api_url_is_accepted_as_base_or_full_endpoint(api_url: str, endpoint: str) -> None:
    assert chat_completions_url(api_url) == endpoint
    entry = parse_models_config({"models": [_entry(1, apiUrl=api_url)]}, "f").entries[0]
    assert entry.chat_completions_url == endpoint
    assert entry.base_url + "/chat/completions" == endpoint


def test_legacy_map_keyed_by_model_id_loads() -> None:
    data = {"$schema": "x", "_comment": "c",
            "A" * 64: {"modelName": "legacy", "apiType": "openai", "apiUrl": "http://h:1/v1", "concurrentSlots": 3}}
    [entry] = parse_models_config(data, "f").entries
    assert (entry.model_id, entry.model_name, entry.concurrent_slots) == ("0x" + "a" * 64, "legacy", 3)


def test_entry_fields_are_read_with_their_defaults() -> None:
    [full, bare] = parse_models_config({"models": [
        _entry(1, apiKey="sk-test", parameters={"steps": "30"}, concurrentSlots=2, capacityPolicy="idle_timeout"),
        _entry(2),
    ]}, "f").entries
    assert full.api_key is not None
    assert full.api_key.reveal() == "sk-test"
    assert (full.parameters, full.concurrent_slots, full.capacity_policy) == ({"steps": "30"}, 2, "idle_timeout")
    assert (bare.api_key, bare.parameters, bare.concurrent_slots, bare.capacity_policy) == (None, {}, 0, "simple")


@pytest.mark.parametrize(("entry", "message"), [
    (_entry(0, modelId="0x1234"), "f: models[2].modelId must be 0x followed by 64 hex characters"),
    (_entry(0, modelName=""), r"f: models\[2\].modelName must be the model name"),
    (_entry(0, apiType="ollama"), r"f: models\[2\].apiType 'ollama' is unknown: expected one of"),
    (_entry(0, apiUrl="localhost:8080"), r"f: models\[2\].apiUrl 'localhost:8080' must be an http"),
    (_entry(0, concurrentSlots=-1), r"f: models\[2\].concurrentSlots must be a whole number ≥ 0"),
    (_entry(0, capacityPolicy="fifo"), r"f: models\[2\].capacityPolicy 'fifo' must be one of simple, idle_timeout"),
    (_entry(0, parameters={"steps": 30}), r"f: models\[2\].parameters must be an object of text values"),
])
def test_errors_name_the_file_entry_index_and_field(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("models[2]", r"models\[2\]")):
        parse_models_config({"models": [_entry(1), _entry(2), entry]}, "f")


def test_duplicate_model_ids_are_rejected() -> None:
    with pytest.raises(ConfigError, match="configured twice"):
        parse_models_config({"models": [_entry(1), _entry(1)]}, "f")


def test_invalid_json_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "models-config.json"
    path.write_text('{\n  "models": [\n    {,}\n  ]\n}')
    with pytest.raises(ConfigError, match=r"models-config.json: invalid JSON at line 3"):
        load_models_config(path)


def test_missing_file_means_no_models(tmp_path: Path) -> None:
    assert load_models_config(tmp_path / "models-config.json").entries == ()


def test_content_is_written_only_when_the_file_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "models-config.json"
    content = json.dumps({"models": [_entry(1, apiKey="sk-secret")]})
    assert [e.model_name for e in load_models_config(path, content).entries] == ["m1"]
    assert path.read_text() == content
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    other = json.dumps({"models": [_entry(2)]})
    assert [e.model_name for e in load_models_config(path, other).entries] == ["m1"]


def test_invalid_content_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "models-config.json"
    with pytest.raises(ConfigError, match="MODELS_CONFIG_CONTENT is not valid JSON"):
        load_models_config(path, "{models: []}")
    with pytest.raises(ConfigError, match=r"MODELS_CONFIG_CONTENT: models\[0\].modelId"):
        load_models_config(path, json.dumps({"models": [_entry(1, modelId="x")]}))
    assert not path.exists()


def test_legacy_openai_base_url_serves_models_without_an_entry(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        config = parse_models_config({"models": [_entry(1)]}, "f", legacy_openai_base_url="http://old:8000/v1")
    assert "models-config.json is preferred" in caplog.text
    configured = config.backend_for(f"0x{1:064x}")
    assert configured is not None
    assert configured.model_name == "m1"
    fallback = config.backend_for("B" * 64)
    assert fallback is not None
    assert (fallback.model_id, fallback.chat_completions_url) == ("0x" + "b" * 64, "http://old:8000/v1/chat/completions")
    assert parse_models_config({"models": []}, "f").backend_for("b" * 64) is None
