"""Which language a text is in: script-based detection and language-tag normalisation.

One place for "language of this text", used by the checks, the source pairing, the
adequacy reader and the scorer's English check.
"""

from __future__ import annotations

import re

LATIN_WORD_RE = re.compile(r"[A-Za-z]+")

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
KANA = "\u3040-\u30ff"
HANGUL = "\uac00-\ud7af"
CYRILLIC = "\u0400-\u04ff"
HAN_RE = re.compile(f"[{HAN}]")
GERMAN_CHARS = set("äöüÄÖÜß")
GERMAN_FUNCTION_WORDS = frozenset(
    "der und ist nicht mit sich auf dem den des eine einer einen eines zu von für über wird "
    "werden wurde wurden sind auch oder aber noch nach bei aus wie dass vom zum zur im ein es "
    "sie wir ihr durch gegen ohne sein seine ihre haben hatte kein keine nur sehr schon".split()
)


def lang_code(lang: str | None) -> str | None:
    """'zh-CN' / 'ZH' -> 'zh': callers pass BCP-47-ish tags, the checks only need the language."""
    if not lang:
        return None
    return lang.replace("_", "-").split("-")[0].lower()


def detect_script(text: str) -> str:
    """Guess the source language from its Unicode script: 'zh', 'ja', 'ko', 'ru', 'de', 'latin'.

    Used when no source language is given. Latin text is called 'de' only on German evidence
    (umlauts/ß or German function words), otherwise 'latin'; 'unknown' when there are no letters.
    """
    counts = {"zh": 0, "ja": 0, "ko": 0, "ru": 0, "latin": 0}
    for ch in text:
        if "\u3040" <= ch <= "\u30ff":
            counts["ja"] += 1
        elif HAN_RE.match(ch):
            counts["zh"] += 1
        elif "\uac00" <= ch <= "\ud7af":
            counts["ko"] += 1
        elif "\u0400" <= ch <= "\u04ff":
            counts["ru"] += 1
        elif (ch.isalpha() and ch.isascii()) or ch in GERMAN_CHARS:
            counts["latin"] += 1
    if counts["ja"] and counts["ja"] * 5 >= counts["zh"]:
        return "ja"  # kana is decisive: Japanese mixes Han and kana
    best = max(counts, key=lambda k: counts[k])
    if counts[best] == 0:
        return "unknown"
    if best == "latin":
        words = re.findall(r"[^\W\d_]+", text.lower())
        german = sum(w in GERMAN_FUNCTION_WORDS for w in words)
        if any(ch in GERMAN_CHARS for ch in text) or (words and german / len(words) >= 0.15):
            return "de"
    return best


def source_language(text: str, lang: str | None = None) -> str:
    """'zh' / 'ru' / 'de' / ... from a BCP-47-ish tag, else guessed from the text's script."""
    return lang_code(lang) or detect_script(text)


def english_warnings(text: str) -> list[str]:
    """Warn when the text does not look like English (mtqa's model reads English)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return ["the text has no letters: nothing here looks like English"]
    latin = sum(ch.isascii() for ch in letters) / len(letters)
    words = LATIN_WORD_RE.findall(text)
    if latin < 0.6 or not words:
        return [f"only {latin:.0%} of the letters are Latin: this does not look like English"]
    from .frequency import word_frequency

    known = sum(word_frequency(w.lower()) > 1e-6 for w in words[:2000]) / min(len(words), 2000)
    if known < 0.5:
        return [f"only {known:.0%} of the words are English words: scores may be meaningless"]
    return []


#: Source languages mtqa can read (script detection, sentence splitting, number formats).
KNOWN_LANGUAGES = frozenset(
    "zh ja ko ru de en fr es it pl bg nl da el fa uk cs pt sv fi tr ar hi".split()
)


def check_source_lang(lang: str | None) -> None:
    """Refuse a `--source-lang` mtqa does not know, instead of silently guessing."""
    code = lang_code(lang)
    if code is not None and code not in KNOWN_LANGUAGES:
        from .errors import UsageError

        raise UsageError(
            f"--source-lang {lang}: unknown language (known: {', '.join(sorted(KNOWN_LANGUAGES))})"
        )
