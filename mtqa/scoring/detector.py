"""The learned word-level error detector: where in a sentence a human reviewer would mark an
error, learned from MQM error spans (WMT zh-en train; see benchmarks/spans.py).

Two heads of gradient-boosted trees, P(word inside any error span) and P(word inside a Major
span), over `word_features.with_neighbours(...)` plus the word's hidden state projected by a
stored PCA. The artefact (`data/detector.npz`, arrays only, loaded with
`allow_pickle=False`, + `data/detector.json`: thresholds and provenance) was exported from
scikit-learn's HistGradientBoostingClassifier; inference here is plain numpy.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..core.errors import ModelError
from ..core.files import loads_bounded, package_data
from ..core.result import Span, Suggestion
from ..core.segment import Segment
from ..core.timing import stage, timed
from ..models import TokenScores
from .judge import in_place
from .messages import model_message
from .signals import FUNCTION_WORD_BITS, Word
from .word_features import with_neighbours, word_features, word_hidden

HEADS = ("any", "major")
T = TypeVar("T")


@dataclass
class Trees:
    """Padded tree ensemble: node arrays are [n_trees, max_nodes]."""

    feature: np.ndarray  # int32 feature index
    threshold: np.ndarray  # float64: go left when x <= threshold
    left: np.ndarray  # int32 child indices
    right: np.ndarray
    leaf: np.ndarray  # bool
    value: np.ndarray  # float64 leaf values (raw log-odds contributions)
    baseline: float
    depth: int

    @cached_property
    def _flat(self) -> tuple[np.ndarray, ...]:
        """The node arrays flattened over all trees, leaves pointing at themselves."""
        t, m = self.feature.shape
        off = (np.arange(t) * m).astype(np.int64)
        lf = (self.left.astype(np.int64) + off[:, None]).ravel()
        rt = (self.right.astype(np.int64) + off[:, None]).ravel()
        leaf = self.leaf.ravel()
        idx = np.arange(t * m)
        return (
            self.feature.ravel().astype(np.int64),
            self.threshold.ravel(),
            np.where(leaf, idx, lf),
            np.where(leaf, idx, rt),
            self.value.ravel(),
            off,
            leaf,
        )

    @cached_property
    def _children(self) -> np.ndarray:
        """Node i's right child at 2i and its left child at 2i + 1: the next node is one lookup,
        `children[2 * node + (x <= threshold)]` (NaN is never <= and goes right, as before)."""
        _, _, lf, rt, _, _, _ = self._flat
        return np.stack([rt, lf], axis=1).ravel()

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Summed log-odds for each row of x [n, d]: every (row, tree) walk takes `depth` steps
        together (a leaf steps onto itself). With no bookkeeping of which walks are done, and the
        next node one lookup, this took half the time of moving only the unfinished ones (0.20
        against 0.41 ms a segment a head on MQM dev documents); the leaves are the same, so are
        the sums."""
        n, t = x.shape[0], self.feature.shape[0]
        if n == 0:
            return np.zeros(0)
        feat, thr, _, _, val, off, _ = self._flat
        children = self._children
        d = x.shape[1]
        xf = np.ascontiguousarray(x, dtype=np.float64).ravel()
        node = np.tile(off, n)  # one (row, tree) walk each, row-major
        row = np.repeat(np.arange(n, dtype=np.int64) * d, t)
        for _ in range(self.depth):
            node = children[2 * node + (xf[row + feat[node]] <= thr[node])]
        return self.baseline + val[node.reshape(n, t)].sum(1)


