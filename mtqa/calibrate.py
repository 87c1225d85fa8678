"""Fit how signals combine, on human MQM annotations, and choose flag thresholds.

`mtqa calibrate` reads MQM-style JSONL sets (`target`, `spans` with severity, `mqm`, and `doc`/
`doc_seg_id`/`system` to rebuild documents), scores every target in its document context,
fits a logistic model of "has a Major error" on the train split (features standardised, L2,
fixed seed), picks thresholds on the dev split, and writes the result as a versioned config.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .io import array_bytes, atomic_write
from .model import cache_dir
from .peers import PeerWord
from .scorer import Scorer, join_segments, sentence_hidden
from .signals import FEATURES, LN2, Word, anomaly, segment_tokens, sentence_features


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
    extra: dict[str, float] | None = None  # source-aware features, when attached
    peer_words: list[PeerWord] | None = None  # content words and their support among peers


def default_mqm_path(split: str) -> Path:
    """`$MTQA_MQM_DIR/<split>.jsonl`, else the workplace's shared MQM data beside the repo."""
    import os

    base = os.environ.get("MTQA_MQM_DIR")
    root = Path(base) if base else Path(__file__).resolve().parents[2] / "shared" / "data" / "mqm"
    return root / f"{split}.jsonl"


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
    scorer: Scorer,
    rows: list[dict[str, Any]],
    on_doc: Callable[[int], None] | None = None,
    context: str = "document",
) -> list[Evidence]:
    """Score every row in its document's context (or alone, with `context="sentence"`)."""
    out: list[Evidence] = []
    groups = mqm_documents(rows) if context == "document" else ([r] for r in rows)
    for doc_rows in groups:
        targets = [str(r["target"]).replace("\n", " ") for r in doc_rows]
        segments = join_segments(targets)
        text = "\n".join(targets)
        if not text.strip():
            continue
        tokens, words = scorer.analyse(text, segments, keep_hidden=True)
        assert tokens.hidden is not None
        bits = -tokens.logprob / LN2
        for row, seg, seg_words in zip(doc_rows, segments, words, strict=True):
            inside = segment_tokens(tokens, seg)
            shifted = [_shift(w, -seg.start) for w in seg_words]
            hidden = sentence_hidden(tokens, seg)
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


