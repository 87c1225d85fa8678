"""Names in the source and how English writes them: CEDICT's proper-noun senses, else the
pinyin (pypinyin) of a person's or place's name, matched against the target's capitalised words
loosely (tone-less, syllables joined or apart, a few Wade-Giles spellings, small slips).
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .dictionary import Lexicon, SourceWord, TargetWord

__all__ = [
    "NAME_POS",
    "SourceName",
    "best_match",
    "expected_forms",
    "form_key",
    "similarity",
    "source_names",
    "writes",
]

#: jieba tags of names: person, place, organisation, other proper noun.
NAME_POS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz"})
#: Two-character surnames: the given name starts after them ("Ouyang Xiu", "Sima Qian").
COMPOUND_SURNAMES = frozenset("欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 夏侯 令狐".split())
#: Characters that mostly spell foreign names (斯 "s", 尔 "r"): a name with one is not read
#: as a Chinese person's name, and a name next to one is a piece of a longer one (维尔|梅斯).
TRANSLITERATION = frozenset(
    "斯尔基夫诺克维菲奇特德拉亚莎耶洛罗蒂卡姆普布格瑟森逊顿纳塔埃伊奥乌兹茨赫沃瓦彼伯莱茜萨索贝弗迪坦泽"
    "什舍希谢约詹库根·"
)
#: jieba tags of words a CEDICT proper noun may have without jieba calling it a name.
UNTAGGED_NAME_POS = frozenset({"nz", "j"})
#: Conjunctions jieba glues to a following name (和梅根): such a "name" is not read.
_GLUED = frozenset("和与及同跟")
#: Last characters of place names (a river, a province): not a person's.
PLACE_SUFFIXES = frozenset("河江山湖海省市县区州岛村镇乡街路港湾峡氏")
#: Words of a form a translation may leave out or abbreviate ("the Ruhr", "Beijiang River").
GENERIC = frozenset(
    "the of river ocean sea lake mountain mount county province city district island fc "
    "saint st republic kingdom state states".split()
)
#: Other ways English writes some countries.
ALIASES = {
    "united states": ("US", "U.S", "America", "American", "USA"),
    "usa": ("US", "U.S", "America", "American", "United States"),
    "united kingdom": ("UK", "U.K", "Britain", "British", "England"),
    "people's republic of china": ("China", "PRC", "Chinese"),
    "soviet union": ("USSR", "Soviet"),
    "european union": ("EU", "European"),
    "china": ("Sino", "PRC", "Chinese"),
    "spain": ("Spanish",),
    "france": ("French",),
    "netherlands": ("Dutch", "Holland"),
    "switzerland": ("Swiss",),
    "greece": ("Greek",),
    "turkey": ("Turkish", "Türkiye"),
    "philippines": ("Filipino", "Philippine"),
    "thailand": ("Thai",),
    "sweden": ("Swedish",),
    "denmark": ("Danish",),
    "finland": ("Finnish",),
    "poland": ("Polish",),
    "norway": ("Norwegian",),
    "vietnam": ("Vietnamese", "Viet Nam"),
    "korea": ("Korean",),
    "south korea": ("Korea", "Korean", "ROK"),
    "north korea": ("DPRK", "Korean"),
}
#: Wade-Giles (and older postal) spellings -> pinyin, applied to the target's words.
_WADE = (
    ("hs", "x"),
    ("tz", "z"),
    ("ts", "c"),
    ("ch'", "q"),
    ("'", ""),
    ("kuo", "guo"),
    ("chiang", "jiang"),
    ("peking", "beijing"),
)


@dataclass(frozen=True)
class SourceName:
    """A name in the source: the words it is made of and the English forms expected for it."""

    words: tuple[SourceWord, ...]
    forms: tuple[str, ...]  # "Wang Yi", "Ukraine": what the target may write
    sure: bool  # CEDICT's forms or a Chinese name's pinyin (else a foreign name's pinyin)
    person: bool = False  # a Chinese person's name: "Wang" does not match "Wang Ji"

    @property
    def foreign(self) -> bool:
        """Spelled with transliteration characters: English renders it in several ways."""
        return not self.person and any(ch in TRANSLITERATION for ch in self.text)

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words)

    @property
    def start(self) -> int:
        return self.words[0].start

    @property
    def end(self) -> int:
        return self.words[-1].end


@lru_cache(maxsize=65536)
def form_key(text: str) -> str:
    """A spelling reduced for comparison: lowercase letters only, Wade-Giles mapped."""
    text = unicodedata.normalize("NFKD", text)  # "Düsseldorf" -> "Dusseldorf"
    key = re.sub(r"['’]s$", "", text.lower()).replace("’", "'").replace("-", "").replace(" ", "")
    for old, new in _WADE:
        key = key.replace(old, new)
    return re.sub(r"[^a-z]", "", key)


def similarity(a: str, b: str) -> float:
    """How alike two spellings are (0..1, difflib's ratio on their `form_key`s)."""
    ka, kb = form_key(a), form_key(b)
    if not ka or not kb:
        return 0.0
    return difflib.SequenceMatcher(None, ka, kb, autojunk=False).ratio()


@lru_cache(maxsize=8192)
def _pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s)


