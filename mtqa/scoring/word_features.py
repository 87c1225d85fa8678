"""Per-word features for the learned word-level error detector (`detector.py`).

Pure functions over what one LM pass already gives (`TokenScores` with top-k log-probs and
hidden states) and one segment's `Word`s: surprisal and its parts, the model's uncertainty at
the word (entropy, rank, gap to its favourite), what follows it, word class, position, and
the same for its neighbours. Cheap numpy; the only model work is the LM pass done before.

Coordinates: `words` are the document-coordinate words from `mtqa.scoring.signals.words_of` for ONE
segment (the same `text` as `scores`), `seg_start`/`seg_end` are that segment's offsets.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..models import TokenScores
from .signals import FUNCTION_WORD_BITS, LN2, TokensByLastChar, Word

PUNCT = set(".,;:!?")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_LATIN = re.compile(r"[A-Za-z]")

#: Names of the base (single-word) features, in column order.
BASE_FEATURES: tuple[str, ...] = (
    "surprisal",
    "first_bits",
    "max_tok_bits",
    "n_subwords",
    "unigram",
    "anomaly",
    "entropy",
    "top1_bits",
    "gap_first",
    "log_rank",
    "in_topk",
    "resid_mass",
    "mean_gap",
    "next1_bits",
    "next3_bits",
    "next3_gap",
    "kind_lower",
    "kind_name",
    "kind_number",
    "kind_initial",
    "function_word",
    "n_chars",
    "all_caps",
    "has_joiner",
    "rel_pos",
    "is_last",
    "punct_after",
    "punct_before",
    "seg_log_words",
    "seg_mean_surprisal",
    "surprisal_z",
    "repeat_earlier",
    "repeat_prev",
    "src_given",
    "num_unsupported",
    "latin_in_source",
)

#: Base features that are also copied from the neighbours at offsets -2, -1, +1, +2.
NEIGHBOUR_FEATURES: tuple[str, ...] = (
    "surprisal",
    "anomaly",
    "gap_first",
    "entropy",
    "log_rank",
    "unigram",
    "kind_lower",
    "kind_name",
    "function_word",
    "next1_bits",
)
OFFSETS: tuple[int, ...] = (-2, -1, 1, 2)


def word_tokens(scores: TokenScores, words: list[Word]) -> list[np.ndarray]:
    """Token indices of each word: the tokens whose last character lies inside it (as
    `signals.words_of` assigns them)."""
    lookup = TokensByLastChar(scores)
    out = []
    for w in words:
        toks = np.sort(lookup.within(w.start, w.end))
        out.append(toks if toks.size else np.array([w.first_token]))
    return out


def entropy_bits(top_lp: np.ndarray) -> np.ndarray:
    """Entropy (bits) approximated from the top-k distribution plus its leftover mass, spread
    as if over one more outcome with the leftover's probability (a lower bound, monotone)."""
    p = np.exp(top_lp.astype(np.float64))
    resid = np.clip(1.0 - p.sum(1), 1e-9, 1.0)
    h = -(p * top_lp).sum(1) - resid * np.log(resid)
    return (h / LN2).astype(np.float32)


def token_columns(scores: TokenScores) -> tuple[np.ndarray, ...]:
    """Per token: surprisal (bits), the likeliest token's, the gap between them, the top-k
    entropy (bits) and the probability mass outside the top k: what word features read."""
    bits = (-scores.logprob / LN2).astype(np.float32)
    top_bits = (-scores.top_logprob[:, 0] / LN2).astype(np.float32)
    resid = 1.0 - np.exp(scores.top_logprob.astype(np.float64)).sum(1)
    return bits, top_bits, bits - top_bits, entropy_bits(scores.top_logprob), resid


def source_flags(word: str, kind: str, source: str | None) -> tuple[float, float, float]:
    """(source given, number not found in source, Latin word found in source)."""
    if source is None:
        return 0.0, 0.0, 0.0
    unsupported = 0.0
    if kind == "number":
        digits = _DIGITS.findall(word)
        src_digits = set(d.replace(",", "") for d in _DIGITS.findall(source))
        if digits and not all(d.replace(",", "") in src_digits for d in digits):
            unsupported = 1.0
    latin = 1.0 if _LATIN.search(word) and word.lower() in source.lower() else 0.0
    return 1.0, unsupported, latin


