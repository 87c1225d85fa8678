"""mtqa: machine-translation quality checker for English news text.

The public API: `Scorer` (load once, score many documents), `score_document`, and the result
objects every output is made from. The subpackages, in the order data flows through them:
`core` (config, results, segmentation, files, language), `models` (which LM, token
log-probs), `checks` (rule-based QA), `source` (reading the source), `scoring` (signals and
judgement), then `batch`, `calibration` and `report`, which use the ones before them.
"""

from .core import DocumentResult, SentenceResult, Signature, Span, __version__
from .scoring import Scorer, score_document

__all__ = [
    "DocumentResult",
    "Scorer",
    "SentenceResult",
    "Signature",
    "Span",
    "__version__",
    "score_document",
]
