"""English word frequencies, as `wordfreq` gives them, without importing `wordfreq` each run.

Importing `wordfreq` pulls in `langcodes`, `ftfy` and `regex` and its first lookup unpacks a
321,000-word table: about 0.3 s, a fifth of a 3-line `mtqa score`. The table is copied once
into an SQLite file under `$MTQA_CACHE/frequency/` (keyed by the installed data file), and the
words news text is made of (ASCII letters and digits, with inner apostrophes, periods, commas
and hyphens), and any single character, are tokenized here as wordfreq tokenizes them and
looked up there. Anything else goes to `wordfreq` itself. `tests/test_frequency.py` holds the
two equal, value for value.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import threading
import unicodedata
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from .files import cache_dir

#: One token as wordfreq's Unicode word segmentation reads it, for Latin text: letters joined by
#: apostrophes or periods ("don't", "u.s"), digits joined by periods or commas ("1,000"), or
#: letters, digits and underscores run together ("g20"). Hyphens always split tokens.
_LETTER = "a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f"  # Latin, as casefolded
_TOKEN = re.compile(rf"[{_LETTER}]+(?:['.][{_LETTER}]+)*|[0-9]+(?:[.,][0-9]+)*|[{_LETTER}0-9_]+")
#: Punctuation, symbols and spaces that start no token and join none at a word's edge ("@" and
#: "_" do): currency signs, bullets, vulgar fractions and superscripts included.
_EDGE = " \t\n!\"#$%&'()*+,-./:;<=>?[\\]^`{|}~’‘“”–—…«»€£¥•·½¼¾²³"
#: wordfreq splits a French-style elision at a token's start ("l'homme" -> "l", "homme", but
#: "yan'an" stays whole); left to wordfreq.
_ELISION = re.compile(r"\w{1,2}'[aehiouyáéíóúàèìòùâêîôûåïöœ]")
#: A run of digits wordfreq folds to zeros; its digit groups are each priced separately.
_DIGIT_RUN = re.compile(r"[0-9][0-9.,]+")
_DIGITS = re.compile(r"[0-9]+")
#: Digit groups longer than this are left to wordfreq (none occurs in news text).
_LONGEST_DIGITS = 40
_SCHEMA = 2
#: Single characters whose tokens are precomputed (beyond ASCII letters and digits): the LM's
#: candidates and a document's stray symbols ("@", "上", "�", Cyrillic look-alikes).
_CHARS = range(0x21, 0x30000)


def _data_file() -> Path | None:
    """wordfreq's English table, found without importing the package."""
    spec = find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "large_en.msgpack.gz"


class _Table:
    """The SQLite copy: `words(word, freq)`, `years(digits, freq)` for 4-digit groups and
    `lengths(first, length, freq)` for the others (wordfreq's number model, precomputed), and
    `chars(ch, token)`: wordfreq's token of each single character."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._unavailable = False
        self.years: dict[str, float] = {}
        self.lengths: dict[tuple[str, int], float] = {}

    def _path(self) -> Path | None:
        data = _data_file()
        if data is None or not data.is_file():
            return None
        stat = data.stat()
        return cache_dir() / "frequency" / f"en-v{_SCHEMA}-{stat.st_size}-{stat.st_mtime_ns}.sqlite"

    def _open(self) -> sqlite3.Connection | None:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._unavailable:
            return None
        path = self._path()
        conn = None
        if path is not None:
            try:
                conn = _read(path)
            except (sqlite3.Error, OSError, ValueError):
                try:
                    _build(path)
                    conn = _read(path)
                except (sqlite3.Error, OSError, ValueError):
                    conn = None
        if conn is None:
            self._unavailable = True  # a read-only cache: wordfreq answers every lookup
            return None
        self.years = dict(conn.execute("SELECT digits, freq FROM years"))
        self.lengths = {(f, n): p for f, n, p in conn.execute("SELECT * FROM lengths")}
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _row(self, query: str, key: str) -> tuple[Any, ...] | None:
        """One row of the copy; raises LookupError when no table can be had."""
        with self._lock:
            conn = self._open()
            if conn is None:
                raise LookupError("no frequency table")
            row: tuple[Any, ...] | None = conn.execute(query, (key,)).fetchone()
        return row

    def char_token(self, char: str) -> str | None:
        """wordfreq's token of one character ("" for none; None: left to wordfreq)."""
        row = self._row("SELECT token FROM chars WHERE ch = ?", char)
        return None if row is None else str(row[0])

    def lookup(self, key: str) -> float | None:
        """The table's frequency of a token (None: not in the list)."""
        row = self._row("SELECT freq FROM words WHERE word = ?", key)
        return None if row is None else float(row[0])


