"""Last line of defence for logs: hide this process's private keys, labelled key-shaped hex and BIP-39 phrases."""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
from pathlib import Path

from app import secret_marks

REDACTED = "[redacted]"
MNEMONIC_MIN_WORDS = 12  # the shortest BIP-39 phrase; 15/18/21/24-word phrases contain such a run

# 64 hex digits not inside a longer hex run: shaped like a secp256k1 private key, but also like every transaction
# hash and session id an operator needs in the log. Such a run is hidden when it is one of the keys this process
# holds (app.secret_marks: every KeySigner registers its key) or when a key-ish word labels it just before.
_KEY_SHAPED = re.compile(r"(?<![0-9A-Za-z])(?:0x)?([0-9a-fA-F]{64})(?![0-9A-Za-z])")
_KEY_LABEL = re.compile(r"(?i)(priv|secret|seed|mnemonic|private|\bkey)[\w ]{0,12}[\s:=\"'(]*$")
# Runs of at least 12 short words (BIP-39 English words are 3-8 letters; a typo may be a little longer) separated
# only by spaces or list punctuation. Only these candidates are checked word by word against the list.
_WORD = r"[A-Za-z]{2,12}"
_SEP = r"[\s,;'\"\[\]()]{1,6}"
_WORD_RUN = re.compile(rf"(?<![A-Za-z]){_WORD}(?:{_SEP}{_WORD}){{{MNEMONIC_MIN_WORDS - 1},}}(?![A-Za-z])")
_WORDS = re.compile(_WORD)


@functools.cache
def _wordlist() -> frozenset[str]:
    """The BIP-39 English list, read from eth-account's data file without importing eth-account (slow to import)."""
    spec = importlib.util.find_spec("eth_account")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "hdaccount" / "wordlist" / "english.txt"
        if path.is_file():
            return frozenset(path.read_text(encoding="utf-8").split())
    from eth_account.hdaccount.mnemonic import get_wordlist  # the data file moved: ask the library

    return frozenset(get_wordlist("english"))


def _redact_mnemonics(run: re.Match[str]) -> str:
    """Within one candidate run, redact each stretch of >= 12 list words; a single stray word between two list
    words (a typo) does not end a stretch. Other words stay."""
    text, words = run.group(0), _wordlist()
    matches = list(_WORDS.finditer(text))
    listed = [m.group(0).lower() in words for m in matches]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(matches):
        if not listed[i]:
            i += 1
            continue
        j, last, count = i, i, 0
        while j < len(matches):
            if listed[j]:
                count, last = count + 1, j
            elif not (listed[j - 1] and j + 1 < len(matches) and listed[j + 1]):
                break
            j += 1
        if count >= MNEMONIC_MIN_WORDS:
            spans.append((matches[i].start(), matches[last].end()))
        i = j
    for begin, end in reversed(spans):
        text = text[:begin] + REDACTED + text[end:]
    return text


def _redact_key(match: re.Match[str]) -> str:
    before = match.string[max(0, match.start() - 24):match.start()]
    if secret_marks.is_secret(bytes.fromhex(match.group(1))) or _KEY_LABEL.search(before):
        return REDACTED
    return match.group(0)


def redact(text: str) -> str:
    """``text`` with this process's private keys, hex labelled as a key or secret, and runs of >= 12 BIP-39
    words replaced by ``[redacted]``; transaction hashes and ids stay readable."""
    text = _KEY_SHAPED.sub(_redact_key, text)
    if len(text) >= MNEMONIC_MIN_WORDS * 3:
        text = _WORD_RUN.sub(_redact_mnemonics, text)
    return text


class RedactionFilter(logging.Filter):
    """Rewrites each record's message, exception text and stack text through :func:`redact`; drops nothing.

    The record is changed in place, so every handler after this one (and every formatter) sees the redacted text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad %-arguments: keep what there is, redacted, rather than lose the record
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
