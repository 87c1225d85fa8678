"""Property tests over hostile document text: any Unicode, controls, long tokens, mixed scripts.

Whatever the text, `Scorer.score` either returns a result whose sentences and spans index the
text exactly (`text[start:end] == span.text`), or raises an `MtqaError` (empty, binary, a line
too long), never anything else; `mtqa score -f json` prints JSON with the same property, or
exits 1 with one `mtqa: error:` line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("hypothesis")

from click.testing import CliRunner  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mtqa.cli import main  # noqa: E402
from mtqa.core.errors import MtqaError  # noqa: E402

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

WORDS = [
    "The",
    "council",
    "approved",
    "budget",
    "Monday.",
    "Officials",
    "said",
    "«quoted»",
    "“smart”",
    "U.S.",
    "3.5%",
    "$1,200",
    "Москва",
    "北京",
    "東京都",
    "مرحبا",  # RTL
    "שלום",  # RTL
    "\u202eevil\u202c",  # right-to-left override
    "\u200d",  # zero-width joiner
    "👨‍👩‍👧",
    "🇺🇦",
    "é",  # combining accent
    "ﬁ",
    "\u2028",  # line separator
    "\x85",  # next line (C1)
    "\x1b[2J",
    "\x07",
    "\x9b",
    "\t",
    "\r\n",
    "\r",
    "\n\n",
    ".",
    "?!",
    "...",
    "—",
    "\ufeff",
]

any_char = st.characters(blacklist_categories=("Cs",))  # every code point but surrogates
no_nul_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
long_token = st.builds(lambda c, n: c * n, st.sampled_from("aZ9-_.ж字😀"), st.integers(50, 600))
token = st.one_of(
    st.sampled_from(WORDS),
    st.text(no_nul_char, min_size=1, max_size=12),
    long_token,
)
prose = st.lists(token, max_size=20).map(" ".join)
documents = st.one_of(
    prose,
    st.text(no_nul_char, max_size=300),
    st.text(any_char, max_size=200),  # may hold NUL: then the "binary" error is expected
)


def check_indices(text: str, sentences: list[Any]) -> None:
    for sentence in sentences:
        get = sentence.get if isinstance(sentence, dict) else sentence.__getattribute__
        assert text[get("start") : get("end")] == get("text")
        for span in get("spans"):
            sget = span.get if isinstance(span, dict) else span.__getattribute__
            assert text[sget("start") : sget("end")] == sget("text"), span


def unscoreable(text: str) -> bool:
    """Empty, binary, or a line over the 100,000-character limit."""
    return not text.strip() or "\x00" in text or max(map(len, text.split("\n"))) > 100_000


def as_read(text: str) -> str:
    """The text `mtqa score FILE` reads back from a UTF-8 file: no BOM, newlines unified."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


@SETTINGS
@given(text=documents)
def test_scorer_indices_or_mtqa_error(scorer: Any, text: str) -> None:
    try:
        result = scorer.score(text)
    except MtqaError:
        assert unscoreable(text), text[:200]
        return
    assert result.text == text
    assert result.sentences
    check_indices(text, result.sentences)


@SETTINGS
@given(text=documents)
def test_cli_json_indices_or_one_line(scorer: Any, tmp_path: Path, text: str) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(text.encode("utf-8"))
    result = CliRunner().invoke(main, ["score", "-q", str(path), "-f", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 1:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("mtqa: error:"), result.stderr
        assert unscoreable(as_read(text)), (text[:200], lines)
        return
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["text"] == as_read(text)
    check_indices(doc["text"], doc["sentences"])
    assert doc["n_sentences"] == len(doc["sentences"])
