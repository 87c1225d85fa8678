"""Reading the source: sentence splitting and alignment, pairing, the multilingual encoder,
source-aware features and findings, and the optional adequacy reader."""

from .align import Alignment, AlignParams, align_sentences
from .encoder import ENCODER_ID, cached_vectors, distinct_vectors, embed, pair_cosines
from .features import SOURCE_FEATURES, mqm_source_features, pair_features, source_features
from .pairing import OmittedSentence, SourcePair, given_pairs, pair_document, source_spans
from .split import split_source

__all__ = [
    "ENCODER_ID",
    "SOURCE_FEATURES",
    "AlignParams",
    "Alignment",
    "OmittedSentence",
    "SourcePair",
    "align_sentences",
    "cached_vectors",
    "distinct_vectors",
    "embed",
    "given_pairs",
    "mqm_source_features",
    "pair_cosines",
    "pair_document",
    "pair_features",
    "source_features",
    "source_spans",
    "split_source",
]
