"""Peer context: judge a translation against other systems' translations of the same source.

When several systems translate the same test-set item (a batch over systems, MQM-style data),
a translation that strays from what its peers wrote is more often wrong: consensus, the idea
behind minimum-Bayes-risk QE. Two kinds of signal come out of a group of candidates:

* ``peer_*``: agreement with the others (mean and best sentence chrF, mean cosine under the
  multilingual sentence encoder, length against the peers' median, how many of its content
  words the peers also use);
* ``rel_*``: each of the sentence's own signals and each ``peer_`` signal minus the item's mean,
  so the calibrated model compares translations of the same sentence rather than sentences of
  different difficulty.

Content words that no more than a fifth of the peers use become "mistranslation" spans.
A group needs at least ``MIN_CANDIDATES`` translations; smaller groups keep their own judgement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..core.config import Config
from ..core.frequency import zipf_frequency
from ..core.result import Span, Suggestion
from ..source import distinct_vectors
from .judge import led_by

MIN_CANDIDATES = 3
PEER_FEATURES = (
    "peer_chrf",
    "peer_chrf_max",
    "peer_cosine",
    "peer_length_z",
    "peer_support",
    "peer_support_low",
    "peer_unsupported",
)
UNSUPPORTED = 0.2  # a content word used by at most this share of the peers is unsupported
COMMON_ZIPF = 6.0  # words at least this frequent (Zipf scale: "the", "of", "will") are not judged
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


@dataclass
class PeerWord:
    """A content word of a candidate and the share of its peers that use it too."""

    start: int
    end: int
    text: str
    support: float
    n_peers: int


def rel_name(feature: str) -> str:
    return f"rel_{feature}"


def peer_feature_names(base: Sequence[str]) -> tuple[str, ...]:
    """Names a peer-aware config adds to its base config's features."""
    return tuple(rel_name(f) for f in base) + PEER_FEATURES + tuple(map(rel_name, PEER_FEATURES))


def stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _is_content(word: str) -> bool:
    return zipf_frequency(word.lower()) < COMMON_ZIPF


def content_words(target: str) -> list[tuple[int, int, str]]:
    """Content words of a text with their offsets (numbers included, function words not)."""
    return [
        (m.start(), m.end(), m.group()) for m in WORD.finditer(target) if _is_content(m.group())
    ]


def peer_words(candidates: Sequence[str]) -> list[list[PeerWord]]:
    """For each candidate, its content words and how many of the other candidates use them."""
    bags = [{stem(m.group()) for m in WORD.finditer(text)} for text in candidates]
    out: list[list[PeerWord]] = []
    for i, text in enumerate(candidates):
        others = [bag for j, bag in enumerate(bags) if j != i]
        words = []
        for start, end, word in content_words(text):
            key = stem(word)
            support = sum(key in bag for bag in others) / len(others) if others else 1.0
            words.append(PeerWord(start, end, word, support, len(others)))
        out.append(words)
    return out


def _chrf_matrix(candidates: Sequence[str]) -> np.ndarray:
    """Sentence chrF (0-1) of each candidate (row) against each other one (column)."""
    from sacrebleu.metrics import CHRF

    chrf = CHRF()
    n = len(candidates)
    matrix = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            if i != j:
                matrix[i, j] = chrf.sentence_score(candidates[i], [candidates[j]]).score / 100.0
    return matrix


def group_features(
    candidates: Sequence[str],
    own: Sequence[dict[str, float]],
    base: Sequence[str],
    words: list[list[PeerWord]] | None = None,
    vectors: np.ndarray | None = None,
) -> list[dict[str, float]] | None:
    """Peer features of each candidate of one item (None when there are too few candidates).

    `own`: each candidate's own features (at least the `base` names); `words`/`vectors`: the
    candidates' `peer_words` / `source.distinct_vectors` when already computed. The result holds the
    `rel_`/`peer_` features.
    """
    n = len(candidates)
    if n < MIN_CANDIDATES or len(own) != n:
        return None
    chrf = _chrf_matrix(candidates)
    vectors = vectors if vectors is not None else distinct_vectors(candidates)
    cosine = vectors @ vectors.T
    lengths = np.array([len(c.split()) for c in candidates], dtype=float)
    words = words if words is not None else peer_words(candidates)
    own_matrix = np.array([[f.get(name, 0.0) for name in base] for f in own], dtype=float)
    item_mean = own_matrix.mean(axis=0)
    out = []
    for i in range(n):
        others = np.delete(np.arange(n), i)
        peer_lengths = lengths[others]
        support = np.array([w.support for w in words[i]]) if words[i] else np.ones(1)
        feats = {
            rel_name(name): float(own_matrix[i, k] - item_mean[k]) for k, name in enumerate(base)
        }
        feats |= {
            "peer_chrf": float(np.nanmean(chrf[i])),
            "peer_chrf_max": float(np.nanmax(chrf[i])),
            "peer_cosine": float(cosine[i, others].mean()),
            "peer_length_z": float(
                (lengths[i] - np.median(peer_lengths)) / (np.std(peer_lengths) + 1.0)
            ),
            "peer_support": float(support.mean()),
            "peer_support_low": float(np.sort(support)[:3].mean()),
            "peer_unsupported": float((support <= UNSUPPORTED).sum()),
        }
        out.append(feats)
    for name in PEER_FEATURES:
        mean = float(np.mean([f[name] for f in out]))
        for f in out:
            f[rel_name(name)] = f[name] - mean
    return out