def _read(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise OSError(f"{path} is missing")
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    (schema,) = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if int(schema) != _SCHEMA:
        conn.close()
        raise ValueError(f"{path}: schema {schema}")
    return conn


def _char_tokens() -> list[tuple[str, str]]:
    """wordfreq's token of each single character ("" for none), where it is one token with no
    digit in it (digits go through its number model; those are left to wordfreq)."""
    from wordfreq.tokens import lossy_tokenize

    out = []
    for code in _CHARS:
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or (char.isascii() and char.isalnum()):
            continue
        tokens = lossy_tokenize(char, "en")
        if not tokens:
            out.append((char, ""))
        elif len(tokens) == 1 and not any(unicodedata.category(c)[0] == "N" for c in tokens[0]):
            out.append((char, tokens[0]))
    return out


def _build(path: Path) -> None:
    """Copy wordfreq's English table and number model into `path` (written to a temporary file
    and renamed, so a reader never sees half a table)."""
    from wordfreq import get_frequency_dict
    from wordfreq.numbers import benford_freq, year_freq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        conn = sqlite3.connect(tmp)
        with conn:
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("CREATE TABLE words (word TEXT PRIMARY KEY, freq REAL) WITHOUT ROWID")
            conn.execute("CREATE TABLE years (digits TEXT PRIMARY KEY, freq REAL)")
            conn.execute("CREATE TABLE lengths (first TEXT, length INTEGER, freq REAL)")
            conn.execute("CREATE TABLE chars (ch TEXT PRIMARY KEY, token TEXT) WITHOUT ROWID")
            conn.executemany("INSERT INTO chars VALUES (?, ?)", _char_tokens())
            conn.executemany(
                "INSERT INTO words VALUES (?, ?)", sorted(get_frequency_dict("en", "best").items())
            )
            years = [f"{year:04d}" for year in range(10_000)]
            conn.executemany("INSERT INTO years VALUES (?, ?)", [(y, year_freq(y)) for y in years])
            conn.executemany(
                "INSERT INTO lengths VALUES (?, ?, ?)",
                [
                    (d, n, benford_freq(d + "0" * (n - 1)))
                    for d in "0123456789"
                    for n in range(1, _LONGEST_DIGITS + 1)
                    if n != 4
                ],
            )
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (str(_SCHEMA),))
        conn.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


_TABLE = _Table()


class _NoTokens(Exception):
    """A word of punctuation alone: wordfreq gives it the floor, unrounded."""


def _tokens(text: str) -> list[str] | None:
    """wordfreq's tokens of `text`, a word stripped of `_EDGE` (curly apostrophes made
    straight; none for punctuation alone), or None where this module does not follow
    wordfreq's segmentation."""
    if not text:
        return []
    if not text.replace("’", "").isascii():
        if "'" in text or not unicodedata.is_normalized("NFC", text):
            return None
    text = text.casefold()
    parts = text.split("-")
    if "'" in text and any(_ELISION.match(part) for part in parts):
        return None
    parts = [part.replace("’", "'") for part in parts]
    if not all(_TOKEN.fullmatch(part) for part in parts):
        return None
    return parts


def _digit_factor(token: str) -> float | None:
    """wordfreq's frequency of the digits within a token, given its zero-folded form."""
    factor = 1.0
    for run in _DIGIT_RUN.findall(token):
        for group in _DIGITS.findall(run):
            if len(group) > _LONGEST_DIGITS:
                return None
            if len(group) == 4:
                factor *= _TABLE.years[group]
            else:
                factor *= _TABLE.lengths[(group[0], len(group))]
    return factor


def _fast(word: str) -> float | None:
    """The unrounded frequency of `word`, 0.0 where any token is unknown, None where wordfreq
    must answer; raises _NoTokens where it has no tokens."""
    text = word.strip(_EDGE)
    tokens = _tokens(text)
    if tokens is None:
        if len(text) != 1 or (token := _TABLE.char_token(text)) is None:
            return None
        tokens = [token] if token else []
    if not tokens:
        raise _NoTokens
    one_over = 0.0
    for token in tokens:
        smashed = _DIGIT_RUN.sub(lambda m: re.sub(r"[0-9]", "0", m.group()), token)
        freq = _TABLE.lookup(smashed)
        if freq is None:
            return 0.0
        if smashed != token:
            factor = _digit_factor(token)
            if factor is None:
                return None
            freq *= factor
        one_over += 1.0 / freq
    return 1.0 / one_over


def _rounded(freq: float, minimum: float) -> float:
    """wordfreq's three significant digits, floored at `minimum`."""
    value = max(freq, minimum)
    if value == 0.0:
        return 0.0
    return round(value, math.floor(-math.log(value, 10)) + 3)


@lru_cache(maxsize=200_000)
def word_frequency(word: str, minimum: float = 0.0) -> float:
    """`wordfreq.word_frequency(word, "en", minimum=minimum)`; `minimum` where wordfreq itself
    fails (its number model cannot read some scripts' digits, "𐵀𐵀")."""
    try:
        freq = _fast(word)
    except _NoTokens:
        return minimum
    except LookupError:
        freq = None
    if freq is None:
        import wordfreq

        try:
            return float(wordfreq.word_frequency(word, "en", minimum=minimum))
        except ValueError:
            return minimum
    return _rounded(freq, minimum)


@lru_cache(maxsize=200_000)
def zipf_frequency(word: str) -> float:
    """`wordfreq.zipf_frequency(word, "en")`: log10 of occurrences per billion words, floored
    at 0 (one in a billion), to two decimals."""
    return round(math.log(word_frequency(word, 1e-9), 10) + 9, 2)
