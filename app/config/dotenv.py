"""A small, predictable ``.env`` parser: comments, quotes, ``export``, and no variable interpolation."""

from __future__ import annotations

import re
from pathlib import Path

from app.errors import ConfigError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
# A name we may repeat in an error: upper case with an underscore, as settings are named. Hex keys, mnemonic words
# and passwords never look like this, so naming it cannot leak a secret that was pasted without its KEY=.
_NAMEABLE = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![A-Za-z0-9_.])")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


def _unescape_double(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _closing_quote(text: str, quote: str) -> int:
    """Index of the unescaped closing ``quote`` in ``text`` (which starts after the opening one), or -1."""
    i = 0
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _malformed_line(source: str, lineno: int, line: str) -> ConfigError:
    """The error for a line that is not ``KEY=value``: its number and, when recognisable, its key; never its text."""
    named = _NAMEABLE.match(line)
    where = f", but {named.group(1)} is not followed by =" if named else ""
    return ConfigError(f"{source} line {lineno}: expected KEY=value{where}. Fix that line (its text is not shown "
                       "here: it may hold a secret).")


def parse_dotenv(text: str, source: str = ".env") -> dict[str, str]:
    """Parse dotenv text into a dict.

    - ``KEY=value``, optionally prefixed by ``export``; blank lines and ``#`` comments are skipped;
    - unquoted values are trimmed and end at `` #`` (an inline comment);
    - ``'single'`` quotes are literal; ``"double"`` quotes understand ``\\n \\t \\" \\\\`` and may span lines;
    - ``$VAR`` and ``${VAR}`` are kept as written: no interpolation, so a ``$`` in a password stays a ``$``.
    """
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        lineno, line = i + 1, lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith(("export ", "export\t")):
            line = line[len("export"):].strip()
        key, sep, rest = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise _malformed_line(source, lineno, line)
        rest = rest.strip()
        if rest[:1] in ("'", '"'):
            quote, body = rest[0], rest[1:]
            end = _closing_quote(body, quote)
            while end < 0 and i < len(lines):  # a quoted value may continue on the next lines
                body += "\n" + lines[i]
                i += 1
                end = _closing_quote(body, quote)
            if end < 0:
                raise ConfigError(f"{source} line {lineno}: the {quote} quote after {key}= is never closed.")
            trailing = body[end + 1:].strip()
            if trailing and not trailing.startswith("#"):
                raise ConfigError(f"{source} line {lineno}: unexpected text after the quoted value of {key}.")
            raw = body[:end]
            values[key] = _unescape_double(raw) if quote == '"' else raw
        else:
            comment = re.search(r"\s#", rest)
            values[key] = (rest[: comment.start()] if comment else rest).strip()
    return values


def load_dotenv(path: Path) -> dict[str, str]:
    """Parse the file at ``path``; a missing file is empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror}).") from e
    return parse_dotenv(text, str(path))
