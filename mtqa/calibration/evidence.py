"""What the model saw in each annotated segment (`Evidence`), extracted once and cached, and
the judgement `mtqa score` would give it under any config: the common ground of fitting
(`fit`) and measuring agreement (`agreement`)."""

from __future__ import annotations

import hashlib
import pickle
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import run_checks
from ..core.config import Config, load_config
from ..core.errors import InputError
from ..core.files import atomic_write, cache_dir
from ..core.result import Span
from ..scoring import (
    LN2,
    PeerWord,
    Scorer,
    Word,
    group_features,
    join_segments,
    judge_segment,
    peer_aware_spans,
    peer_spans,
    peer_words,
    segment_tokens,
    sentence_features,
    sentence_hidden,
    uses_peers,
)
from ..scoring.detector import (
    DETECTOR_ALPHA,
    Detector,
    detector_features,
    learned_spans,
    load_detector,
)
from ..scoring.judge import find_spans
from ..scoring.review import oddity_spans, review_alone
from ..scoring.signals import with_alpha
from ..scoring.word_features import with_neighbours, word_features, word_hidden
from ..source import SOURCE_FEATURES, cached_vectors, mqm_source_features
from .mqm import item_key, load_rows, mqm_documents, sample_documents

#: Part of the evidence cache key: bump when `Evidence` or the classes it holds change shape
#: or place (the cache is a pickle of them).
EVIDENCE_FORMAT = "evidence/4"  # 4: the detector's inputs per word (features, hidden states)


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
    peers: list[str] | None = None  # the other systems' translations of its item, when attached
    # The learned detector's words (alpha 0.5), its inputs for them (target-only word features,
    # hidden states as float16, a third of the cache: probabilities agree with `mtqa score`'s to
    # rounding; a retrained detector is measured without another LM pass), and
    # their P(any error) / P(Major error) under the detector in use (`attach_probabilities`).
    detector_words: list[Word] = field(default_factory=list)
    word_feats: np.ndarray | None = None
    word_hidden: np.ndarray | None = None
    p_any: np.ndarray | None = None
    p_major: np.ndarray | None = None

    def word_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """Per detector word: inside an annotated Major/Minor span, inside a Major span."""
        spans = [s for s in self.spans if s["severity"] in ("Major", "Minor")]
        y_any = np.zeros(len(self.detector_words), np.int8)
        y_major = np.zeros(len(self.detector_words), np.int8)
        for i, w in enumerate(self.detector_words):
            for s in spans:
                if s["start"] < w.end and w.start < s["end"]:
                    y_any[i] = 1
                    y_major[i] |= s["severity"] == "Major"
        return y_any, y_major


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
        learned = [with_alpha(w, DETECTOR_ALPHA) for w in words]
        for row, seg, seg_words, det_words in zip(doc_rows, segments, words, learned, strict=True):
            inside = segment_tokens(tokens, seg)
            shifted = [shift_word(w, -seg.start) for w in seg_words]
            hidden = sentence_hidden(tokens, seg)
            feats = with_neighbours(word_features(text, tokens, det_words, seg.start, seg.end))
            out.append(
                Evidence(
                    row_id=str(row["id"]),
                    words=shifted,
                    token_bits=bits[inside].astype(np.float32),
                    hidden_mean=hidden.astype(np.float32),
                    major=any(s["severity"] == "Major" for s in row.get("spans") or []),
                    mqm=float(row["mqm"]),
                    item=item_key(row),
                    spans=list(row.get("spans") or []),
                    target=seg.text,
                    reference=row.get("reference"),
                    source=row.get("source"),
                    detector_words=[shift_word(w, -seg.start) for w in det_words],
                    word_feats=feats,
                    word_hidden=word_hidden(tokens, det_words).astype(np.float16),
                )
            )
        if on_doc:
            on_doc(len(doc_rows))
    return out


