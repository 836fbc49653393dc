"""The .env parser and Go duration parsing: the syntax operators copy from upstream guides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.config.dotenv import load_dotenv, parse_dotenv
from app.config.durations import format_go_duration, parse_go_duration, parse_go_duration_ns
from app.errors import ConfigError


def test_dotenv_reads_comments_export_and_both_quote_styles() -> None:
    text = (
        "# a comment\n"
        "\n"
        "export WEB_ADDRESS=127.0.0.1:8082\n"
        "ETH_NODE_CHAIN_ID = 84532   # Base Sepolia\n"
        "PASSWORD='p#ss $HOME \\n'\n"
        'GREETING="line1\\nline2 \\"quoted\\""\n'
        "URL=http://x/#anchor\n"
        "EMPTY=\n"
    )
    assert parse_dotenv(text) == {
        "WEB_ADDRESS": "127.0.0.1:8082",
        "ETH_NODE_CHAIN_ID": "84532",
        "PASSWORD": "p#ss $HOME \\n",
        "GREETING": 'line1\nline2 "quoted"',
        "URL": "http://x/#anchor",
        "EMPTY": "",
    }


def test_dotenv_never_interpolates_variables() -> None:
    assert parse_dotenv("A=1\nB=${A}$A\nC=\"${A}\"") == {"A": "1", "B": "${A}$A", "C": "${A}"}


def test_dotenv_double_quoted_value_may_span_lines() -> None:
    text = 'MODELS_CONFIG_CONTENT="{\n  \\"models\\": []\n}"\nNEXT=1\n'
    assert parse_dotenv(text) == {"MODELS_CONFIG_CONTENT": '{\n  "models": []\n}', "NEXT": "1"}


@pytest.mark.parametrize(("text", "message"), [
    ("JUST_A_WORD\n", "line 1: expected KEY=value"),
    ("OK=1\nBAD='open\n", "line 2: the ' quote after BAD= is never closed"),
    ("X=\"a\" trailing\n", "unexpected text after the quoted value of X"),
    ("1ABC=2\n", "expected KEY=value"),
])
def test_dotenv_errors_name_the_line_and_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_dotenv(text, "my.env")


def test_missing_dotenv_file_is_empty(tmp_path: Path) -> None:
    assert load_dotenv(tmp_path / ".env") == {}


@pytest.mark.parametrize(("text", "ns"), [
    ("4m", 240 * 10**9),
    ("90s", 90 * 10**9),
    ("1h30m", 5400 * 10**9),
    ("1.5h", 5400 * 10**9),
    ("250ms", 250 * 10**6),
    ("1m0.5s", 60_500 * 10**6),
    ("2h45m30.5s", (2 * 3600 + 45 * 60 + 30) * 10**9 + 5 * 10**8),
    ("300us", 300_000),
    ("300µs", 300_000),
    (".5s", 5 * 10**8),
    ("1.s", 10**9),
    ("0", 0),
    ("-1m", -60 * 10**9),
    ("+7ns", 7),
])
def test_go_durations_parse_exactly(text: str, ns: int) -> None:
    assert parse_go_duration_ns(text) == ns


@pytest.mark.parametrize("text", ["", "4", "10 s", "1d", "m", "1h 30m", "1.2.3s", "-", "9999999999h"])
def test_invalid_go_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|number"):
        parse_go_duration_ns(text)


def test_duration_error_names_the_variable_and_the_expected_syntax() -> None:
    with pytest.raises(ConfigError, match=r"LLM_TIMEOUT='4 minutes' is not a duration .*90s, 4m or 1h30m"):
        parse_go_duration("4 minutes", "LLM_TIMEOUT")


@pytest.mark.parametrize(("seconds", "text"), [(240, "4m0s"), (5400, "1h30m0s"), (90, "1m30s"), (0.25, "250ms"),
                                                (0, "0s")])
def test_durations_format_the_way_go_prints_them(seconds: float, text: str) -> None:
    assert format_go_duration(dt.timedelta(seconds=seconds)) == text
    assert parse_go_duration(text) == dt.timedelta(seconds=seconds)
