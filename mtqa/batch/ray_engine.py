"""`mtqa batch --engine ray`: score documents on a Ray cluster with Ray Data.

The corpus is read as a Ray Dataset by one read task that runs the same readers as a local run
(so documents are grouped and numbered exactly as `plan` numbered them), pinned to the driver's
node where the input files are. Documents stream through ``map_batches`` into a pool of actors,
each of which loads the `Scorer` once; results stream back to the driver, which appends them to
the same results log as a local run. Resume, summaries, peers and reports therefore work
unchanged.

Failures: an actor that dies is restarted by Ray and its document retried (Ray's actor and task
retries). A document whose scoring raises is tried once more in the actor; if it fails again it
comes back as a `Failure` and the run goes on. Blocks Ray gives up on are reported the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..core.errors import UsageError
from ..core.result import DocumentResult
from ..corpus import Corpus, Document, split_key
from .options import BatchOptions, Failure, Planned, StatusFn

RAY_HINT = "--engine ray needs Ray Data: pip install 'mtqa[ray]' (or: pip install 'ray[data]')"
GPU_BATCH_DOCS = 16  # documents a GPU actor reads in padded batches per call


def require_ray() -> None:
    """Refuse `--engine ray` in one line when Ray Data is not installed."""
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise UsageError(RAY_HINT) from None


@dataclass
class Scored:
    """A scored document as it comes back from an actor: its log lines and its result."""

    system: str
    doc_id: str
    records: list[dict[str, Any]]
    result: DocumentResult


@dataclass(frozen=True)
class ActorSettings:
    """What each actor needs to load its scorer (class attributes: no constructor args)."""

    model: str | None
    config: str | None
    preset: str
    threads: int
    device: str
    precision: str = "fp32"


def _read_documents(corpus: Corpus, done: frozenset[str]) -> Iterator[Any]:
    """The read task: the corpus's own reader, numbered like `plan`, done documents skipped;
    one block a document (the unit actors share out, and that Ray may give up on)."""
    import pyarrow as pa

    for index, doc in enumerate(corpus.documents()):
        if doc.key not in done:
            payload = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
            yield pa.table({"index": [index], "doc": [payload]})


def _actor_class(settings: ActorSettings) -> type:
    """A Ray Data callable class that loads the scorer once per actor and scores documents."""

    class ScoreDocuments:
        def __init__(self) -> None:
            import torch

            from ..scoring import Scorer

            torch.set_num_threads(settings.threads)
            self.scorer = Scorer.load(
                settings.model,
                settings.config,
                settings.preset,
                device=settings.device,
                precision=settings.precision,
            )

        def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
            from .scoring import prefetch_on_gpu, score_document
            from .store import segment_records

            payloads: list[bytes] = []
            docs: list[Document] = [pickle.loads(raw) for raw in batch["doc"]]
            prefetch_on_gpu(self.scorer, docs)
            for index, doc in zip(batch["index"], docs, strict=True):
                outcome: Scored | Failure = Failure(doc.system, doc.doc_id, "failed")
                for _attempt in range(2):  # a document that fails twice is recorded as failed
                    try:
                        result = score_document(self.scorer, doc)
                    except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
                        outcome = Failure(doc.system, doc.doc_id, f"{type(exc).__name__}: {exc}")
                        continue
                    records = segment_records(doc, int(index), result)
                    outcome = Scored(doc.system, doc.doc_id, records, result)
                    break
                payloads.append(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
            return {"index": list(batch["index"]), "outcome": payloads}

    return ScoreDocuments


class RayEngine:
    """A connection to a Ray cluster (or a local instance) that scores document streams."""

    def __init__(self, options: BatchOptions, status: StatusFn) -> None:
        require_ray()
        import ray

        self.options = options
        self.status = status
        self.started_here = not ray.is_initialized()
        if self.started_here:
            _quiet_ray()
            address = options.address
            where = address or "a local Ray instance"
            status(f"mtqa: connecting to {where}…")
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.ERROR,
                "configure_logging": True,
            }
            if address is None:
                from .scoring import available_cores

                kwargs["num_cpus"] = available_cores()
            else:
                kwargs["address"] = address
            try:
                with _native_stderr_silenced():  # Ray's C++ start-up notices
                    ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                root: BaseException = exc
                while root.__cause__ is not None:  # the root cause says why (auth, no cluster)
                    root = root.__cause__
                first = (str(root).strip().splitlines() or [type(root).__name__])[0][:300]
                raise UsageError(f"--address {address}: cannot connect to Ray ({first})") from None
        cpus = float(ray.cluster_resources().get("CPU", 1))
        self.threads = options.threads or 1
        self.actors = options.actors or max(1, int(cpus // self.threads))

    def scored(
        self, corpus: Corpus, done: frozenset[str], planned: dict[str, Planned]
    ) -> Iterator[tuple[int, Scored | Failure]]:
        """Score every document of `corpus` not in `done`, yielding results as they arrive;
        `planned` (every document's input index) names those Ray gave up on."""
        import ray
        import ray.data

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.max_errored_blocks = -1  # a lost block is reported as failed documents below
        # Blocks of one document: actors share them out one by one, and each result streams
        # back as it is done (left alone, Ray merges small blocks up to 128 MiB: one task).
        context.target_max_block_size = 1
        settings = ActorSettings(
            self.options.model,
            self.options.config,
            self.options.preset,
            self.threads,
            self.options.device,
            self.options.precision,
        )
        here = ray.get_runtime_context().get_node_id()
        source = _corpus_datasource(corpus, done)
        dataset = ray.data.read_datasource(
            source,
            override_num_blocks=1,
            num_cpus=0,  # light work: it must not wait for a CPU the actors hold
            label_selector={"ray.io/node-id": here},  # the driver's node, where the input is
        )
        self.status(
            f"mtqa: scoring on Ray with {self.actors} actor(s) ({self.threads} thread(s) each)…"
        )
        scored = dataset.map_batches(
            _actor_class(settings),
            batch_size=GPU_BATCH_DOCS if self.options.gpus_per_actor else 1,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=self.threads,
            num_gpus=self.options.gpus_per_actor or None,
        )  # Ray Data restarts a dead actor and retries its task (max_restarts=-1 by default)
        seen: set[int] = set()
        # One block at a time (a document each), as it is done: iter_rows would gather them.
        for batch in scored.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0):
            for index, outcome in zip(batch["index"], batch["outcome"], strict=True):
                seen.add(int(index))
                yield int(index), pickle.loads(outcome)
        for key, plan in planned.items():
            if key not in done and plan.index not in seen:
                why = "lost: Ray gave up on it (its worker died on every retry)"
                yield plan.index, Failure(*split_key(key), why)

    def close(self) -> None:
        if self.started_here:
            import ray

            ray.shutdown()


def _quiet_ray() -> None:
    """Ray's own logs and tuning hints go to its session folder, not to the user's terminal."""
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # C++ core-worker notices
    warnings.filterwarnings("ignore", module=r"ray(\.|$)")
    for name in ("ray", "ray.data", "ray._private"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null meanwhile (Python-level errors still raise)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _corpus_datasource(corpus: Corpus, done: frozenset[str]) -> Any:
    """The corpus as one unsplittable read (documents are grouped across its rows)."""
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class CorpusDatasource(Datasource):  # defined here: Ray is an optional import
        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(
            self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
        ) -> list[Any]:
            metadata = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None)
            return [ReadTask(lambda: _read_documents(corpus, done), metadata)]

    return CorpusDatasource()