def document_folds(evidence: list[Evidence], folds: int, seed: int) -> np.ndarray:
    """Each row's cross-validation fold, by source document: every system's translation of a
    document stays in one fold, so no fold is judged by what read its document."""
    docs = sorted({e.item.split("|")[1] for e in evidence})
    order = np.random.default_rng(seed).permutation(len(docs))
    fold_of = {doc: int(order[i]) % folds for i, doc in enumerate(docs)}
    return np.array([fold_of[e.item.split("|")[1]] for e in evidence], dtype=int)


def shift_word(word: Word, delta: int) -> Word:
    return replace(word, start=word.start + delta, end=word.end + delta)


def evidence_cache(scorer: Scorer, path: str | Path, context: str, share: float) -> Path:
    """Where `cached_extract` keeps the evidence of (data file, model, window, context, share)."""
    data = Path(path).read_bytes()
    key = hashlib.sha256(
        data
        + f"|{EVIDENCE_FORMAT}|{scorer.lm.file_hash}".encode()
        + f"|{scorer.config.window}|{scorer.config.overlap}".encode()
        + (f"|{context}|{share}".encode() if (context, share) != ("document", 1.0) else b"")
    ).hexdigest()[:20]
    return cache_dir() / "evidence" / f"{Path(path).stem}-{key}.pkl"


def cached_extract(
    scorer: Scorer,
    path: str | Path,
    context: str = "document",
    share: float = 1.0,
    detector: Detector | None = None,
    **kwargs: Any,
) -> list[Evidence]:
    """`extract`, cached by (data file hash, model hash, window, context, share), with the word
    probabilities of `detector` (default: the shipped one) attached."""
    if not Path(path).is_file():
        raise InputError(f"annotated data not found: {path}")
    cache = evidence_cache(scorer, path, context, share)
    evidence = _read_evidence(cache)
    if evidence is None:
        rows = sample_documents(load_rows(path), share)
        evidence = extract(scorer, rows, context=context, **kwargs)
        atomic_write(cache, pickle.dumps(evidence))
    attach_probabilities(evidence, detector or load_detector())
    return evidence


def _read_evidence(cache: Path) -> list[Evidence] | None:
    """The cached evidence, trusted to be nothing: a file that does not unpickle into a list of
    `Evidence` is a miss, rebuilt with one warning."""
    try:
        with cache.open("rb") as handle:
            evidence = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - any damage (pickle raises many kinds) is a miss
        evidence = exc
    if isinstance(evidence, list) and all(isinstance(e, Evidence) for e in evidence):
        return evidence
    warnings.warn(
        f"the cache file {cache} is damaged ({type(evidence).__name__}): rebuilding it",
        RuntimeWarning,
        stacklevel=3,
    )
    return None


def detector_inputs(
    evidence: list[Evidence],
) -> tuple[list[Evidence], np.ndarray, np.ndarray]:
    """The rows that have detector words, and their word features and hidden states (float32)
    stacked in row order: what the detector reads, for training and for prediction."""
    rows = [e for e in evidence if e.word_feats is not None and len(e.detector_words)]
    if not rows:
        return [], np.zeros((0, 0)), np.zeros((0, 0), np.float32)
    feats = np.concatenate([e.word_feats for e in rows if e.word_feats is not None])
    hidden = np.concatenate([e.word_hidden for e in rows if e.word_hidden is not None])
    return rows, feats, hidden.astype(np.float32)


def attach_probabilities(evidence: list[Evidence], detector: Detector) -> None:
    """Each row's word P(any error) / P(Major error) under `detector`, in one batched pass."""
    rows, feats, hidden = detector_inputs(evidence)
    if not rows:
        return
    probs = detector.predict(feats, hidden)
    at = 0
    for e in rows:
        n = len(e.detector_words)
        e.p_any = probs["any"][at : at + n].astype(np.float32)
        e.p_major = probs["major"][at : at + n].astype(np.float32)
        at += n


def words_at(evidence: Evidence, alpha: float) -> list[Word]:
    """The segment's words with anomaly recomputed for `alpha`."""
    return with_alpha(evidence.words, alpha)