def sample_documents(rows: list[dict[str, Any]], share: float) -> list[dict[str, Any]]:
    """A deterministic share of source documents (all systems' rows for each kept document)."""
    if share >= 1.0:
        return rows

    def keep(row: dict[str, Any]) -> bool:
        digest = hashlib.sha256(str(row.get("doc")).encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < share

    return [row for row in rows if keep(row)]


def cached_extract(
    scorer: Scorer,
    path: str | Path,
    context: str = "document",
    share: float = 1.0,
    **kwargs: Any,
) -> list[Evidence]:
    """`extract`, cached by (data file hash, model hash, window, context, share)."""
    if not Path(path).is_file():
        from .errors import InputError

        raise InputError(f"annotated data not found: {path}")
    data = Path(path).read_bytes()
    key = hashlib.sha256(
        data
        + f"|{scorer.lm.file_hash}|{scorer.config.window}|{scorer.config.overlap}".encode()
        + (f"|{context}|{share}".encode() if (context, share) != ("document", 1.0) else b"")
    ).hexdigest()[:20]
    cache = cache_dir() / "evidence" / f"{Path(path).stem}-{key}.pkl"
    if cache.exists():
        with cache.open("rb") as handle:
            loaded: list[Evidence] = pickle.load(handle)
            return loaded
    rows = sample_documents(load_rows(path), share)
    evidence = extract(scorer, rows, context=context, **kwargs)
    atomic_write(cache, pickle.dumps(evidence))
    return evidence


def words_at(evidence: Evidence, alpha: float) -> list[Word]:
    """The segment's words with anomaly recomputed for `alpha`."""
    return [
        Word(
            w.start,
            w.end,
            w.text,
            w.surprisal,
            w.unigram,
            anomaly(w.surprisal, w.unigram, w.kind, alpha),
            w.kind,
            w.first_token,
        )
        for w in evidence.words
    ]


def features_for(
    evidence: Evidence, config: Config, words: list[Word] | None = None
) -> dict[str, float]:
    """Sentence features for a given config (alpha and thresholds re-applied)."""

    words = words if words is not None else words_at(evidence, config.alpha)
    return {**sentence_features(words, evidence.token_bits), **(evidence.extra or {})}


def feature_matrix(evidence: list[Evidence], config: Config, names: tuple[str, ...]) -> np.ndarray:
    rows = [features_for(e, config) for e in evidence]
    return np.array([[r[name] for name in names] for r in rows], dtype=np.float64)


DEFAULT_FEATURES = FEATURES


@dataclass
class Fit:
    """A fitted combiner: standardisation and weights (features, then the optional head)."""

    features: list[str]
    means: list[float]
    scales: list[float]
    weights: list[float]
    intercept: float
    hidden_means: list[float] = field(default_factory=list)
    hidden_scales: list[float] = field(default_factory=list)
    hidden_weights: list[float] = field(default_factory=list)


def _design(
    evidence: list[Evidence], config: Config, names: tuple[str, ...], head: bool
) -> np.ndarray:
    x = feature_matrix(evidence, config, names)
    if head:
        dim = max(e.hidden_mean.shape[0] for e in evidence)
        hidden = [
            e.hidden_mean if e.hidden_mean.shape[0] == dim else np.zeros(dim) for e in evidence
        ]
        x = np.hstack([x, np.stack(hidden).astype(np.float64)])
    return x


def fit_logistic(
    evidence: list[Evidence],
    config: Config,
    names: tuple[str, ...],
    seed: int = 13,
    head: bool = False,
    strength: float = 1.0,
) -> Fit:
    """L2 logistic regression of "has a Major error" on standardised features (and, with
    `head`, the sentence's mean hidden state: a learned head over the language model)."""
    from sklearn.linear_model import LogisticRegression

    x = _design(evidence, config, names, head)
    y = np.array([e.major for e in evidence], dtype=int)
    means = x.mean(0)
    scales = x.std(0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(C=strength, max_iter=5000, random_state=seed)
    model.fit((x - means) / scales, y)
    weights = model.coef_[0]
    k = len(names)
    r = lambda v: [round(float(x), 6) for x in v]  # noqa: E731
    return Fit(
        features=list(names),
        means=r(means[:k]),
        scales=r(scales[:k]),
        weights=r(weights[:k]),
        intercept=round(float(model.intercept_[0]), 6),
        hidden_means=r(means[k:]),
        hidden_scales=r(scales[k:]),
        hidden_weights=r(weights[k:]),
    )


def predict(fit: Fit, evidence: list[Evidence], config: Config) -> np.ndarray:
    """Logits of the fitted model on evidence rows."""
    head = bool(fit.hidden_weights)
    x = _design(evidence, config, tuple(fit.features), head)
    means = np.array(fit.means + fit.hidden_means)
    scales = np.array(fit.scales + fit.hidden_scales)
    weights = np.array(fit.weights + fit.hidden_weights)
    return np.asarray(((x - means) / scales) @ weights + fit.intercept)


def apply_fit(config: Config, fit: Fit) -> Config:
    from dataclasses import replace

    return replace(
        config,
        features=fit.features,
        means=fit.means,
        scales=fit.scales,
        weights=fit.weights,
        intercept=fit.intercept,
        hidden_means=fit.hidden_means,
        hidden_scales=fit.hidden_scales,
        hidden_weights=fit.hidden_weights,
    )


def judge_evidence(
    evidence: Evidence, config: Config, threshold: float
) -> tuple[float, bool, list[tuple[int, int]]]:
    """Score, flag and spans for one annotated segment, exactly as `mtqa score` would."""
    from .checks import run_checks
    from .judge import find_spans, judge_sentence
    from .peers import peer_spans, uses_peers
    from .segment import Segment

    words = words_at(evidence, config.alpha)
    features = features_for(evidence, config, words)
    source = evidence.source if evidence.extra is not None else None
    spans = find_spans(evidence.target, words, config) + run_checks(evidence.target, source)
    if evidence.peer_words is not None and uses_peers(config):
        spans += peer_spans(evidence.peer_words)
    seg = Segment(0, 0, len(evidence.target), evidence.target, 0)
    result = judge_sentence(seg, features, spans, config, threshold)
    return result.score, result.flagged, [(s.start, s.end) for s in result.spans]


ALPHAS = (0.0, 0.15, 0.3, 0.5, 0.75)
PRECISION_TARGETS = {"strict": 0.6, "standard": 0.7, "lenient": 0.8}


def _doc_of(evidence: Evidence) -> str:
    """The source document (all systems' translations of it stay in one fold)."""
    return evidence.item.split("|")[1]


def cv_auroc(
    evidence: list[Evidence],
    config: Config,
    names: tuple[str, ...],
    seed: int,
    head: bool = False,
    strength: float = 1.0,
) -> float:
    """5-fold cross-validated AUROC on the training rows, folds split by source document."""
    from sklearn.metrics import roc_auc_score

    docs = sorted({_doc_of(e) for e in evidence})
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(docs, rng.permutation(len(docs)) % 5, strict=True))
    folds = np.array([fold_of[_doc_of(e)] for e in evidence])
    logits = np.zeros(len(evidence))
    for k in range(5):
        test_idx = np.where(folds == k)[0]
        train = [e for e, f in zip(evidence, folds, strict=True) if f != k]
        if test_idx.size == 0 or len({e.major for e in train}) < 2:
            continue  # a tiny corpus can leave a fold empty or one-sided
        fit = fit_logistic(train, config, names, seed, head, strength)
        logits[test_idx] = predict(fit, [evidence[i] for i in test_idx], config)
    return float(roc_auc_score([e.major for e in evidence], logits))


def choose_thresholds(risks: np.ndarray, major: np.ndarray) -> dict[str, float]:
    """Per preset, the lowest risk threshold whose dev precision for Major errors reaches the
    preset's target; where none does, the most precise threshold flagging >= 5% of rows."""
    order = np.argsort(-risks)
    sorted_risk, hits = risks[order], major[order].astype(float)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    min_count = max(1, int(0.05 * len(hits)))
    out = {}
    for preset, target in PRECISION_TARGETS.items():
        ok = np.where(precision[min_count - 1 :] >= target)[0]
        if ok.size:
            cut = ok.max() + min_count - 1
        else:
            cut = int(np.argmax(precision[min_count - 1 :])) + min_count - 1
        out[preset] = round(float(sorted_risk[cut]), 6)
    return out


SPAN_THRESHOLDS = (4.0, 6.0, 8.0, 10.0, 12.0)


def choose_span_threshold(
    evidence: list[Evidence], config: Config, seed: int, rows: int = 2500
) -> tuple[float, dict[str, float]]:
    """The most precise (highest) word-anomaly threshold whose Major-span F1 on a train sample
    is at least that of marking every whole segment; else the best F1. Neighbouring words join
    a span at half the threshold."""
    from dataclasses import replace

    from .evaluate import span_prf

    rng = np.random.default_rng(seed)
    picked = rng.choice(len(evidence), size=min(rows, len(evidence)), replace=False)
    sample = [evidence[i] for i in sorted(picked)]
    gold = [[(s["start"], s["end"]) for s in e.spans if s["severity"] == "Major"] for e in sample]
    baseline = span_prf([[(0, len(e.target))] for e in sample], gold)["f1"]
    standard = config.threshold("standard")
    grid = {}
    for value in SPAN_THRESHOLDS:
        cfg = replace(config, anomaly_threshold=value, phrase_threshold=value / 2)
        predicted = [judge_evidence(e, cfg, standard)[2] for e in sample]
        grid[str(value)] = round(span_prf(predicted, gold)["f1"], 4)
    beating = [float(v) for v, f1 in grid.items() if f1 >= baseline]
    best = max(beating) if beating else float(max(grid, key=lambda v: grid[v]))
    grid["whole_segment_baseline"] = round(baseline, 4)
    return best, grid


def attach_source_features(evidence: list[Evidence], path: str | Path) -> None:
    """Add each row's `src_` features (source given with the row) to its evidence."""
    from .source import SOURCE_FEATURES, mqm_source_features

    rows = load_rows(path)
    matrix = mqm_source_features(rows)
    by_id = {
        str(r["id"]): dict(zip(SOURCE_FEATURES, m.tolist(), strict=True))
        for r, m in zip(rows, matrix, strict=True)
    }
    for e in evidence:
        e.extra = by_id.get(e.row_id, dict.fromkeys(SOURCE_FEATURES, 0.0))


def calibrate(
    scorer: Scorer,
    train_path: str | Path,
    dev_path: str | Path,
    names: tuple[str, ...] = DEFAULT_FEATURES,
    seed: int = 13,
    log: Callable[[str], None] = print,
    with_source: bool = False,
) -> Config:
    """The whole procedure: evidence, alpha by CV on train, fit on train, thresholds on dev.

    `with_source` adds the source-aware `src_` features (the "source" config, used when a
    source is given)."""
    from dataclasses import replace

    from .judge import risk

    log("scoring train split (cached after the first run)…")
    train = cached_extract(scorer, train_path)
    log("scoring dev split…")
    dev = cached_extract(scorer, dev_path)
    if with_source:
        from .source import SOURCE_FEATURES

        log("reading the sources (multilingual encoder, cached)…")
        attach_source_features(train, train_path)
        attach_source_features(dev, dev_path)
        names = tuple(names) + SOURCE_FEATURES
    base = scorer.config
    cv = {a: cv_auroc(train, replace(base, alpha=a), names, seed) for a in ALPHAS}
    for a, auc in cv.items():
        log(f"alpha {a:.2f}: train 5-fold AUROC {auc:.4f}")
    alpha = max(cv, key=lambda a: cv[a])
    config = apply_fit(
        replace(base, alpha=alpha), fit_logistic(train, replace(base, alpha=alpha), names, seed)
    )
    dev_risk = np.array([risk(features_for(e, config), config) for e in dev])
    thresholds = choose_thresholds(dev_risk, np.array([e.major for e in dev]))
    config = replace(config, thresholds=thresholds, major_risk=thresholds["lenient"])
    span_threshold, span_grid = choose_span_threshold(train, config, seed)
    log(f"span threshold {span_threshold} bits (train span F1 by threshold: {span_grid})")
    return replace(
        config,
        name="source" if with_source else config.name,
        anomaly_threshold=span_threshold,
        phrase_threshold=span_threshold / 2,
        calibration={
            "method": "L2 logistic regression (C=1) of 'has a Major error' on standardised "
            "features; alpha by 5-fold document-split CV AUROC on train; thresholds on dev "
            "as the lowest risk reaching the preset's precision for Major errors",
            "precision_targets": PRECISION_TARGETS,
            "train": {"file": Path(train_path).name, "rows": len(train)},
            "dev": {"file": Path(dev_path).name, "rows": len(dev)},
            "seed": seed,
            "cv_auroc_by_alpha": {str(a): round(v, 4) for a, v in cv.items()},
            "span_f1_by_threshold": span_grid,
            "model": scorer.lm.name,
            "model_hash": scorer.lm.file_hash,
        },
    )


def attach_peer_features(evidence: list[Evidence], base: Config) -> list[Evidence]:
    """Add the `rel_`/`peer_` features of each row, computed within its item (all systems'
    translations of one source segment) from `base`'s features; returns the rows that have
    enough peers (the others keep their base judgement)."""
    from collections import defaultdict

    from .peers import group_features, peer_words

    groups: dict[str, list[int]] = defaultdict(list)
    for index, e in enumerate(evidence):
        groups[e.item].append(index)
    vectors = cached_vectors([e.target for e in evidence])
    out = []
    for indices in groups.values():
        members = [evidence[i] for i in indices]
        own = [features_for(e, base) for e in members]
        targets = [e.target for e in members]
        words = peer_words(targets)
        peer = group_features(targets, own, base.features, words, vectors[indices])
        if peer is None:
            continue
        for e, feats, mine in zip(members, peer, words, strict=True):
            e.extra = {**(e.extra or {}), **feats}
            e.peer_words = mine
            out.append(e)
    return out


def cached_vectors(texts: list[str]) -> np.ndarray:
    """`peers.embed_targets` of many texts, cached under `$MTQA_CACHE/source/`."""
    from .peers import embed_targets
    from .source import ENCODER_ID

    key = hashlib.sha256("\x1e".join([ENCODER_ID, *texts]).encode("utf-8")).hexdigest()[:24]
    path = cache_dir() / "source" / f"vectors-{key}.npy"
    if path.exists():
        return np.asarray(np.load(path), dtype=np.float32)
    vectors = embed_targets(texts)
    atomic_write(path, array_bytes(vectors))
    return vectors


def calibrate_peers(
    scorer: Scorer,
    train_path: str | Path,
    dev_path: str | Path,
    seed: int = 13,
    log: Callable[[str], None] = print,
) -> Config:
    """Fit the peer-aware companion (`<base>-peers`) of the scorer's calibrated config: the
    base features plus `rel_`/`peer_` features, fitted on train, thresholds on dev."""
    from dataclasses import replace

    from .judge import risk
    from .peers import peer_feature_names

    base = scorer.config
    splits = []
    for label, path in (("train", train_path), ("dev", dev_path)):
        log(f"scoring the {label} split (cached after the first run)…")
        evidence = prepare_evidence(base, cached_extract(scorer, path), path)
        log(f"comparing each {label} translation with its peers…")
        splits.append(attach_peer_features(evidence, base))
    train, dev = splits
    names = tuple(base.features) + peer_feature_names(base.features)
    config = apply_fit(
        replace(base, name=f"{base.name}-peers"), fit_logistic(train, base, names, seed)
    )
    dev_risk = np.array([risk(features_for(e, config), config) for e in dev])
    thresholds = choose_thresholds(dev_risk, np.array([e.major for e in dev]))
    return replace(
        config,
        thresholds=thresholds,
        major_risk=thresholds["lenient"],
        calibration={
            "method": f"the '{base.name}' config's features plus each feature minus its item's "
            "mean (rel_) and agreement with the other systems' translations (peer_); "
            "L2 logistic regression (C=1) of 'has a Major error' on train; thresholds on dev "
            "as the lowest risk reaching the preset's precision for Major errors",
            "base": base.name,
            "base_hash": base.digest(),
            "precision_targets": PRECISION_TARGETS,
            "train": {"file": Path(train_path).name, "rows": len(train)},
            "dev": {"file": Path(dev_path).name, "rows": len(dev)},
            "seed": seed,
            "model": scorer.lm.name,
            "model_hash": scorer.lm.file_hash,
        },
    )


def prepare_evidence(config: Config, evidence: list[Evidence], path: str | Path) -> list[Evidence]:
    """Attach what `config` reads besides the target: the sources (`src_` features) and the
    peers (`rel_`/`peer_` features, from its base config); returns the rows it can judge."""
    from .config import load_config
    from .peers import uses_peers

    if any(f.startswith("src_") for f in config.features):
        attach_source_features(evidence, path)
    if uses_peers(config):
        base = load_config(config.calibration.get("base") or config.name.removesuffix("-peers"))
        evidence = attach_peer_features(evidence, base)
    return evidence
