"""The ground floor: errors, config, result objects, sentence segmentation, files, language.

Nothing here imports any other part of mtqa.
"""

from .config import PRESETS, Config, configs_dir, load_config
from .errors import (
    EXIT_ERROR,
    EXIT_GATE,
    EXIT_OK,
    EXIT_USAGE,
    ConfigError,
    InputError,
    ModelError,
    MtqaError,
    UsageError,
)
from .files import atomic_stream, atomic_write, cache_dir, describe_os_error, read_text
from .language import check_source_lang
from .outputs import STDOUT, check_run_paths
from .result import REASONS, SEVERITIES, DocumentResult, SentenceResult, Signature, Span
from .text import dump_json, printable, validate_text
from .version import __version__

__all__ = [
    "STDOUT",
    "ConfigError",
    "UsageError",
    "check_run_paths",
    "check_source_lang",
    "describe_os_error",
    "dump_json",
    "printable",
    "validate_text",
    "EXIT_ERROR",
    "EXIT_GATE",
    "EXIT_OK",
    "EXIT_USAGE",
    "PRESETS",
    "REASONS",
    "SEVERITIES",
    "Config",
    "DocumentResult",
    "InputError",
    "ModelError",
    "MtqaError",
    "SentenceResult",
    "Signature",
    "Span",
    "__version__",
    "atomic_stream",
    "atomic_write",
    "cache_dir",
    "configs_dir",
    "load_config",
    "read_text",
]
