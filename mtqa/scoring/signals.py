"""Token log-probs -> word surprisal corrected for word rarity -> per-sentence features.

Word surprisal is the sum of its subword tokens' surprisal (bits). A word can be surprising
because it is wrong here or because it is rare anywhere (a name, a number); the second kind is
discounted by subtracting `alpha` times its unigram surprisal (from `wordfreq`), the idea behind
SLOR. `anomaly` is what is left: how much more surprising the word is here than usual.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..core.frequency import word_frequency
from ..core.segment import Segment
from ..core.timing import timed
from ..models import TokenScores

LN2 = math.log(2)
WORD = re.compile(r"\w+(?:[’'\-.]\w+)*")
MIN_FREQ = 1e-8  # floor for unseen words: 26.6 bits
ANOMALOUS_BITS = 12.0  # a word this anomalous counts towards `share_anomalous`
FUNCTION_WORD_BITS = 9.0  # unigram surprisal below this: a very common (function) word

#: Feature names, in the order the calibrated model uses them.
FEATURES = (
    "n_words",
    "log_words",
    "mean_surprisal",
    "total_surprisal",
    "max_anomaly",
    "second_anomaly",
    "mean_anomaly",
    "share_anomalous",
    "max_anomaly_lower",
    "max_phrase_anomaly",
    "mean_slor",
    "first_token_surprisal",
    "share_names",
    "share_numbers",
)


@dataclass
class Word:
    """One word of the document and the evidence about it."""

    start: int
    end: int
    text: str
    surprisal: float  # bits, sum over its tokens
    unigram: float  # bits, -log2 of its frequency in English
    anomaly: float  # surprisal - alpha * unigram
    kind: str  # "lower", "name", "number", "initial" (first word of a sentence)
    first_token: int  # index of its first token in the TokenScores


@lru_cache(maxsize=200_000)
def unigram_bits(word: str) -> float:
    return -math.log2(max(word_frequency(word), MIN_FREQ))


def word_kind(text: str, sentence_initial: bool) -> str:
    if any(ch.isdigit() for ch in text):
        return "number"
    if sentence_initial:
        return "initial"
    if text[:1].isupper():
        return "name"
    return "lower"


def anomaly(surprisal: float, unigram: float, kind: str, alpha: float) -> float:
    """Surprisal left after discounting rarity; names are discounted in full (plain SLOR)."""
    return surprisal - (unigram if kind == "name" else alpha * unigram)


class TokensByLastChar:
    """Which tokens end inside a stretch of text: a word owns the tokens whose last character
    lies inside it (the one mapping words_of and the detector's word features share)."""

    def __init__(self, scores: TokenScores) -> None:
        last_char = scores.ends - 1
        self.order = np.argsort(last_char, kind="stable")
        self.sorted_last = last_char[self.order]

    def within(self, start: int, end: int) -> np.ndarray:
        lo = np.searchsorted(self.sorted_last, start, side="left")
        hi = np.searchsorted(self.sorted_last, end, side="left")
        return np.asarray(self.order[lo:hi])


@timed("word mapping")
def words_of(
    text: str, scores: TokenScores, segments: list[Segment], alpha: float
) -> list[list[Word]]:
    """Words of each segment with surprisal from the tokens ending inside them."""
    tokens = TokensByLastChar(scores)
    bits = -scores.logprob / LN2
    result: list[list[Word]] = []
    for seg in segments:
        seg_words: list[Word] = []
        for match in WORD.finditer(text, seg.start, seg.end):
            toks = tokens.within(match.start(), match.end())
            if toks.size == 0:
                continue
            surprisal = float(bits[toks].sum())
            word = match.group()
            unigram = unigram_bits(word.lower())
            kind = word_kind(word, sentence_initial=not seg_words)
            seg_words.append(
                Word(
                    match.start(),
                    match.end(),
                    word,
                    surprisal,
                    unigram,
                    anomaly(surprisal, unigram, kind, alpha),
                    kind,
                    int(toks.min()),
                )
            )
        result.append(seg_words)
    return result


@timed("word mapping")
def with_alpha(words: list[Word], alpha: float) -> list[Word]:
    """The same words with their anomaly recomputed for another rarity discount `alpha`."""
    return [replace(w, anomaly=anomaly(w.surprisal, w.unigram, w.kind, alpha)) for w in words]


def segment_tokens(scores: TokenScores, seg: Segment) -> slice:
    """The tokens that overlap a segment, as a slice (tokens run in text order, so they are
    contiguous): found by binary search, so a document of many sentences costs no more per
    sentence than a short one."""
    first = int(np.searchsorted(scores.ends, seg.start, side="right"))
    stop = int(np.searchsorted(scores.starts, seg.end, side="left"))
    return slice(first, max(first, stop))


@timed("features")
def sentence_features(words: list[Word], bits: np.ndarray) -> dict[str, float]:
    """Interpretable features of one sentence (see FEATURES) from its words and the
    surprisal (bits) of its tokens."""
    n_words = len(words)
    anomalies = sorted((w.anomaly for w in words), reverse=True)
    lower = [w.anomaly for w in words if w.kind == "lower"]
    slor = [(w.unigram - w.surprisal) for w in words]
    return {
        "n_words": float(n_words),
        "log_words": math.log1p(n_words),
        "mean_surprisal": float(bits.mean()) if bits.size else 0.0,
        "total_surprisal": float(bits.sum()),
        "max_anomaly": anomalies[0] if anomalies else 0.0,
        "second_anomaly": anomalies[1] if len(anomalies) > 1 else 0.0,
        "mean_anomaly": float(np.mean(anomalies)) if anomalies else 0.0,
        "share_anomalous": (
            sum(a > ANOMALOUS_BITS for a in anomalies) / n_words if n_words else 0.0
        ),
        "max_anomaly_lower": max(lower) if lower else 0.0,
        "max_phrase_anomaly": max_phrase_anomaly(words),
        "mean_slor": float(np.mean(slor)) if slor else 0.0,
        "first_token_surprisal": words[0].surprisal if words else 0.0,
        "share_names": sum(w.kind == "name" for w in words) / n_words if n_words else 0.0,
        "share_numbers": sum(w.kind == "number" for w in words) / n_words if n_words else 0.0,
    }


def max_phrase_anomaly(words: list[Word], width: int = 3) -> float:
    """Largest summed positive anomaly over `width` consecutive non-name words.

    Lossy MT garbles phrases ("game skills about", "hard ball demand"): several moderately
    surprising words in a row, where a single rare word would not stand out.
    """
    gains = [max(0.0, w.anomaly) if w.kind in ("lower", "initial") else 0.0 for w in words]
    best = 0.0
    for i in range(len(gains)):
        best = max(best, sum(gains[i : i + width]))
    return best