def unsupported(words: Sequence[PeerWord]) -> list[PeerWord]:
    """The words at most a fifth of the peers use: candidate mistranslation spans."""
    return [w for w in words if w.n_peers >= MIN_CANDIDATES - 1 and w.support <= UNSUPPORTED]


def peer_spans(words: Sequence[PeerWord], offset: int = 0) -> list[Span]:
    """Unsupported content words as "mistranslation" spans (Major when no peer uses them)."""
    spans = []
    for w in unsupported(words):
        used = round(w.support * w.n_peers)
        spans.append(
            Span(
                start=offset + w.start,
                end=offset + w.end,
                text=w.text,
                severity="major" if used == 0 else "minor",
                reason="mistranslation",
                message=f"{used} of the {w.n_peers} other translations use '{w.text}'",
            )
        )
    return spans


def uses_peers(config: Config) -> bool:
    """Whether a config's combiner reads peer features (a `<base>-peers` config)."""
    return any(f.startswith(("peer_", "rel_")) for f in config.features)


#: A replacement is suggested when at least this many other translations write it in the
#: span's place (chosen on MQM train by `benchmarks/suggestions.py`).
MIN_AGREEMENT = 2
MAX_REPLACEMENT_WORDS = 3


def word_tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]


def peer_replacements(
    target: str, start: int, end: int, peers: Sequence[str], min_agreement: int = MIN_AGREEMENT
) -> list[Suggestion]:
    """What the other translations write where this one writes `target[start:end]`, most
    agreed first: each peer is aligned to the target word by word (difflib on lower-cased
    words); where the span's words fall in a replaced block, the peer's words in their place
    (1-3 words; positional inside a longer block of equal length) are its candidate. The
    original words and candidates fewer than `min_agreement` peers share are dropped.

    A span wider than the peer's change ("of loss" where the peer writes "of attrition") gets
    nothing from that peer: measured on MQM (`benchmarks/suggestions.py`), such partial
    replacements were right about one time in eight and cut the precision of the peers'
    suggestions from 0.39 to 0.33 on train (0.32 to 0.29 on dev)."""
    from difflib import SequenceMatcher

    mine = word_tokens(target)
    inside = [i for i, (a, b, _) in enumerate(mine) if a < end and start < b]
    if not inside:
        return []
    lo, hi = inside[0], inside[-1]
    original = " ".join(w for _, _, w in mine[lo : hi + 1]).lower()
    counts: dict[str, int] = {}  # in the order first seen: ties keep that order
    spelled: dict[str, str] = {}
    for peer in peers:
        theirs = [w for _, _, w in word_tokens(peer)]
        matcher = SequenceMatcher(
            a=[w.lower() for _, _, w in mine], b=[w.lower() for w in theirs], autojunk=False
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if not (i1 <= lo and hi < i2):
                continue
            if tag != "replace":
                break
            if (i1, i2) == (lo, hi + 1):
                words = theirs[j1:j2]
            elif i2 - i1 == j2 - j1:
                words = theirs[j1 + lo - i1 : j1 + hi - i1 + 1]
            else:
                break
            phrase = " ".join(words)
            key = phrase.lower()
            if 1 <= len(words) <= MAX_REPLACEMENT_WORDS and key != original:
                counts[key] = counts.get(key, 0) + 1
                spelled.setdefault(key, phrase)
            break
    ranked = sorted(counts, key=lambda k: -counts[k])  # stable
    return [
        Suggestion(spelled[k], "peers", support=counts[k])
        for k in ranked
        if counts[k] >= min_agreement
    ]


def with_peer_suggestions(target: str, spans: list[Span], peers: Sequence[str]) -> list[Span]:
    """Each span's suggestions led by what the other translations agree on in its place."""
    out = []
    for span in spans:
        agreed = peer_replacements(target, span.start, span.end, peers)
        if agreed:
            span = replace(span, suggested=led_by(agreed, span.suggested))
        out.append(span)
    return out