def pinyin_forms(text: str, person: bool) -> tuple[str, ...]:
    """Pinyin spellings of a name: a person as "Surname Given" ("Xi Jinping"), anything as
    one word ("Xijinping")."""
    return _spelled(_pinyin(text), text, person)


def _spelled(syllables: Sequence[str], text: str, person: bool) -> tuple[str, ...]:
    syllables = [s for s in syllables if s]
    if not syllables:
        return ()
    joined = "".join(syllables).capitalize()
    if person and 2 <= len(text) <= 4:
        cut = 2 if text[:2] in COMPOUND_SURNAMES else 1
        surname = "".join(syllables[:cut]).capitalize()
        given = "".join(syllables[cut:]).capitalize()
        if given:
            return (f"{surname} {given}", joined)
    return (joined,)


def expected_forms(
    words: Sequence[SourceWord], lexicon: Lexicon
) -> tuple[tuple[str, ...], bool, bool]:
    """The English forms of a source name, whether they are sure (CEDICT's, or the pinyin of
    a Chinese person's name: a CEDICT surname, then one or two characters, none of them
    foreign-sounding) and whether it is a Chinese person's. The pinyin of anything else (a
    foreign name read in Chinese: 布林肯 "Bulinken") only says it is there."""
    text = "".join(w.text for w in words)
    tagged = any(w.pos.startswith("nr") for w in words)
    cut = 2 if text[:2] in COMPOUND_SURNAMES else 1
    chinese = (
        tagged
        and 2 <= len(text) - cut + 1 <= 3
        and lexicon.is_surname(text[:cut])
        and not any(ch in TRANSLITERATION for ch in text)
        and text[-1] not in PLACE_SUFFIXES
    )
    forms = lexicon.proper_forms(text)
    if forms:
        cedict = lexicon.pinyin(text) or ""
        read = tuple(re.sub(r"[^a-z]", "", s.lower()) for s in cedict.split())
        spelled = _spelled(read, text, chinese)
        person = chinese and any(form_key(f) == form_key(spelled[0]) for f in forms if spelled)
        if any(" " in f for f in forms):  # "Andy Lau": his pinyin "Liu Dehua" is wrong
            return forms, True, person
        # A one-word form: CEDICT's pinyin too (科林 "Colin" may be a Chinese "Kelin").
        return tuple(dict.fromkeys(forms + spelled)), True, person
    return pinyin_forms(text, chinese), chinese, chinese


def source_names(words: Sequence[SourceWord], lexicon: Lexicon) -> list[SourceName]:
    """The names of a segmented source sentence: jieba's name tags (neighbouring person-name
    pieces joined: jieba cuts 布林肯 into 布/林肯) or CEDICT proper nouns, with their forms."""
    out: list[SourceName] = []
    i = 0
    while i < len(words):
        word = words[i]
        joined = _longest_proper(words, i, lexicon)
        if joined > 1:  # jieba cut a name CEDICT knows: 马克/龙 is 马克龙 "Macron"
            joined_words = tuple(words[i : i + joined])
            out.append(SourceName(joined_words, *expected_forms(joined_words, lexicon)))
            i += joined
            continue
        tagged = word.pos in NAME_POS
        after_number = i > 0 and words[i - 1].pos.startswith("m")  # 26|日电 is not "NEC"
        known = len(word.text) > 1 and bool(lexicon.proper_forms(word.text))
        if after_number or not (tagged or (known and word.pos in UNTAGGED_NAME_POS)):
            i += 1
            continue
        if tagged and not known and (word.text in lexicon or word.text[0] in _GLUED):
            i += 1
            continue
        group = [word]
        while (
            word.pos.startswith("nr")
            and i + len(group) < len(words)
            and words[i + len(group)].pos.startswith("nr")
            and words[i + len(group)].start == group[-1].end
            and (len(group[-1].text) == 1 or len(words[i + len(group)].text) == 1)
        ):
            group.append(words[i + len(group)])
        forms, sure, person = expected_forms(group, lexicon)
        if forms and len(_text(group)) > 1 and not _piece(words, i, i + len(group)):
            out.append(SourceName(tuple(group), forms, sure, person))
        i += len(group)
    return out


def _piece(words: Sequence[SourceWord], first: int, stop: int) -> bool:
    """A name jieba cut out of a longer foreign one: a transliteration character or "·"
    right before or after it (维尔|梅斯, 叶夫梅|诺夫)."""
    touching = ""
    if first > 0 and words[first - 1].end == words[first].start:
        touching += words[first - 1].text[-1]
    if stop < len(words) and words[stop].start == words[stop - 1].end:
        touching += words[stop].text[0]
    return any(ch in TRANSLITERATION for ch in touching)