def word_features(
    text: str,
    scores: TokenScores,
    words: list[Word],
    seg_start: int,
    seg_end: int,
    source: str | None = None,
) -> np.ndarray:
    """[n_words, len(BASE_FEATURES)] float32 features of one segment's words."""
    n = len(words)
    out = np.zeros((n, len(BASE_FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    bits, top_bits, gap, ent, resid = token_columns(scores)
    k = scores.top_ids.shape[1]
    toks = word_tokens(scores, words)
    n_tok = len(scores)
    surprisals = np.array([w.surprisal for w in words], dtype=np.float32)
    seg_mean = float(surprisals.mean())
    seg_std = float(surprisals.std()) + 1.0
    seen: set[str] = set()
    for i, (w, t) in enumerate(zip(words, toks, strict=True)):
        f0 = int(t[0])
        hits = np.nonzero(scores.top_ids[f0] == scores.ids[f0])[0]
        rank = int(hits[0]) if hits.size else k
        after = np.arange(int(t[-1]) + 1, min(n_tok, int(t[-1]) + 4))
        lower = w.text.lower()
        before_char = text[w.start - 1] if w.start - 1 >= seg_start else " "
        after_char = text[w.end] if w.end < seg_end else " "
        row = {
            "surprisal": w.surprisal,
            "first_bits": bits[f0],
            "max_tok_bits": bits[t].max(),
            "n_subwords": float(t.size),
            "unigram": w.unigram,
            "anomaly": w.anomaly,
            "entropy": ent[f0],
            "top1_bits": top_bits[f0],
            "gap_first": gap[f0],
            "log_rank": math.log1p(rank),
            "in_topk": float(rank < k),
            "resid_mass": resid[f0],
            "mean_gap": gap[t].mean(),
            "next1_bits": bits[after[0]] if after.size else 0.0,
            "next3_bits": bits[after].sum() if after.size else 0.0,
            "next3_gap": gap[after].sum() if after.size else 0.0,
            "kind_lower": float(w.kind == "lower"),
            "kind_name": float(w.kind == "name"),
            "kind_number": float(w.kind == "number"),
            "kind_initial": float(w.kind == "initial"),
            "function_word": float(w.unigram < FUNCTION_WORD_BITS),
            "n_chars": float(len(w.text)),
            "all_caps": float(w.text.isupper() and len(w.text) > 1),
            "has_joiner": float(any(c in w.text for c in "-'’.")),
            "rel_pos": i / max(1, n - 1),
            "is_last": float(i == n - 1),
            "punct_after": float(after_char in PUNCT),
            "punct_before": float(before_char in PUNCT),
            "seg_log_words": math.log1p(n),
            "seg_mean_surprisal": seg_mean,
            "surprisal_z": (w.surprisal - seg_mean) / seg_std,
            "repeat_earlier": float(lower in seen and w.unigram >= FUNCTION_WORD_BITS),
            "repeat_prev": float(i > 0 and words[i - 1].text.lower() == lower),
        }
        src = source_flags(w.text, w.kind, source)
        row["src_given"], row["num_unsupported"], row["latin_in_source"] = src
        seen.add(lower)
        out[i] = [row[name] for name in BASE_FEATURES]
    return out


def word_hidden(scores: TokenScores, words: list[Word]) -> np.ndarray:
    """[n_words, d] final hidden state after each word's last token."""
    assert scores.hidden is not None
    toks = word_tokens(scores, words)
    idx = np.array([int(t[-1]) for t in toks], dtype=np.int64)
    return scores.hidden[idx] if idx.size else np.zeros((0, scores.hidden.shape[1]), np.float32)


def with_neighbours(base: np.ndarray) -> np.ndarray:
    """Base features plus NEIGHBOUR_FEATURES of words at OFFSETS (zeros and an 'absent' flag
    past the segment's edges) plus segment maxima of surprisal/anomaly/gap."""
    n = base.shape[0]
    cols = [BASE_FEATURES.index(name) for name in NEIGHBOUR_FEATURES]
    sub = base[:, cols]
    parts = [base]
    for off in OFFSETS:
        shifted = np.zeros_like(sub)
        present = np.zeros((n, 1), dtype=np.float32)
        src = np.arange(n) + off
        ok = (src >= 0) & (src < n)
        shifted[ok] = sub[src[ok]]
        present[ok] = 1.0
        parts += [shifted, present]
    seg = np.zeros((n, 3), dtype=np.float32)
    if n:
        for j, name in enumerate(("surprisal", "anomaly", "gap_first")):
            col = base[:, BASE_FEATURES.index(name)]
            seg[:, j] = col - col.max()  # how far below the segment's worst word
    parts.append(seg)
    return np.hstack(parts).astype(np.float32)


def feature_names() -> list[str]:
    names = list(BASE_FEATURES)
    for off in OFFSETS:
        names += [f"{name}@{off:+d}" for name in NEIGHBOUR_FEATURES] + [f"present@{off:+d}"]
    names += ["surprisal_below_max", "anomaly_below_max", "gap_below_max"]
    return names
