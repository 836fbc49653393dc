"""Split markdown into prose and fenced code blocks, so code renders monospace with its own Copy button."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})\s*([\w+#.-]*)\s*$")


@dataclass(frozen=True, slots=True)
class Block:
    """A run of markdown prose (``lang`` None) or one fenced code block (``lang`` '' when unnamed)."""

    text: str
    lang: str | None = None
    closed: bool = True

    @property
    def is_code(self) -> bool:
        return self.lang is not None


_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")


def _in_list(prose: list[str]) -> bool:
    """Whether the paragraph so far is a list (a loose list must stay one block to keep its numbering)."""
    return any(_LIST_ITEM.match(line) for line in prose)


def _prose(lines: list[str]) -> Block:
    return Block("\n".join(lines).strip("\n"))


def split_blocks(markdown: str) -> list[Block]:
    """Prose and code blocks in order; an unclosed fence (mid-stream) runs to the end with ``closed=False``."""
    blocks: list[Block] = []
    prose: list[str] = []
    code: list[str] = []
    fence: str | None = None
    lang = ""
    for line in markdown.split("\n"):
        match = _FENCE.match(line)
        if fence is None:
            if match:
                if prose:
                    blocks.append(_prose(prose))
                    prose = []
                fence, lang = match.group(2), match.group(3)
            elif not line.strip() and prose and not _in_list(prose):
                # a paragraph ends: its own block, so a streaming answer only re-renders its last paragraph
                blocks.append(_prose(prose))
                prose = []
            else:
                prose.append(line)
        elif match and match.group(2).startswith(fence) and not match.group(3):
            blocks.append(Block("\n".join(code), lang))
            code, fence = [], None
        else:
            code.append(line)
    if fence is not None:
        blocks.append(Block("\n".join(code), lang, closed=False))
    elif prose:
        blocks.append(_prose(prose))
    return [b for b in blocks if b.is_code or b.text.strip()]
