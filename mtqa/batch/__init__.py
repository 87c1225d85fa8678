"""Batch evaluation of a corpus: options, the resumable runner, the results store, summaries
with sacrebleu metrics and bootstrap comparisons, the `--peers` pass and the terminal view."""

from .options import BatchOptions, BatchResult, Failure
from .ray_engine import RAY_HINT, require_ray
from .runner import available_cores, run_batch
from .store import OWNED_FILES, REPORT_FILES
from .summary import gate_failures
from .view import print_summary, progress_bar

__all__ = [
    "BatchOptions",
    "BatchResult",
    "Failure",
    "OWNED_FILES",
    "REPORT_FILES",
    "RAY_HINT",
    "available_cores",
    "gate_failures",
    "print_summary",
    "progress_bar",
    "require_ray",
    "run_batch",
]
