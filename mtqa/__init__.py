"""mtqa: machine-translation quality checker for English news text."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mtqa")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

from .result import DocumentResult, SentenceResult, Signature, Span  # noqa: E402
from .scorer import Scorer, score_document  # noqa: E402

__all__ = [
    "DocumentResult",
    "Scorer",
    "SentenceResult",
    "Signature",
    "Span",
    "__version__",
    "score_document",
]
