"""What a batch run is told (`BatchOptions`) and what it hands back, shared by the runner,
the results store and the summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_BUFFER_DOCS = 256

ProgressFn = Callable[[int, int, int, int], None]  # docs done, docs total, chars done, total
StatusFn = Callable[[str], None]


@dataclass
class BatchOptions:
    """Everything about a batch run except the corpus."""

    output_dir: Path
    model: str | None = None
    config: str | None = None
    preset: str = "standard"
    jobs: int = 1
    threads: int | None = None  # torch threads per scoring process (default: cores // jobs)
    buffer_docs: int = DEFAULT_BUFFER_DOCS
    report_dir: Path | None = None
    baseline: str | None = None
    n_samples: int = 1000
    restart: bool = False
    peers: bool = False  # re-judge each segment against other systems' translations of it
    engine: str = "local"  # "local" (this machine, --jobs processes) or "ray"
    address: str | None = None  # Ray cluster address; None starts a local Ray instance
    actors: int | None = None  # Ray actors (default: the cluster's CPUs / threads)
    gpus_per_actor: float = 0.0
    device: str = "auto"  # "auto", "cpu", "cuda" or "cuda:N"
    precision: str = "fp32"  # the GPU's number format: fp32, bf16 or fp16
    verbose: bool = False  # Ray's own log lines on the terminal, not in the folder's ray.log


@dataclass
class BatchResult:
    summary: dict[str, Any]
    scored: int  # documents scored in this run
    resumed: int  # documents already done by an earlier run
    warnings: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)  # documents that could not be scored


@dataclass
class Failure:
    """A document that could not be scored, with why; a re-run of the same command retries it."""

    system: str
    doc_id: str
    error: str


@dataclass
class Planned:
    index: int  # position in input order
    fingerprint: str
    chars: int