def _text(words: Sequence[SourceWord]) -> str:
    return "".join(w.text for w in words)


def _longest_proper(words: Sequence[SourceWord], i: int, lexicon: Lexicon) -> int:
    """How many words from `i` on join into one CEDICT proper noun (0 or 1: none longer)."""
    for size in range(min(4, len(words) - i), 1, -1):
        group = words[i : i + size]
        contiguous = all(a.end == b.start for a, b in zip(group, group[1:], strict=False))
        pieces = all(w.pos in NAME_POS for w in group) or all(len(w.text) == 1 for w in group[1:])
        if contiguous and pieces and lexicon.proper_forms(_text(group)):
            return size
    return 0


def _phrases(
    target: Sequence[TargetWord], size: int, usable: Container[int]
) -> list[tuple[int, int, str]]:
    """Runs of 1..size neighbouring usable capitalised target words: (first, last, text)."""
    out = []
    for i, word in enumerate(target):
        if not word.capitalised or i not in usable:
            continue
        text = word.text
        out.append((i, i, text))
        for j in range(i + 1, min(len(target), i + size)):
            if not target[j].capitalised or j not in usable:
                break
            text += " " + target[j].text
            out.append((i, j, text))
    return out


def best_match(
    forms: Sequence[str], target: Sequence[TargetWord], usable: Container[int] | None = None
) -> tuple[float, tuple[int, int] | None]:
    """The capitalised target phrase closest to any expected form, among the `usable` word
    indices (default all): (similarity, (first word, last word))."""
    best: tuple[float, tuple[int, int] | None] = (0.0, None)
    for i, j, text in _phrases(target, 4, range(len(target)) if usable is None else usable):
        for form in forms:
            score = similarity(form, text)
            if score > best[0]:
                best = (score, (i, j))
    return best


def writes(
    forms: Sequence[str], target: Sequence[TargetWord], loose: float = 1.0, person: bool = False
) -> bool:
    """Whether the target writes one of the forms: the whole form as a phrase (any case), one
    of its words as a capitalised word ("Xi", "Trump", "the Ruhr"; for a Chinese `person` only
    where no capitalised word follows: "Wang" is not "Wang Ji"), a word sharing its first four
    letters ("Ukrainian", "Milan" for "Milano"), every part of a pair ("China-Japan"), an
    alias ("U.S." for "United States"), inside a run of capitalised words ("Zhang Jike" holds
    张继 "Zhang Ji"), or, with `loose` < 1, a capitalised phrase at least that alike to it (a
    transliteration read back from pinyin: "Blinken")."""
    if any(_writes_one(form, target, person) for form in _expanded(forms)):
        return True
    if loose < 1.0:
        return best_match(forms, target)[0] >= loose
    return False


def _expanded(forms: Sequence[str]) -> list[str]:
    out = list(forms)
    for form in forms:
        out += ALIASES.get(form.lower(), ())
    return out


def _writes_one(form: str, target: Sequence[TargetWord], person: bool) -> bool:
    if "-" in form and all(p[:1].isupper() for p in form.split("-")):  # "China-Japan"
        return all(
            any(_writes_one(alt, target, person) for alt in _expanded([part]))
            for part in form.split("-")
        )
    keys = [form_key(t.text) for t in target]
    whole = " ".join(form_key(p) for p in form.split())
    if whole and f" {whole} " in " " + " ".join(keys) + " ":
        return True
    alone: set[str] = set()
    upper: set[str] = set()
    for k, t in enumerate(target):
        if not t.capitalised:
            continue
        pieces = {form_key(p) for p in re.split(r"[-–]", t.text)} | {keys[k]}  # "US-China"
        upper |= pieces
        if not (person and k + 1 < len(target) and target[k + 1].capitalised):
            alone |= pieces
    parts = [form_key(p) for p in form.split() if p[:1].isupper() and p.lower() not in GENERIC]
    for part in parts:
        if len(part) > 1 and part in alone:
            return True
        if not person and len(part) >= 4 and any(_derived(part, k) for k in upper):
            return True
    key = form_key(form)
    return len(key) >= 5 and any(key in run for run in _capitalised_runs(target))


def _derived(a: str, b: str) -> bool:
    """One word derived from the other: a shared start of 4+ letters and 3/4 of the shorter
    ("Ukraine"/"Ukrainian", "Catholicism"/"Catholic", "China"/"Chinese"; not "Chin"/"China")."""
    common = len(os.path.commonprefix([a, b]))
    return common >= 4 and common >= 0.75 * min(len(a), len(b))


def _capitalised_runs(target: Sequence[TargetWord]) -> list[str]:
    """The `form_key` of each run of neighbouring capitalised words, joined."""
    runs: list[str] = []
    current = ""
    for word in target:
        if word.capitalised:
            current += form_key(word.text)
        elif current:
            runs.append(current)
            current = ""
    return runs + ([current] if current else [])