@dataclass
class Detector:
    pca_mean: np.ndarray  # [576]
    pca_components: np.ndarray  # [k, 576]
    heads: dict[str, Trees]
    meta: dict[str, Any]

    @property
    def threshold_any(self) -> float:
        return float(self.meta["thresholds"]["any"])

    @property
    def threshold_major(self) -> float:
        return float(self.meta["thresholds"]["major"])

    def design(self, word_feats: np.ndarray, hidden: np.ndarray | None) -> np.ndarray:
        """[n, F] neighbour-expanded features + [n, 576] hidden -> model input."""
        parts = [word_feats.astype(np.float64)]
        if self.pca_components.shape[0]:
            assert hidden is not None
            parts.append((hidden.astype(np.float64) - self.pca_mean) @ self.pca_components.T)
        return np.hstack(parts)

    def predict(self, word_feats: np.ndarray, hidden: np.ndarray | None) -> dict[str, np.ndarray]:
        """P(any error) and P(Major error) for each word of one segment (or many)."""
        return head_probabilities(self.heads, self.design(word_feats, hidden))


def head_probabilities(heads: Mapping[str, Trees], x: np.ndarray) -> dict[str, np.ndarray]:
    """Each head's probability for each row of x (the logistic of its summed log-odds)."""
    return {h: 1.0 / (1.0 + np.exp(-trees.raw(x))) for h, trees in heads.items()}


def trees_from(arrays: Mapping[str, np.ndarray], prefix: str = "") -> Trees:
    """`Trees` from its named node arrays (as `detector.npz` stores each head)."""
    return Trees(
        arrays[f"{prefix}feature"],
        arrays[f"{prefix}threshold"],
        arrays[f"{prefix}left"],
        arrays[f"{prefix}right"],
        arrays[f"{prefix}leaf"],
        arrays[f"{prefix}value"],
        float(arrays[f"{prefix}baseline"][0]),
        int(arrays[f"{prefix}depth"][0]),
    )


DEFAULT_PATH = package_data("scoring", "data", "detector")


def read_trees_artefact(
    path: str | Path,
    what: str,
    build: Callable[[Mapping[str, np.ndarray], dict[str, Any], dict[str, Trees]], T],
    heads: tuple[str, ...] = HEADS,
) -> T:
    """`build(arrays, meta, heads)` from `<path>.npz` (no pickle) + `<path>.json`; a missing or
    damaged artefact (`build` raising ValueError/KeyError/TypeError included) is one
    `ModelError` line naming `what`."""
    path = Path(path)
    try:
        arrays = np.load(path.with_suffix(".npz"), allow_pickle=False)
        meta = loads_bounded(path.with_suffix(".json").read_bytes())
        return build(arrays, meta, {h: trees_from(arrays, f"{h}.") for h in heads})
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ModelError(
            f"the {what} {path.with_suffix('.npz')} is missing or damaged "
            f"({type(exc).__name__}): reinstall mtqa"
        ) from None


def _detector(
    arrays: Mapping[str, np.ndarray], meta: dict[str, Any], heads: dict[str, Trees]
) -> Detector:
    detector = Detector(arrays["pca_mean"], arrays["pca_components"], heads, meta)
    detector.threshold_any, detector.threshold_major  # noqa: B018 - present and numeric
    return detector


@lru_cache(maxsize=2)
def load_detector(path: str | Path = DEFAULT_PATH) -> Detector:
    """Load `detector.npz` + `detector.json`, once per process."""
    return read_trees_artefact(path, "span detector", _detector)


@dataclass
class SpanOut:
    start: int
    end: int
    severity: str  # "major" | "minor"
    score: float  # max P(any) over its words
    p_major: float

    @property
    def probability(self) -> float:
        """How sure the detector is of the span: its larger head probability."""
        return max(self.score, self.p_major)

    def to_span(self, text: str, reason: str, message: str, **more: Any) -> Span:
        """The span as an editor sees it; `text`: what its offsets index."""
        return Span(
            start=self.start,
            end=self.end,
            text=text[self.start : self.end],
            severity=self.severity,
            reason=reason,
            message=message,
            probability=round(self.probability, 3),
            **more,
        )


