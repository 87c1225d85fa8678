"""Numbers in English text: digits with separators and scales, number words, months."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NumberMention:
    """A number found in a text.

    `values` holds every reading the surface form allows (ambiguous formats such as de "1.827"
    or en "150m" give several); `strong` mentions (digits, multi-character numerals) may be
    flagged or reported, weak ones (number words, lone numerals, months) only ever help match.
    """

    start: int
    end: int
    text: str
    values: tuple[float, ...]
    strong: bool


# Full-width digits and decimal point/percent map 1:1, so offsets are preserved.
FULLWIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": ".", "％": "%"})

_EN_SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
}
# Attached abbreviations: "$5bn", "150m" ("m"/"k" may also be metres/kilo-: keep both readings).
_EN_SUFFIX_SCALES: dict[str, tuple[float, ...]] = {
    "bn": (1e9,),
    "mn": (1e6,),
    "mln": (1e6,),
    "tn": (1e12,),
    "trn": (1e12,),
    "m": (1e6, 1.0),
    "k": (1e3, 1.0),
}
_CURRENCY_CODES = "USD RMB CNY HKD EUR GBP JPY AUD CAD SGD CHF RUB".split()
_EN_DIGIT_RE = re.compile(
    # Not inside a token ("COVID-19", "F-16", "G20"), but "RMB30,000" and "USD11" are numbers.
    r"(?:" + "".join(f"(?<={code})|" for code in _CURRENCY_CODES) + r"(?<![\w.,])(?<![A-Za-z]-))"
    r"(?P<num>(?>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?))"
    r"(?P<suffix>st|nd|rd|th|s|['’]s|bn|mn|mln|trn|tn|m|k)?"
    r"(?![\w]|[.,]\d)"
    r"(?:[\s-]*(?P<scale>hundred|thousand|million|billion|trillion)\b)?"
    r"(?:\s*(?:%|percent\b|per\s+cent\b))?",
    re.IGNORECASE,
)
_EN_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split()
)
_EN_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
)
_EN_WORD_VALUES: dict[str, float] = {
    **{w: float(i) for i, w in enumerate(_EN_SMALL)},
    **{w: float(20 + 10 * i) for i, w in enumerate(_EN_TENS)},
    **{w: float(i + 1) for i, w in enumerate(_EN_ORDINALS)},
    "dozen": 12.0,
}
_EN_WORD_RE = re.compile(
    r"\b(?:(?P<tens>"
    + "|".join(_EN_TENS)
    + r")(?:[-\s](?P<unit>"
    + "|".join(_EN_SMALL[1:10])
    + r")\b)?|(?P<word>"
    + "|".join(_EN_SMALL + _EN_ORDINALS + ["dozen"])
    + r"))\b"
    r"(?:\s+(?P<scale>hundred|thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)
_MONTHS = (
    "january february march april may june july august september october november december".split()
)
_EN_SCALE_WORD_RE = re.compile(r"hundred|thousand|million|billion|trillion", re.IGNORECASE)
_RANGE_JOIN_RE = re.compile(r"\s*(?:-|–|—|to|and|or)\s*")
_TIME_MINUTES_RE = re.compile(r"\d:\s?\Z")
_EN_MONTH_RE = re.compile(
    r"\b(?:(?P<full>" + "|".join(_MONTHS) + r")|(?P<abbr>Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec)\.)",
    re.IGNORECASE,
)


def _en_digit_values(num: str, suffix: str | None, scale: str | None) -> tuple[float, ...]:
    base = float(num.replace(",", ""))
    factors: tuple[float, ...] = (1.0,)
    if suffix and suffix.lower() in _EN_SUFFIX_SCALES:
        factors = _EN_SUFFIX_SCALES[suffix.lower()]
    if scale:
        factors = tuple(f * _EN_SCALES[scale.lower()] for f in factors)
    return tuple(base * f for f in factors)


def _en_digit_mention(original: str, text: str, m: re.Match[str]) -> NumberMention:
    values = _en_digit_values(m["num"], m["suffix"], m["scale"])
    if (m["suffix"] or "").lower() in ("s", "'s", "’s") and len(m["num"]) == 4:
        values += (float(m["num"][2:]),)  # the 1980s = 80年代
    # Minutes of a clock time ("22:00", "4: 30") are too often rephrased (半, 整) to flag.
    strong = not _TIME_MINUTES_RE.search(text, 0, m.start())
    return NumberMention(m.start(), m.end(), original[m.start() : m.end()], values, strong)


def _share_range_scale(found: list[NumberMention], text: str) -> list[NumberMention]:
    """'4 to 6 million': the bare first number of a range also reads with the second's scale."""
    out = list(found)
    for i, (first, second) in enumerate(zip(found, found[1:], strict=False)):
        scale = _EN_SCALE_WORD_RE.search(second.text)
        between = text[first.end : second.start]
        if scale and not _EN_SCALE_WORD_RE.search(first.text) and _RANGE_JOIN_RE.fullmatch(between):
            factor = _EN_SCALES[scale.group().lower()]
            out[i] = NumberMention(
                first.start,
                first.end,
                first.text,
                first.values + tuple(v * factor for v in first.values),
                first.strong,
            )
    return out


def target_numbers(text: str) -> list[NumberMention]:
    """Numbers in an English (target) text: digits, number words, ordinals and month names."""
    original, text = text, text.translate(FULLWIDTH)
    found = [_en_digit_mention(original, text, m) for m in _EN_DIGIT_RE.finditer(text)]
    found = _share_range_scale(found, text)
    for m in _EN_WORD_RE.finditer(text):
        if m["tens"]:
            value = _EN_WORD_VALUES[m["tens"].lower()]
            value += _EN_WORD_VALUES[m["unit"].lower()] if m["unit"] else 0.0
        else:
            value = _EN_WORD_VALUES[m["word"].lower()]
        scale = _EN_SCALES[m["scale"].lower()] if m["scale"] else None
        values = (value * scale, value) if scale else (value,)
        # "two million" names a specific quantity; a bare "one"/"second" is too often not a number.
        strong = scale is not None and scale >= 1e3
        found.append(NumberMention(m.start(), m.end(), m.group(), values, strong=strong))
    for m in _EN_MONTH_RE.finditer(text):
        name = (m["full"] or m["abbr"]).lower()[:3]
        month = next(i + 1 for i, full in enumerate(_MONTHS) if full.startswith(name))
        found.append(NumberMention(m.start(), m.end(), m.group(), (float(month),), strong=False))
    return sorted(found, key=lambda n: n.start)
