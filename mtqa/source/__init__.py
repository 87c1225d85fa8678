"""Reading the source: sentence splitting and alignment, pairing, the multilingual encoder,
source-aware features and findings, the CC-CEDICT dictionary checks (names, missing and added
words) and the optional adequacy reader."""

from .align import Alignment, AlignParams, align_sentences
from .dictionary import DictionaryError
from .encoder import ENCODER_ID, cached_vectors, distinct_vectors, embed, pair_cosines
from .features import SOURCE_FEATURES, mqm_source_features, pair_features, source_features
from .lexical import (
    LEXICAL_REASONS,
    LexicalFinding,
    LexicalParams,
    dictionary_spans,
    lexical_findings,
)
from .pairing import OmittedSentence, SourcePair, given_pairs, pair_document, source_spans
from .split import split_source

__all__ = [
    "ENCODER_ID",
    "LEXICAL_REASONS",
    "SOURCE_FEATURES",
    "AlignParams",
    "Alignment",
    "DictionaryError",
    "LexicalFinding",
    "LexicalParams",
    "OmittedSentence",
    "SourcePair",
    "align_sentences",
    "cached_vectors",
    "dictionary_spans",
    "distinct_vectors",
    "embed",
    "given_pairs",
    "lexical_findings",
    "mqm_source_features",
    "pair_cosines",
    "pair_document",
    "pair_features",
    "source_features",
    "source_spans",
    "split_source",
]
