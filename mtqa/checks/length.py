"""Length check: a target much shorter or longer than its source predicts."""

from __future__ import annotations

import math

from ..core.language import HAN_RE, source_language
from ..core.result import Span

# zh->en, measured on MQM train (shared/data/mqm/train.jsonl, 6,130 rows: every system except the
# `metricsystem*` extras; 2021 sentences and 2023 paragraphs). Expected target length in
# non-space characters = 3.73 * Han characters + 1.00 * other non-space source characters
# (weights by minimising mean |log(target/expected)| with Nelder-Mead; median residual 0.001).
# The residual's robust spread (1.4826 * MAD) shrinks with length; fitting it over 12 length
# quantile bins gives sigma^2 = 0.0101 + 0.779 / n, n = non-space source characters
# (sigma 0.27 at n=13, 0.17 at n=40, 0.13 at n=110). |z| > 3 flags 0.96% of train rows
# (0.85% short, 0.11% long); their mean MQM is 6.0 (short) and 11.5 (long) vs 4.8 elsewhere.
_ZH_HAN_WEIGHT = 3.73
_ZH_OTHER_WEIGHT = 1.00
_SIGMA2_FLOOR = 0.0101
_SIGMA2_PER_CHAR = 0.779
# ru->en and de->en: no parallel data here, so these are priors, not measurements: English is
# ~5-10% shorter than Russian/German in characters. One Han character carries about as much as
# 3.73 Latin/Cyrillic characters, so the length term of the spread is scaled by that.
_LATIN_RATIOS = {"ru": 0.95, "de": 0.90}
_LATIN_SIGMA2_PER_CHAR = _SIGMA2_PER_CHAR * _ZH_HAN_WEIGHT
_LENGTH_Z = 3.0


def _nonspace(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def expected_length(source: str, source_lang: str | None) -> tuple[float, float] | None:
    """(expected target non-space chars, sigma of the log ratio) or None for unknown pairs."""
    lang = source_language(source, source_lang)
    n = _nonspace(source)
    if n == 0:
        return None
    if lang == "zh":
        han = len(HAN_RE.findall(source))
        expected = _ZH_HAN_WEIGHT * han + _ZH_OTHER_WEIGHT * (n - han)
        return expected, math.sqrt(_SIGMA2_FLOOR + _SIGMA2_PER_CHAR / n)
    if lang in _LATIN_RATIOS:
        sigma = math.sqrt(_SIGMA2_FLOOR + _LATIN_SIGMA2_PER_CHAR / n)
        return _LATIN_RATIOS[lang] * n, sigma
    return None


def length_z(target: str, source: str, source_lang: str | None = None) -> float | None:
    """Robust z-score of log(target length / expected length); None for an unknown language
    pair or an empty side. Negative: shorter than the source predicts (possible omission)."""
    expectation = expected_length(source, source_lang)
    n_target = _nonspace(target)
    if expectation is None or n_target == 0:
        return None
    expected, sigma = expectation
    return math.log(n_target / expected) / sigma


def check_length(
    target: str, source: str, source_lang: str | None = None, offset: int = 0
) -> list[Span]:
    """Flag a target whose length is > 3 robust sigmas off what the source length predicts."""
    expectation = expected_length(source, source_lang)
    z = length_z(target, source, source_lang)
    if expectation is None or z is None or abs(z) <= _LENGTH_Z:
        return []
    n_target = _nonspace(target)
    expected = expectation[0]
    if z < 0:
        message = "Translation much shorter than the source: possible omission"
    else:
        message = "Translation much longer than the source: possible addition"
    start = len(target) - len(target.lstrip())
    end = len(target.rstrip())
    message += f" ({n_target} characters, about {expected:.0f} expected)."
    return [Span(offset + start, offset + end, target[start:end], "minor", "length", message)]
