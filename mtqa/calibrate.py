"""Fit how signals combine, on human MQM annotations, and choose flag thresholds.

`mtqa calibrate` reads MQM-style JSONL sets (`target`, `spans` with severity, `mqm`, and `doc`/
`doc_seg_id`/`system` to rebuild documents), scores every target in its document context,
fits a logistic model of "has a Major error" on the train split (features standardised, L2,
fixed seed), picks thresholds on the dev split, and writes the result as a versioned config.
"""

from __future__ import annotations

import hashlib
import math
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .model import cache_dir
from .scorer import Scorer, join_segments
from .signals import FEATURES, Word, anomaly, sentence_features


@dataclass
class Evidence:
    """What the model saw in one annotated segment, independent of config knobs."""

    row_id: str
    words: list[Word]
    token_bits: np.ndarray
    hidden_mean: np.ndarray
    major: bool
    mqm: float
    item: str  # source segment id: rows sharing it are translations of the same sentence
    spans: list[dict[str, Any]] = field(default_factory=list)
    target: str = ""
    reference: str | None = None
    source: str | None = None


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """An MQM-style JSONL set through `datasets` (the loader a user's own corpus goes through)."""
    from datasets import load_dataset

    from .model import quiet_third_party

    quiet_third_party()
    dataset = load_dataset("json", data_files=str(path), split="train")
    return [dict(row) for row in dataset]


def mqm_documents(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows regrouped into (system, doc) documents in reading order."""
    key = lambda r: (str(r.get("system")), str(r.get("doc")))  # noqa: E731
    for _, group in groupby(sorted(rows, key=key), key=key):
        yield sorted(group, key=lambda r: int(r.get("doc_seg_id") or 0))


def _item_key(row: dict[str, Any]) -> str:
    return f"{row.get('year')}|{row.get('doc')}|{row.get('doc_seg_id')}"


def extract(
    scorer: Scorer, rows: list[dict[str, Any]], on_doc: Callable[[int], None] | None = None
) -> list[Evidence]:
    """Score every row in document context and keep the evidence per row."""
    out: list[Evidence] = []
    for doc_rows in mqm_documents(rows):
        targets = [str(r["target"]).replace("\n", " ") for r in doc_rows]
        segments = join_segments(targets)
        text = "\n".join(targets)
        if not text.strip():
            continue
        tokens, words = scorer.analyse(text, segments, keep_hidden=True)
        assert tokens.hidden is not None
        bits = -tokens.logprob / math.log(2)
        for row, seg, seg_words in zip(doc_rows, segments, words, strict=True):
            inside = (tokens.ends > seg.start) & (tokens.starts < seg.end)
            shifted = [_shift(w, -seg.start) for w in seg_words]
            hidden = tokens.hidden[inside].mean(0) if inside.any() else np.zeros(1)
            out.append(
                Evidence(
                    row_id=str(row["id"]),
                    words=shifted,
                    token_bits=bits[inside].astype(np.float32),
                    hidden_mean=hidden.astype(np.float32),
                    major=any(s["severity"] == "Major" for s in row.get("spans") or []),
                    mqm=float(row["mqm"]),
                    item=_item_key(row),
                    spans=list(row.get("spans") or []),
                    target=seg.text,
                    reference=row.get("reference"),
                    source=row.get("source"),
                )
            )
        if on_doc:
            on_doc(len(doc_rows))
    return out


def _shift(word: Word, delta: int) -> Word:
    return Word(
        word.start + delta,
        word.end + delta,
        word.text,
        word.surprisal,
        word.unigram,
        word.anomaly,
        word.kind,
        word.first_token,
    )


def cached_extract(scorer: Scorer, path: str | Path, **kwargs: Any) -> list[Evidence]:
    """`extract`, cached by (data file hash, model hash, window) under $MTQA_CACHE."""
    data = Path(path).read_bytes()
    key = hashlib.sha256(
        data + f"|{scorer.lm.file_hash}|{scorer.config.window}|{scorer.config.overlap}".encode()
    ).hexdigest()[:20]
    cache = cache_dir() / "evidence" / f"{Path(path).stem}-{key}.pkl"
    if cache.exists():
        with cache.open("rb") as handle:
            loaded: list[Evidence] = pickle.load(handle)
            return loaded
    evidence = extract(scorer, load_rows(path), **kwargs)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        pickle.dump(evidence, handle)
    tmp.replace(cache)
    return evidence


def features_for(evidence: Evidence, config: Config) -> dict[str, float]:
    """Sentence features for a given config (alpha and thresholds re-applied)."""
    from .lm import TokenScores
    from .segment import Segment

    words = [
        Word(
            w.start,
            w.end,
            w.text,
            w.surprisal,
            w.unigram,
            anomaly(w.surprisal, w.unigram, w.kind, config.alpha),
            w.kind,
            w.first_token,
        )
        for w in evidence.words
    ]
    n = len(evidence.token_bits)
    tokens = TokenScores(
        ids=np.zeros(n, dtype=np.int64),
        starts=np.zeros(n, dtype=np.int64),
        ends=np.ones(n, dtype=np.int64),
        logprob=-evidence.token_bits * math.log(2),
        top_ids=np.zeros((n, 1), dtype=np.int64),
        top_logprob=np.zeros((n, 1), dtype=np.float32),
    )
    seg = Segment(0, 0, 1, evidence.target, 0)
    return sentence_features(words, tokens, seg, config.anomaly_threshold)


def feature_matrix(evidence: list[Evidence], config: Config, names: tuple[str, ...]) -> np.ndarray:
    rows = [features_for(e, config) for e in evidence]
    return np.array([[r[name] for name in names] for r in rows], dtype=np.float64)


DEFAULT_FEATURES = FEATURES


@dataclass
class Fit:
    """A fitted combiner: standardisation, weights, and the dev-chosen thresholds."""

    features: list[str]
    means: list[float]
    scales: list[float]
    weights: list[float]
    intercept: float


def fit_logistic(
    evidence: list[Evidence], config: Config, names: tuple[str, ...], seed: int = 13
) -> Fit:
    """L2 logistic regression of "has a Major error" on standardised features."""
    from sklearn.linear_model import LogisticRegression

    x = feature_matrix(evidence, config, names)
    y = np.array([e.major for e in evidence], dtype=int)
    means = x.mean(0)
    scales = x.std(0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    model.fit((x - means) / scales, y)
    return Fit(
        features=list(names),
        means=[round(float(v), 6) for v in means],
        scales=[round(float(v), 6) for v in scales],
        weights=[round(float(v), 6) for v in model.coef_[0]],
        intercept=round(float(model.intercept_[0]), 6),
    )


def apply_fit(config: Config, fit: Fit) -> Config:
    from dataclasses import replace

    return replace(
        config,
        features=fit.features,
        means=fit.means,
        scales=fit.scales,
        weights=fit.weights,
        intercept=fit.intercept,
    )
