"""Provider pane parts without a chain: earnings arithmetic, input parsing, the models-config editor and its test."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.chain.records import Provider, Session
from app.config.models_config import load_models_config
from app.errors import ConfigError
from app.gui.inputs import InputError
from app.gui.provider.actions import parse_endpoint, parse_model_id, parse_tags
from app.gui.provider.earnings import DAY, claimable, earnings
from app.gui.provider.models_form import ModelsConfigEditor
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

PRICE = 10**14
MODEL_ID = "0x" + "ab" * 32


def _session(opened: int, ends: int, closed: int = 0, withdrawn: int = 0, sid: bytes = b"\1" * 32) -> Session:
    return Session(sid, "0xuser", b"\2" * 32, 10**18, b"", 0, withdrawn, opened, ends, closed, closed == 0, False)


def _provider(stake: int, earned: int = 0, period_end: int = 400 * DAY) -> Provider:
    return Provider("0xprov", "h:1", stake, 0, period_end, earned, False)


def test_an_unfinished_session_pays_nothing_yet() -> None:
    assert claimable(_session(10 * DAY, 10 * DAY + 600), PRICE, 10 * DAY + 300) == 0


def test_an_ended_session_pays_its_duration_minus_what_was_withdrawn() -> None:
    session = _session(10 * DAY, 10 * DAY + 600, withdrawn=100 * PRICE)
    assert claimable(session, PRICE, 10 * DAY + 700) == 500 * PRICE


def test_an_early_close_today_holds_todays_usage_until_midnight() -> None:
    session = _session(10 * DAY + 100, 10 * DAY + 5000, closed=10 * DAY + 700)
    assert claimable(session, PRICE, 10 * DAY + 800) == 0
    assert claimable(session, PRICE, 11 * DAY) == 600 * PRICE


def test_claimable_total_is_capped_by_the_reward_limit_and_sessions_are_counted() -> None:
    sessions = [(_session(DAY, DAY + 600, sid=b"\1" * 32), PRICE), (_session(DAY, 50 * DAY, sid=b"\2" * 32), PRICE)]
    result = earnings(_provider(stake=700 * PRICE, earned=300 * PRICE), sessions, now=2 * DAY)
    assert result.claimable == 400 * PRICE  # 600 s due, but only 400 left under the stake limit
    assert result.runway == 400 * PRICE
    assert result.claimable_sessions == (b"\1" * 32,)
    assert (result.active_sessions, result.closed_sessions) == (2, 0)


def test_a_finished_limit_period_starts_from_zero() -> None:
    result = earnings(_provider(stake=10**18, earned=10**18, period_end=DAY), [], now=5 * DAY)
    assert result.period_earned == 0
    assert result.period_end == 5 * DAY + 365 * DAY


def test_endpoint_model_id_and_tags_parsing() -> None:
    assert parse_endpoint(" node.example.com:3333 ") == "node.example.com:3333"
    for bad in ("node.example.com", "http://x:1", "host:0", "host:70000"):
        with pytest.raises(InputError, match="host:port"):
            parse_endpoint(bad)
    assert parse_model_id(MODEL_ID) == bytes.fromhex("ab" * 32)
    assert len(parse_model_id("", allow_random=True)) == 32
    with pytest.raises(InputError, match="64 hex digits"):
        parse_model_id("0x1234")
    assert parse_tags(" llm, ,chat ") == ["llm", "chat"]


async def test_models_config_form_saves_a_file_the_node_loads(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "models-config.json"
    editor = ModelsConfigEditor(path)
    qtbot.addWidget(editor)
    await editor.load()
    assert editor.entries == []
    editor.model_id.setText(MODEL_ID)
    editor.name.setText("llama3:8b")
    editor.api_url.setText("http://127.0.0.1:11434/v1")
    editor.api_key.setText("sk-test")
    editor.slots.setValue(4)
    editor.policy.setCurrentText("idle_timeout")
    editor.upsert()
    await editor.save()
    loaded = load_models_config(path)
    [entry] = loaded.entries
    assert (entry.model_id, entry.model_name, entry.concurrent_slots, entry.capacity_policy) == (
        MODEL_ID, "llama3:8b", 4, "idle_timeout")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the API key stays private
    editor.name.setText("llama3:70b")
    editor.upsert()  # same model id: replaced, not added
    assert len(editor.entries) == 1
    assert json.loads(path.read_text())["models"][0]["modelName"] == "llama3:8b"  # until saved


def test_models_config_form_names_the_bad_field(qtbot: QtBot, tmp_path: Path) -> None:
    editor = ModelsConfigEditor(tmp_path / "models-config.json")
    qtbot.addWidget(editor)
    editor.model_id.setText(MODEL_ID)
    editor.name.setText("m")
    editor.api_url.setText("ftp://nope")
    with pytest.raises(ConfigError, match="apiUrl"):
        editor.upsert()


async def test_test_backend_button_measures_ttft_and_tps(qtbot: QtBot, tmp_path: Path) -> None:
    async with OpenAIBackendServer(Behaviour(tokens=["a", "b", "c"], token_delay=0.01)) as server:
        editor = ModelsConfigEditor(tmp_path / "models-config.json")
        qtbot.addWidget(editor)
        editor.model_id.setText(MODEL_ID)
        editor.name.setText("test-model")
        editor.api_url.setText(server.base_url)
        text = await editor.test_backend()
        assert text.startswith("Backend answered: TTFT ")
        assert "3 tokens" in text
        assert editor.result.text() == text
        assert server.requests[0].body["messages"][0]["role"] == "user"
