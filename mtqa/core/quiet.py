"""Keep third-party progress bars and log noise off the user's terminal (COMET's lesson)."""

from __future__ import annotations

import logging
import os
import sys
import warnings


def quiet_third_party() -> None:
    """Silence transformers/datasets progress bars and log noise (COMET's lesson)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    import transformers

    datasets = sys.modules.get("datasets")  # quieten it only where it is used: importing costs
    if datasets is not None:  # a third of a second on every `mtqa score`
        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    for logger in ("transformers", "accelerate", "huggingface_hub", "datasets", "gguf"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="transformers")
    warnings.filterwarnings("ignore", module="accelerate")
