"""Is this text prose we can score, and how to show or write untrusted text safely.

Document text and names (ids, systems, file names) may hold terminal control sequences (ESC,
CSI, OSC 8 links, OSC 52 clipboard writes, ESC c) and direction overrides (RLO). Every writer
goes through one of the two functions below: `printable` for what a person reads (the text
view, TSV, errors and tables) and `dump_json` for JSON and JSONL, where the escapes keep the
text exactly round-trippable.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import InputError

MAX_LINE_CHARS = 100_000

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional marks, embeddings,
# overrides and isolates that can make a terminal show text in another order than it is stored.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
# What json.dumps(ensure_ascii=False) leaves raw of those (it escapes C0 itself), and the line
# and paragraph separators that JavaScript and some JSONL readers take for line ends.
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}]")


def validate_text(text: str, name: str = "the document") -> None:
    """Refuse input that is not prose we can score, with one clear line."""
    if not text.strip():
        raise InputError(f"{name} is empty")
    if "\x00" in text:
        raise InputError(f"{name} looks binary (it contains NUL bytes), not text")
    longest = max(len(line) for line in text.split("\n"))
    if longest > MAX_LINE_CHARS:
        raise InputError(
            f"{name}: a line is {longest:,} characters long (limit {MAX_LINE_CHARS:,}): "
            "this does not look like a news article; put paragraphs on separate lines"
        )


def printable(text: str) -> str:
    """`text` with control and direction-override characters shown as escapes (``\\x1b``), so
    a document cannot retitle, clear or reorder the terminal it is shown on."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def dump_json(value: Any, indent: int | None = None) -> str:
    """`json.dumps`, non-ASCII text kept readable, but control, direction and line-separator
    characters written as `\\uXXXX` escapes, so `cat`-ing a JSON output is safe. They can only
    occur inside JSON strings, where an escape decodes to the same character: `json.loads`
    gives back exactly what was dumped."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
