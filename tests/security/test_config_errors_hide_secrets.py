"""Config errors name the line and the variable, never the value: a mistyped ``.env`` line or a malformed URL
must not echo the private key, mnemonic or API key it holds into a message, a repr or a log."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest

from app.config.models_config import chat_completions_url, parse_models_config
from app.config.settings import load_settings
from app.errors import ConfigError
from app.wallet.mnemonic import generate_mnemonic

# anvil's public dev key #7: a throwaway key, never used outside local chains
KEY_HEX = "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"
API_KEY = "sk-canary-7f3a9c2e41d08b65"

log = logging.getLogger(__name__)


def fragments(secret: str, size: int = 6) -> set[str]:
    """Every ``size``-character piece of ``secret``, lower-cased: a leak of any part of it shows up as one."""
    text = secret.lower()
    return {text[i:i + size] for i in range(len(text) - size + 1)}


def every_spelling(error: ConfigError, caplog: pytest.LogCaptureFixture) -> str:
    """The message, str, repr and args of ``error`` and the log text of logging it with its traceback."""
    log.error("settings rejected: %s", error.user_message, exc_info=error)
    return "\n".join([error.user_message, str(error), repr(error), repr(error.args), caplog.text]).lower()


def load_dotenv_settings(tmp_path: Path, text: str) -> ConfigError:
    dotenv = tmp_path / ".env"
    dotenv.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings([], environ={}, dotenv_path=dotenv, settings_path=tmp_path / "absent.json")
    return caught.value


@pytest.mark.parametrize("line", [
    f"WALLET_PRIVATE_KEY 0x{KEY_HEX}",
    f"WALLET_PRIVATE_KEY 0X{KEY_HEX.upper()}",
    f"export WALLET_PRIVATE_KEY\t{KEY_HEX}",
    f"WALLET_PRIVATE_KEY:{KEY_HEX}",
    f"0x{KEY_HEX}",
    f"{KEY_HEX}",
])
def test_dotenv_line_without_equals_names_line_not_private_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, line: str
) -> None:
    error = load_dotenv_settings(tmp_path, f"# node settings\nLOG_LEVEL_APP=info\n{line}\n")

    seen = every_spelling(error, caplog)
    assert "line 3" in error.user_message and "expected KEY=value" in error.user_message
    assert [piece for piece in fragments(KEY_HEX) if piece in seen] == []


def test_dotenv_line_without_equals_names_the_variable_when_recognisable(tmp_path: Path) -> None:
    error = load_dotenv_settings(tmp_path, f"WALLET_PRIVATE_KEY 0x{KEY_HEX}\n")

    assert "WALLET_PRIVATE_KEY is not followed by =" in error.user_message
    assert str(tmp_path / ".env") in error.user_message  # which file to fix


def test_dotenv_mnemonic_pasted_without_its_variable_is_not_echoed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    phrase = generate_mnemonic(24)

    error = load_dotenv_settings(tmp_path, f"{phrase}\n")

    seen = every_spelling(error, caplog)
    words = phrase.split()
    assert "line 1" in error.user_message
    assert [f"{a} {b}" for a, b in itertools.pairwise(words) if f"{a} {b}" in seen] == []


def test_dotenv_password_in_a_key_with_spaces_is_not_echoed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    error = load_dotenv_settings(tmp_path, "COOKIE CONTENT=admin:hunter2-canary-pw\n")

    assert "hunter2-canary-pw" not in every_spelling(error, caplog)


@pytest.mark.parametrize("url", [
    f"eth-mainnet.example.org/v2/{API_KEY}",
    f"ftp://rpc.example.org/{API_KEY}",
    f"https:/rpc.example.org?apikey={API_KEY}",
    f"mailto:ops:{API_KEY}@rpc.example.org",
])
def test_malformed_rpc_url_error_keeps_its_api_key_out(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                       url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings([], environ={"ETH_NODE_ADDRESS": url}, dotenv_path=tmp_path / "absent.env",
                      settings_path=tmp_path / "absent.json")

    seen = every_spelling(caught.value, caplog)
    assert "ETH_NODE_ADDRESS" in caught.value.user_message
    assert [piece for piece in fragments(API_KEY) if piece in seen] == []


def test_malformed_backend_url_error_names_the_host_but_not_the_key(caplog: pytest.LogCaptureFixture) -> None:
    entry = {"modelId": "0x" + "11" * 32, "modelName": "m", "apiType": "openai",
             "apiUrl": f"ftp://ops:{API_KEY}@llm.example.org/v1?key={API_KEY}"}

    with pytest.raises(ConfigError) as caught:
        parse_models_config({"models": [entry]}, "models-config.json")
    with pytest.raises(ConfigError) as caught_url:
        chat_completions_url(f"llm.example.org/v1/{API_KEY}")

    for error in (caught.value, caught_url.value):
        seen = every_spelling(error, caplog)
        assert "llm.example.org" in error.user_message
        assert [piece for piece in fragments(API_KEY) if piece in seen] == []
