"""mtqa's frequency table gives wordfreq's English frequencies, value for value.

`mtqa.core.frequency` tokenizes news words itself and looks them up in an SQLite copy of
wordfreq's table, so a run need not import wordfreq. Scores rest on these numbers: any word
where the two differ would change a score. Compared here against wordfreq itself over the seed
article, the MQM dev targets (where ../shared is present) and generated words from the
alphabet news text is written in; the cache is rebuilt when damaged and skipped when unwritable.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

import wordfreq  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mtqa.core import frequency  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "mqm" / "dev.jsonl"


def _same(word: str) -> None:
    assert frequency.word_frequency(word) == wordfreq.word_frequency(word, "en"), word
    assert frequency.word_frequency(word, 1e-6) == wordfreq.word_frequency(
        word, "en", minimum=1e-6
    ), word
    assert frequency.zipf_frequency(word) == wordfreq.zipf_frequency(word, "en"), word


def _words(text: str) -> Iterator[str]:
    """Words as mtqa's signals see them: whitespace-split, punctuation kept."""
    yield from text.split()


def test_the_table_is_used_for_plain_words() -> None:
    """The fast path answers an ordinary word (no wordfreq fallback) and agrees with it."""
    assert frequency._fast("Government") is not None
    assert frequency._fast("1,200") is not None
    _same("Government")


def test_seed_article_words_equal_wordfreq() -> None:
    words = set(_words((ROOT / "examples" / "article.txt").read_text(encoding="utf-8")))
    assert len(words) > 200
    for word in sorted(words):
        _same(word)


@pytest.mark.skipif(not DEV.is_file(), reason="needs ../shared/data/mqm/dev.jsonl")
def test_mqm_dev_words_equal_wordfreq() -> None:
    words: set[str] = set()
    with DEV.open(encoding="utf-8") as rows:
        for line in rows:
            words.update(_words(json.loads(line)["target"]))
    fast = 0
    for word in sorted(words):
        _same(word)
        try:
            fast += frequency._fast(word) is not None
        except frequency._NoTokens:
            fast += 1
    assert fast / len(words) > 0.95  # the table, not wordfreq, answers almost every word


# The characters news words are made of, and those at the edges of the fast path's rules.
ALPHABET = "aAeEzZßéÉñøÿĀſ09" + "'’.,-_@#$%&/:;!?()[]\"“”–—…" + "\u0301ıİﬁ½²€£•·°�上"


@settings(max_examples=6000, deadline=None, database=None)
@given(st.text(alphabet=ALPHABET, max_size=12))
def test_generated_words_equal_wordfreq(word: str) -> None:
    _same(word)


@settings(max_examples=3000, deadline=None, database=None)
@given(st.text(alphabet="ayhnxé1_'’-.Œ", max_size=9))
def test_generated_apostrophes_equal_wordfreq(word: str) -> None:
    """wordfreq splits an elision only at a token's start ("l'homme", not "yan'an")."""
    _same(word)


@settings(max_examples=3000, deadline=None, database=None)
@given(st.characters(min_codepoint=0x21, max_codepoint=0x2FFFF, exclude_categories=("Cs",)))
def test_single_characters_equal_wordfreq(char: str) -> None:
    """Stray symbols and the LM's one-character candidates ("@", "上", "�") come from the
    table's precomputed tokens."""
    try:
        wordfreq.word_frequency(char + char, "en")
    except ValueError:  # wordfreq's number model cannot read this script's digits
        assert frequency.word_frequency(char + char) == 0.0
        return
    _same(char)
    _same(f"'{char}.")


def test_characters_wordfreq_cannot_read_get_the_floor() -> None:
    with pytest.raises(ValueError):
        wordfreq.word_frequency("\U00010d40\U00010d40", "en")
    assert frequency.word_frequency("\U00010d40\U00010d40", 1e-9) == 1e-9
    assert frequency.zipf_frequency("\U00010d40\U00010d40") == 0.0


@settings(max_examples=300, deadline=None, database=None)
@given(st.from_regex(re.compile(r"[0-9]{1,12}([.,][0-9]{1,4}){0,2}[a-z%]{0,3}"), fullmatch=True))
def test_generated_numbers_equal_wordfreq(word: str) -> None:
    """Digits go through wordfreq's number model (years and Benford's law), precomputed."""
    _same(word)


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MTQA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_damaged_table_is_rebuilt(own_cache: Path) -> None:
    table = frequency._Table()
    path = table._path()
    assert path is not None and path.is_relative_to(own_cache)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database")
    assert table.lookup("the") == wordfreq.get_frequency_dict("en")["the"]
    with sqlite3.connect(path) as conn:  # a whole table again, in place of the damaged one
        (count,) = conn.execute("SELECT count(*) FROM words").fetchone()
    assert count == len(wordfreq.get_frequency_dict("en"))
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_unwritable_cache_falls_back_to_wordfreq(
    own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_cache.parent.mkdir(parents=True, exist_ok=True)
    own_cache.write_text("a file where the cache folder should be")
    table = frequency._Table()
    with pytest.raises(LookupError):
        table.lookup("the")
    monkeypatch.setattr(frequency, "_TABLE", table)
    frequency.word_frequency.cache_clear()
    frequency.zipf_frequency.cache_clear()
    try:
        assert frequency.word_frequency("council") == wordfreq.word_frequency("council", "en")
        assert frequency.zipf_frequency("council") == wordfreq.zipf_frequency("council", "en")
    finally:
        frequency.word_frequency.cache_clear()
        frequency.zipf_frequency.cache_clear()
    assert own_cache.is_file() and os.path.getsize(own_cache) > 0  # nothing of the user's lost
