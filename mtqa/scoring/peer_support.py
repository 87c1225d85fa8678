"""Word-level peer evidence for the peer-aware span detector: does each word of a translation
have a counterpart in the other systems' translations of the same sentence?

A word most other systems also write, at the aligned place, is rarely the one a reviewer marks;
a word no peer writes often is. The features are computed from text and the target-only
detector's word probabilities alone (no LM pass), so the `--peers` pass of a batch run can
build them from its log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import package_data
from ..core.frequency import zipf_frequency
from ..core.result import Span
from .detector import Trees, head_probabilities, read_trees_artefact, spans_from_probs
from .messages import band
from .peers import COMMON_ZIPF, stem, word_tokens

_EPS = 1e-4

#: Column names of `peer_word_features`, in order.
PEER_WORD_FEATURES: tuple[str, ...] = (
    "logit_any",
    "logit_major",
    "bag_support",
    "aligned_support",
    "zipf",
    "is_number",
    "is_capitalised",
    "log_peers",
    "logit_any@-1",
    "logit_any@+1",
    "aligned_support@-1",
    "aligned_support@+1",
    "seg_aligned_support",
    "seg_max_logit_any",
    "rel_pos",
)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def token_support(target: str, peers: Sequence[str]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The target's word tokens and, for each, [share of peers using its stem anywhere, share of
    peers that write it at the aligned place (an unchanged block of a word alignment)]."""
    mine = word_tokens(target)
    lowered = [stem(w) for _, _, w in mine]
    out = np.zeros((len(mine), 2))
    if not peers or not mine:
        return [(a, b) for a, b, _ in mine], out
    for peer in peers:
        theirs = [stem(w) for _, _, w in word_tokens(peer)]
        bag = set(theirs)
        out[:, 0] += [stem in bag for stem in lowered]
        matcher = SequenceMatcher(a=lowered, b=theirs, autojunk=False)
        for block in matcher.get_matching_blocks():
            out[block.a : block.a + block.size, 1] += 1
    out /= len(peers)
    return [(a, b) for a, b, _ in mine], out


def peer_word_features(
    target: str,
    words: Sequence[tuple[int, int]],
    p_any: np.ndarray,
    p_major: np.ndarray,
    peers: Sequence[str],
) -> np.ndarray:
    """[len(words), len(PEER_WORD_FEATURES)] for the detector's words (offsets into `target`)."""
    n = len(words)
    out = np.zeros((n, len(PEER_WORD_FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    spans, support = token_support(target, peers)
    word_support = np.ones((n, 2))
    for i, (start, end) in enumerate(words):
        inside = [k for k, (a, b) in enumerate(spans) if a < end and start < b]
        if inside:
            word_support[i] = support[inside].min(0)
    la, lm = _logit(np.asarray(p_any)), _logit(np.asarray(p_major))
    text = [target[a:b] for a, b in words]
    out[:, 0], out[:, 1] = la, lm
    out[:, 2:4] = word_support
    out[:, 4] = [zipf_frequency(t.lower()) for t in text]
    out[:, 5] = [float(any(c.isdigit() for c in t)) for t in text]
    out[:, 6] = [float(i > 0 and t[:1].isupper()) for i, t in enumerate(text)]
    out[:, 7] = math.log1p(len(peers))
    out[1:, 8], out[:-1, 9] = la[:-1], la[1:]
    out[0, 8] = out[-1, 9] = -10.0
    out[1:, 10], out[:-1, 11] = word_support[:-1, 1], word_support[1:, 1]
    out[0, 10] = out[-1, 11] = 1.0
    out[:, 12] = word_support[:, 1].mean()
    out[:, 13] = la.max()
    out[:, 14] = np.arange(n) / max(1, n - 1)
    return out


@dataclass
class PeerDetector:
    """Two tree heads (P(any error), P(Major)) over `PEER_WORD_FEATURES`, and their span
    thresholds (`data/detector-peers.npz` + `.json`, written by benchmarks/peer_detector.py)."""

    heads: dict[str, Trees]
    meta: dict[str, Any]

    @property
    def thresholds(self) -> tuple[float, float]:
        t = self.meta["thresholds"]
        return float(t["any"]), float(t["major"])

    def predict(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs = head_probabilities(self.heads, feats)
        return probs["any"], probs["major"]


PEER_DETECTOR_PATH = package_data("scoring", "data", "detector-peers")


def _peer_detector(
    arrays: Mapping[str, np.ndarray], meta: dict[str, Any], heads: dict[str, Trees]
) -> PeerDetector:
    if list(meta["features"]) != list(PEER_WORD_FEATURES):
        raise ValueError("feature list differs")
    model = PeerDetector(heads, meta)
    model.thresholds  # noqa: B018 - present and numeric
    return model


@lru_cache(maxsize=2)
def load_peer_detector(path: str | Path = PEER_DETECTOR_PATH) -> PeerDetector:
    """Load the peer-aware detector (`data/detector-peers.npz` + `.json`) once per process."""
    return read_trees_artefact(path, "peer-aware span detector", _peer_detector)


def peer_aware_spans(
    target: str,
    words: Sequence[tuple[int, int]],
    p_any: np.ndarray,
    p_major: np.ndarray,
    peers: Sequence[str],
    model: PeerDetector | None = None,
) -> tuple[list[Span], np.ndarray, np.ndarray]:
    """The detector's spans re-judged with the peers: at most three, most likely first, each
    saying how many other translations write its least supported word. Also returns the words'
    new P(any) and P(Major). `words` index `target`; `peers`: the other translations."""
    if not words:
        return [], np.zeros(0), np.zeros(0)
    model = model or load_peer_detector()
    feats = peer_word_features(target, words, p_any, p_major, peers)
    new_any, new_major = model.predict(feats)
    starts = np.array([a for a, _ in words])
    ends = np.array([b for _, b in words])
    spans = []
    for found in spans_from_probs(starts, ends, new_any, new_major, *model.thresholds):
        inside = [i for i, (a, b) in enumerate(words) if found.start <= a and b <= found.end]
        weakest = min(inside, key=lambda i: feats[i, 2])
        used = round(feats[weakest, 2] * len(peers))
        probability = found.probability
        word = target[words[weakest][0] : words[weakest][1]]
        spans.append(
            found.to_span(
                target,
                "mistranslation" if feats[inside, 4].min() < COMMON_ZIPF else "fluency",
                f"{band(probability)} error ({probability:.2f}): {used} of the "
                f"{len(peers)} other translations use “{word}”",
            )
        )
    return spans, new_any, new_major