def spans_from_probs(
    starts: np.ndarray,
    ends: np.ndarray,
    p_any: np.ndarray,
    p_major: np.ndarray,
    t_any: float,
    t_major: float,
    max_spans: int = 3,
) -> list[SpanOut]:
    """Words with P(any) >= t_any or P(major) >= t_major; runs of adjacent such words merge;
    Major when the span's max P(major) >= t_major; the `max_spans` most likely, best first."""
    on = (p_any >= t_any) | (p_major >= t_major)
    spans: list[SpanOut] = []
    i, n = 0, len(on)
    while i < n:
        if not on[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and on[j + 1]:
            j += 1
        pa, pm = float(p_any[i : j + 1].max()), float(p_major[i : j + 1].max())
        sev = "major" if pm >= t_major else "minor"
        spans.append(SpanOut(int(starts[i]), int(ends[j]), sev, pa, pm))
        i = j + 1
    spans.sort(key=lambda s: -s.probability)
    return spans[:max_spans]


#: The word surprisal discount the detector's word features were computed with.
DETECTOR_ALPHA = 0.5

#: Sentence features from the detector's word probabilities, for the calibrated combiner: the
#: expected MQM penalty (Major 5, Minor 1, as MQM weighs errors) ties the sentence's score to the
#: words an editor sees highlighted.
DETECTOR_FEATURES = ("det_penalty", "det_log_penalty", "det_max_any", "det_max_major")


@timed("judgement")
def detector_features(p_any: np.ndarray, p_major: np.ndarray) -> dict[str, float]:
    """Expected penalty and the most likely error of one sentence's words."""
    if not len(p_any):
        return dict.fromkeys(DETECTOR_FEATURES, 0.0)
    minor = np.clip(p_any - p_major, 0.0, None)
    penalty = float((5.0 * p_major + minor).sum())
    return {
        "det_penalty": penalty,
        "det_log_penalty": float(np.log1p(penalty)),
        "det_max_any": float(p_any.max()),
        "det_max_major": float(p_major.max()),
    }


def word_probabilities(
    text: str,
    tokens: TokenScores,
    words: list[Word],
    seg: Segment,
    detector: Detector | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """P(any error) and P(Major error) of each word of one segment, from the target alone (the
    source speaks through the checks). `words` must come from `words_of(...,
    alpha=DETECTOR_ALPHA)`; `tokens` must hold hidden states."""
    if not words:
        return np.zeros(0), np.zeros(0)
    model = detector or load_detector()
    with stage("features"):
        feats = with_neighbours(word_features(text, tokens, words, seg.start, seg.end))
        hidden = word_hidden(tokens, words)
    with stage("detector"):
        probs = model.predict(feats, hidden)
    return probs["any"], probs["major"]


@timed("judgement")
def learned_spans(
    text: str,
    words: list[Word],
    p_any: np.ndarray,
    p_major: np.ndarray,
    suggest: Callable[[Word], list[Suggestion]] | None = None,
    detector: Detector | None = None,
) -> list[Span]:
    """Spans from word probabilities (at most three, most likely first): adjacent words above
    the thresholds merge; Major when P(Major) passes its threshold. `words` index `text`."""
    if not words:
        return []
    model = detector or load_detector()
    starts = np.array([w.start for w in words])
    ends = np.array([w.end for w in words])
    found = spans_from_probs(
        starts, ends, p_any, p_major, model.threshold_any, model.threshold_major
    )
    by_start = {w.start: i for i, w in enumerate(words)}
    out = []
    for found_span in found:
        first = by_start[found_span.start]
        inside = [w for w in words[first:] if w.end <= found_span.end]
        content = any(w.unigram >= FUNCTION_WORD_BITS for w in inside)
        probability = found_span.probability
        oddest = max(inside, key=lambda w: w.anomaly)
        suggested = (
            in_place(
                suggest(words[first]),
                text[found_span.start : found_span.end],
                0,
                words[first].end - found_span.start,
            )
            if suggest
            else []
        )
        out.append(
            found_span.to_span(
                text,
                "mistranslation" if content else "fluency",
                model_message(probability, content, oddest.text, oddest.surprisal, suggested),
                suggested=suggested,
                surprisal=round(oddest.anomaly, 3),
            )
        )
    return out
