"""Our example files in resources/examples/ load, and .env.example documents every setting with its default."""

from __future__ import annotations

import re
from pathlib import Path

from app.config.dotenv import parse_dotenv
from app.config.models_config import load_models_config
from app.config.node_config import load_node_config
from app.config.rating_config import DEFAULT_WEIGHTS, load_rating_config
from app.config.settings import SPECS, load_settings
from app.paths import resources_dir

EXAMPLES = resources_dir() / "examples"


def test_env_example_documents_every_setting() -> None:
    text = (EXAMPLES / ".env.example").read_text()
    documented = set(re.findall(r"^# ([A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert documented == {s.env for s in SPECS}


def test_env_example_uncommented_loads_to_the_defaults(tmp_path: Path) -> None:
    lines = (EXAMPLES / ".env.example").read_text().splitlines()
    assignments = [line[2:] for line in lines if re.match(r"^# [A-Z0-9_]+=", line)]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(assignments) + "\n")
    assert len(parse_dotenv(env_file.read_text())) == len(SPECS)
    from_example = load_settings([], {}, env_file, None)
    defaults = load_settings([], {}, tmp_path / "none.env", None)
    for spec in SPECS:
        assert getattr(from_example, spec.attr) == getattr(defaults, spec.attr), spec.env


def test_models_config_example_loads_with_both_api_url_styles() -> None:
    config = load_models_config(EXAMPLES / "models-config.json.example")
    urls = [e.chat_completions_url for e in config.supported]
    assert urls[:2] == ["http://127.0.0.1:8080/v1/chat/completions", "http://127.0.0.1:11434/v1/chat/completions"]
    assert [e.api_type for e in config.unsupported] == ["hyperbolic-sd"]
    assert {e.capacity_policy for e in config.entries} == {"simple", "idle_timeout"}


def test_rating_config_example_loads_with_default_weights() -> None:
    config = load_rating_config(EXAMPLES / "rating-config.json.example")
    assert config.weights == DEFAULT_WEIGHTS


def test_node_config_reads_the_files_the_settings_point_to(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "MODELS_CONFIG_CONTENT='{\"models\": [{\"modelId\": \"" + "0x" + "1" * 64 + "\", \"modelName\": \"m\","
        " \"apiType\": \"openai\", \"apiUrl\": \"http://127.0.0.1:9/v1\"}]}'\n"
        "PROVIDER_ALLOW_LIST=" + "0x" + "ab" * 20 + "\n"
    )
    node = load_node_config(load_settings([], {}, tmp_path / ".env", None))
    assert (tmp_path / "models-config.json").exists()
    assert [e.model_name for e in node.models.supported] == ["m"]
    assert node.rating.provider_allowlist == {"0x" + "ab" * 20}
    assert node.rating.weights == DEFAULT_WEIGHTS
