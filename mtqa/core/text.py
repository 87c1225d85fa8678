"""Is this text prose we can score, and how to show untrusted text on a terminal."""

from __future__ import annotations

import re

from .errors import InputError

MAX_LINE_CHARS = 100_000

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that can
# make a terminal show text in another order than it is stored.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


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
