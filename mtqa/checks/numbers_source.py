"""Numbers in a source text by its language's conventions: Chinese numerals and 万/亿 units,
Russian/German separators and number words."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from ..core.language import source_language
from .numbers_en import FULLWIDTH, NumberMention, target_numbers

_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG_UNITS = {"万": 1e4, "亿": 1e8}
_ZH_UNIT_SUFFIX = {
    "千万": 1e7,
    "百万": 1e6,
    "万亿": 1e12,
    "亿": 1e8,
    "万": 1e4,
    "千": 1e3,
    "百": 1e2,
}
_ZH_NUM_RE = re.compile(
    r"(?P<pct>百分之)?(?:"
    r"(?<![A-Za-z.\d])(?<![A-Za-z]-)(?P<arabic>(?>\d+(?:,\d{3})*(?:\.\d+)?))(?![A-Za-z\d])"
    r"(?:\s*[多余近]?\s*(?P<aunit>千万|百万|万亿|亿|万|千|百))?"
    r"|(?P<han>[零〇一二两三四五六七八九十百千万亿]+))"
)

_EU_SEPARATORS = " \u00a0\u202f\u2009"
_EU_NUM_RE = re.compile(
    r"(?<![\w.,])(?<![^\W\d_]-)"
    r"(?P<num>(?>\d{1,3}(?:[ \u00a0\u202f\u2009.]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?))"
    r"(?![A-Za-z\d]|[.,]\d)"
    r"(?:[\s\u00a0]*(?P<scale>"
    r"тыс\.?|тысяч[аиу]?|млн\.?|миллион(?:а|ов)?|млрд\.?|миллиард(?:а|ов)?|трлн\.?|триллион(?:а|ов)?"
    r"|Tsd\.|Tausend|Mio\.|Million(?:en)?|Mrd\.|Milliarde(?:n)?|Bio\.|Billion(?:en)?"
    r")(?!\w))?",
)
_EU_SCALE_PREFIXES = (
    ("тыс", 1e3),
    ("млн", 1e6),
    ("миллион", 1e6),
    ("млрд", 1e9),
    ("миллиард", 1e9),
    ("трлн", 1e12),
    ("триллион", 1e12),
    ("tsd", 1e3),
    ("tausend", 1e3),
    ("mio", 1e6),
    ("million", 1e6),
    ("mrd", 1e9),
    ("milliarde", 1e9),
    ("bio", 1e12),
    ("billion", 1e12),  # German "Billion" is 10^12
)
# German and Russian number words (common forms only): weak, they only help matching.
_EU_WORD_FORMS = {
    2: "zwei два две двух двум двумя",
    3: "drei три трёх трех трем трём тремя",
    4: "vier четыре четырёх четырех",
    5: "fünf пять пяти",
    6: "sechs шесть шести",
    7: "sieben семь семи",
    8: "acht восемь восьми",
    9: "neun девять девяти",
    10: "zehn десять десяти",
    11: "elf одиннадцать",
    12: "zwölf dutzend двенадцать",
    15: "fünfzehn пятнадцать",
    16: "sechzehn шестнадцать",
    20: "zwanzig двадцать двадцати",
    30: "dreißig тридцать",
    50: "fünfzig пятьдесят",
    100: "hundert сто",
    1000: "tausend тысяча",
}
_EU_WORDS = {w: float(v) for v, forms in _EU_WORD_FORMS.items() for w in forms.split()}
# Dotted dates (3.10.2021, 03.10.21): day, month and year are three numbers.
_EU_DATE_RE = re.compile(r"(?<![\w.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?![\w]|[.,]\d)")
_EU_WORD_RE = re.compile(r"[^\W\d_]+")


def _parse_zh_positional(run: str) -> float | None:
    """Value of a positional Chinese numeral ("一千八百二十七", "三亿五千万"); None if malformed.

    Malformed means two digits in a row ("一五一十") or units out of order ("千百"): idioms and
    digit lists, not quantities.
    """
    result = section = 0.0
    number: float | None = None
    last_unit = math.inf
    for ch in run:
        if ch in _ZH_DIGITS:
            if number is not None and number != 0 and _ZH_DIGITS[ch] != 0:
                return None
            number = float(_ZH_DIGITS[ch])
        elif ch in _ZH_SMALL_UNITS:
            unit = _ZH_SMALL_UNITS[ch]
            if unit >= last_unit:
                return None
            section += (number if number else 1.0) * unit
            number, last_unit = None, unit
        else:
            big = _ZH_BIG_UNITS[ch]
            amount = section + (number or 0.0)
            if big == 1e4:
                if amount == 0 and result == 0:
                    amount = 1.0  # bare 万 = 10,000
                result += amount * big
            else:
                result = ((result + amount) or 1.0) * big  # 亿 / 万亿 / 三亿
            section, number, last_unit = 0.0, None, math.inf
    return result + section + (number or 0.0)


def _zh_han_mention(text: str, start: int, run: str, pct: str) -> NumberMention | None:
    """Classify a run of Chinese numerals; lone 一 and idioms never become strong numbers."""
    end = start + len(run)
    span_start = start - len(pct)
    has_unit = any(ch in _ZH_SMALL_UNITS or ch in _ZH_BIG_UNITS for ch in run)
    digits_only = all(ch in _ZH_DIGITS for ch in run)
    units_only = all(ch not in _ZH_DIGITS for ch in run)

    def mention(values: tuple[float, ...], strong: bool) -> NumberMention:
        return NumberMention(span_start, end, text[span_start:end], values, strong)

    if len(run) == 1:
        if run == "一" and not (start > 0 and text[start - 1] == "第") and not pct:
            return None  # 一些, 一起, 统一, 一直 ...: "a"/"one" inside words, not a number
        value = _parse_zh_positional(run)
        return mention((value,), strong=bool(pct)) if value is not None else None
    if units_only:
        value = _parse_zh_positional(run)  # 百万, 千万, 万亿: "millions", often figurative
        return mention((value,), strong=False) if value is not None else None
    if digits_only:
        reads_as_year = "两" not in run and (
            "〇" in run or "零" in run or text[end : end + 1] == "年"
        )
        if reads_as_year:  # 二〇二一年
            return mention((float("".join(str(_ZH_DIGITS[c]) for c in run)),), strong=True)
        # 三四 ("three or four"), 一一, 三三两两: approximate ranges and idioms; 九二共识 is
        # "the 1992 Consensus", so two-digit runs also keep their year readings.
        digits = [float(_ZH_DIGITS[c]) for c in run]
        if len(run) == 2:
            both = 10 * digits[0] + digits[1]
            digits += [both, 1900 + both, 2000 + both]
        return mention(tuple(dict.fromkeys(digits)), strong=False)
    value = _parse_zh_positional(run) if run[0] not in "百千万亿" else None  # 万一 = "in case"
    if value is not None and has_unit:
        return mention((value,), strong=True)
    # Malformed ("十四五" = the 14th Five-Year Plan): keep the readings of its parts, weakly.
    parts = [_parse_zh_positional(run[:i]) for i in range(1, len(run))]
    parts += [_parse_zh_positional(run[i:]) for i in range(1, len(run))]
    readings = tuple(v for v in parts if v is not None)
    return mention(readings, strong=False) if readings else None


def _zh_numbers(text: str) -> list[NumberMention]:
    found: list[NumberMention] = []
    for m in _ZH_NUM_RE.finditer(text):
        pct = m["pct"] or ""
        if m["arabic"]:
            base = float(m["arabic"].replace(",", ""))
            values: tuple[float, ...] = (base,)
            if m["aunit"]:
                values = (base * _ZH_UNIT_SUFFIX[m["aunit"]], base)
            # A bare 1 or 0 is usually rendered "a"/"one"/"single" or dropped (1美元兑7元).
            strong = bool(m["aunit"] or pct) or base not in (0.0, 1.0)
            found.append(NumberMention(m.start(), m.end(), m.group(), values, strong=strong))
            continue
        han_mention = _zh_han_mention(text, m.start("han"), m["han"], pct)
        if han_mention is not None:
            found.append(han_mention)
    return found


def _eu_values(num: str) -> tuple[float, ...]:
    """Readings of a Russian/German formatted number; ambiguous forms keep both readings."""
    grouped_by_space = any(sep in num for sep in _EU_SEPARATORS)
    compact = num
    for sep in _EU_SEPARATORS:
        compact = compact.replace(sep, "")
    readings: list[float] = []
    if "." in compact and "," in compact:  # 1.827,5
        readings.append(float(compact.replace(".", "").replace(",", ".")))
    elif "," in compact:
        readings.append(float(compact.replace(",", ".")))  # 3,5 = 3.5
        head, tail = compact.split(",")
        if len(tail) == 3:
            readings.append(float(head + tail))  # 1,827 written the English way
    elif "." in compact:
        parts = compact.split(".")
        if all(len(p) == 3 for p in parts[1:]):
            readings.append(float("".join(parts)))  # de 1.827 = 1827
        if len(parts) == 2:
            readings.append(float(compact))  # 3.5 written the English way
    else:
        readings.append(float(compact))
    if grouped_by_space:  # "с 1 827" vs a list "1 827": keep the pieces as readings too
        readings.extend(float(p) for p in re.split(f"[{_EU_SEPARATORS}]", num) if p.isdigit())
    return tuple(dict.fromkeys(readings))


def _eu_numbers(text: str) -> list[NumberMention]:
    found: list[NumberMention] = []
    for m in _EU_NUM_RE.finditer(text):
        values = _eu_values(m["num"])
        if m["scale"]:
            key = m["scale"].lower()
            factor = next(f for prefix, f in _EU_SCALE_PREFIXES if key.startswith(prefix))
            values = tuple(v * factor for v in values) + values
        found.append(NumberMention(m.start(), m.end(), m.group(), values, strong=True))
    for d in _EU_DATE_RE.finditer(text):
        year = float(d[3]) if len(d[3]) == 4 else 2000.0 + float(d[3])
        for group, values in ((1, (float(d[1]),)), (2, (float(d[2]),)), (3, (year, float(d[3])))):
            found.append(NumberMention(d.start(group), d.end(group), d[group], values, strong=True))
    for w in _EU_WORD_RE.finditer(text):
        word = w.group()
        value = _EU_WORDS.get(word.lower())
        if value is not None:
            found.append(NumberMention(w.start(), w.end(), word, (value,), strong=False))
    return sorted(found, key=lambda n: n.start)


def source_numbers(text: str, lang: str | None = None) -> list[NumberMention]:
    """Numbers in a source text, read by the conventions of its language (detected if None)."""
    lang = source_language(text, lang)
    normalised = text.translate(FULLWIDTH)
    if lang in ("zh", "ja"):
        found = _zh_numbers(normalised)
    elif lang in ("ru", "de", "uk", "bg", "fr", "es", "it", "pl", "cs"):
        found = _eu_numbers(normalised)
    else:
        found = target_numbers(normalised)  # English-style formatting
    return [replace(m, text=text[m.start : m.end]) for m in found]
