"""Scoring a document: token log-probs -> word signals -> sentence judgements (the `Scorer`),
and the peer signals that compare a translation with other systems' translations."""

from .judge import judge_segment, judge_sentence, risk
from .peer_support import PEER_WORD_FEATURES, load_peer_detector, peer_aware_spans
from .peers import (
    MIN_CANDIDATES,
    PEER_FEATURES,
    PeerWord,
    group_features,
    peer_feature_names,
    peer_spans,
    peer_words,
    uses_peers,
    with_peer_suggestions,
)
from .review import review_alone
from .scorer import Scorer, check_config, join_segments, score_document, sentence_hidden
from .signals import FEATURES, LN2, Word, anomaly, segment_tokens, sentence_features

__all__ = [
    "FEATURES",
    "LN2",
    "MIN_CANDIDATES",
    "PEER_FEATURES",
    "PEER_WORD_FEATURES",
    "PeerWord",
    "Scorer",
    "Word",
    "check_config",
    "anomaly",
    "group_features",
    "join_segments",
    "load_peer_detector",
    "judge_segment",
    "judge_sentence",
    "peer_aware_spans",
    "peer_feature_names",
    "peer_spans",
    "peer_words",
    "review_alone",
    "risk",
    "score_document",
    "segment_tokens",
    "sentence_features",
    "sentence_hidden",
    "uses_peers",
    "with_peer_suggestions",
]