def features_for(
    evidence: Evidence, config: Config, words: list[Word] | None = None
) -> dict[str, float]:
    """Sentence features for a given config (alpha and thresholds re-applied)."""

    words = words if words is not None else words_at(evidence, config.alpha)
    none = np.zeros(0)
    detector = detector_features(
        evidence.p_any if evidence.p_any is not None else none,
        evidence.p_major if evidence.p_major is not None else none,
    )
    return {**sentence_features(words, evidence.token_bits), **detector, **(evidence.extra or {})}


def feature_matrix(evidence: list[Evidence], config: Config, names: tuple[str, ...]) -> np.ndarray:
    rows = [features_for(e, config) for e in evidence]
    return np.array([[r[name] for name in names] for r in rows], dtype=np.float64)


def judge_evidence(
    evidence: Evidence,
    config: Config,
    threshold: float,
    *,
    strict: bool = False,
    editor_view: bool = True,
) -> tuple[float, bool, list[tuple[int, int]]]:
    """Score, flag and spans for one annotated segment, as `mtqa score` would read it alone
    (no number test: it needs the model). `editor_view` False: 0.9's spans and flags (names
    shown as mistranslations, no oddity spans), for before/after figures."""
    words = words_at(evidence, config.alpha)
    oddities: list[Span] = []
    features = features_for(evidence, config, words)
    source = evidence.source if evidence.extra is not None else None
    with_peers = evidence.peers is not None and uses_peers(config)
    if config.span_model == "detector" and evidence.p_any is not None:
        assert evidence.p_major is not None
        if with_peers:  # as `batch --peers` re-judges the words
            assert evidence.peers is not None
            offsets = [(w.start, w.end) for w in evidence.detector_words]
            spans = peer_aware_spans(
                evidence.target, offsets, evidence.p_any, evidence.p_major, evidence.peers
            )[0]
        else:
            spans = learned_spans(
                evidence.target, evidence.detector_words, evidence.p_any, evidence.p_major
            )
            oddities = oddity_spans(evidence.target, evidence.detector_words, evidence.p_any)
    else:
        spans = find_spans(evidence.target, words, config)
        if with_peers and evidence.peer_words is not None:
            spans += peer_spans(evidence.peer_words)
    spans += run_checks(evidence.target, source)
    by_risk = True
    if editor_view:
        peers = evidence.peers if with_peers and evidence.peers is not None else []
        spans, by_risk = review_alone(evidence.target, spans, oddities, peers, strict)
    result = judge_segment(evidence.target, features, spans, config, threshold, by_risk=by_risk)
    return result.score, result.flagged, [(s.start, s.end) for s in result.spans]


def attach_source_features(evidence: list[Evidence], path: str | Path) -> None:
    """Add each row's `src_` features (source given with the row) to its evidence."""
    rows = load_rows(path)
    matrix = mqm_source_features(rows)
    by_id = {
        str(r["id"]): dict(zip(SOURCE_FEATURES, m.tolist(), strict=True))
        for r, m in zip(rows, matrix, strict=True)
    }
    for e in evidence:
        e.extra = by_id.get(e.row_id, dict.fromkeys(SOURCE_FEATURES, 0.0))


def attach_peer_features(evidence: list[Evidence], base: Config) -> list[Evidence]:
    """Add the `rel_`/`peer_` features of each row, computed within its item (all systems'
    translations of one source segment) from `base`'s features; returns the rows that have
    enough peers (the others keep their base judgement)."""
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
            e.peers = [o.target for o in members if o is not e and o.target.strip()]
            out.append(e)
    return out


def prepare_evidence(config: Config, evidence: list[Evidence], path: str | Path) -> list[Evidence]:
    """Attach what `config` reads besides the target: the sources (`src_` features) and the
    peers (`rel_`/`peer_` features, from its base config); returns the rows it can judge."""
    if any(f.startswith("src_") for f in config.features):
        attach_source_features(evidence, path)
    if uses_peers(config):
        base = load_config(config.calibration.get("base") or config.name.removesuffix("-peers"))
        evidence = attach_peer_features(evidence, base)
    return evidence
