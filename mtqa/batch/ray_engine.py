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
import math
import os
import pickle
import queue
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import MtqaError, UsageError
from ..core.result import DocumentResult
from ..corpus import Corpus, Document, split_key
from .options import BatchOptions, Failure, Planned, StatusFn
from .ray_start import (
    ConnectRefused,
    Watcher,
    check_reachable,
    exit_on_sigterm,
    log_ray_to,
    native_stderr_to,
    route_ray_logs,
    unlog_ray,
)
from .store import RAY_LOG

RAY_HINT = "--engine ray needs Ray Data: pip install 'mtqa[ray]' (or: pip install 'ray[data]')"
GPU_BATCH_DOCS = 16  # documents a GPU actor reads in padded batches per call
#: Seconds Ray may take to connect, and to start the actors and hand back the first document
#: (a model load, a conversion on first use); `MTQA_RAY_START_TIMEOUT` sets another.
START_TIMEOUT = 60.0


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
            from .scoring import prefetch_on_gpu, score_corpus_document
            from .store import segment_records

            payloads: list[bytes] = []
            docs: list[Document] = [pickle.loads(raw) for raw in batch["doc"]]
            prefetch_on_gpu(self.scorer, docs)
            for index, doc in zip(batch["index"], docs, strict=True):
                outcome: Scored | Failure = Failure(doc.system, doc.doc_id, "failed")
                for _attempt in range(2):  # a document that fails twice is recorded as failed
                    try:
                        result = score_corpus_document(self.scorer, doc)
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
        self.watcher: Watcher | None = None
        self.log_handler: logging.Handler | None = None
        self.sigterm: Any = None  # the SIGTERM handler before ours
        self.ray_log = None if options.verbose else Path(options.output_dir) / RAY_LOG
        if self.started_here:
            try:
                self._start(ray, options.address)
            except BaseException:
                self.close()
                raise
        self.threads = options.threads or 1
        try:
            self.actors = _actors_that_fit(options, self.threads, ray.cluster_resources())
        except BaseException:
            self.close()
            raise

    def _start(self, ray: Any, address: str | None) -> None:
        """Connect to `address`, or start a local instance (watched: it dies with this process);
        Ray's log lines go to ``ray.log`` (the terminal with -v)."""
        kwargs: dict[str, Any] = {"include_dashboard": False}
        if self.ray_log is not None:
            self.log_handler = log_ray_to(self.ray_log)
            kwargs.update(log_to_driver=False, configure_logging=False)
        else:
            kwargs.update(log_to_driver=True, logging_level=logging.INFO)
        self.status(f"mtqa: connecting to {address or 'a local Ray instance'}…")
        if address is None:
            from .scoring import available_cores

            # "local": a new instance, not one that `ray start` left running here
            kwargs.update(address="local", num_cpus=available_cores())
            self.watcher = Watcher()
        else:
            kwargs["address"] = address
            try:
                check_reachable(address)  # Ray itself would retry for minutes, deaf to SIGTERM
            except ConnectRefused as exc:
                raise UsageError(
                    f"--address {address}: cannot connect to Ray ({exc}; is a cluster running "
                    "there?)"
                ) from None
        self.sigterm = signal.getsignal(signal.SIGTERM)  # restored by close
        try:
            with native_stderr_to(self.ray_log):  # Ray's C++ start-up notices
                ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            root: BaseException = exc
            while root.__cause__ is not None:  # the root cause says why (auth, no cluster)
                root = root.__cause__
            first = (str(root).strip().splitlines() or [type(root).__name__])[0][:300]
            if address is None:
                raise MtqaError(f"cannot start a local Ray instance ({first})") from None
            raise UsageError(f"--address {address}: cannot connect to Ray ({first})") from None
        exit_on_sigterm()
        if self.log_handler is not None:
            route_ray_logs(self.log_handler)  # ray.init reset its logger
            node = getattr(getattr(ray, "_private", None), "worker", None)
            node = getattr(node, "_global_node", None)
            if node is not None:
                logging.getLogger("ray").info("mtqa: Ray's own logs: %s", node.get_logs_dir_path())

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
        batches = scored.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=0)
        for batch in _started_within(batches, start_timeout(), self.ray_log):
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

            with native_stderr_to(self.ray_log):  # its notices as its processes stop
                ray.shutdown()
            self.started_here = False
        if self.sigterm is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, self.sigterm)
            self.sigterm = None
        if self.watcher is not None:
            self.watcher.close()
            self.watcher = None
        if self.log_handler is not None:
            unlog_ray(self.log_handler)
            self.log_handler = None


def start_timeout() -> float:
    """`MTQA_RAY_START_TIMEOUT` seconds (a positive finite number), else `START_TIMEOUT`."""
    try:
        seconds = float(os.environ.get("MTQA_RAY_START_TIMEOUT", START_TIMEOUT))
    except ValueError:
        return START_TIMEOUT
    return seconds if math.isfinite(seconds) and seconds > 0 else START_TIMEOUT


def _actors_that_fit(options: BatchOptions, threads: int, resources: dict[str, float]) -> int:
    """How many actors to start, refusing (before any starts) what the cluster cannot hold:
    Ray would wait forever for a GPU or CPUs that are not there."""
    cpus, gpus = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
    share = options.gpus_per_actor
    if (options.device.startswith("cuda") or share) and gpus == 0:
        asked = f"--device {options.device}" if not share else f"--gpus-per-actor {share:g}"
        instead = "--device cpu" if not share else "no --gpus-per-actor, and --device cpu"
        raise UsageError(f"{asked}: the Ray cluster has no GPU (give {instead})")
    if threads > cpus:
        raise UsageError(f"--threads {threads}: the Ray cluster has {cpus:g} CPUs")
    fit = int(cpus // threads)
    if share:
        fit = min(fit, int(gpus // share))
        if fit == 0:
            raise UsageError(f"--gpus-per-actor {share:g}: the Ray cluster has {gpus:g} GPUs")
    actors = options.actors or max(1, fit)
    if actors > fit:
        need = f"{threads} CPU(s)" + (f" and {share:g} GPU(s)" if share else "")
        raise UsageError(
            f"--actors {actors}: the Ray cluster holds {fit} actor(s) of {need} "
            f"({cpus:g} CPUs, {gpus:g} GPUs)"
        )
    return actors


def _started_within(
    batches: Iterator[Any], timeout: float, log: Path | None = None
) -> Iterator[Any]:
    """`batches`, but the first must come within `timeout` seconds, and a failure before it
    (actors that die as they start: no model, no GPU) is one line naming the cause. Ray is read
    in a helper thread so that the wait can end; `close` (ray.shutdown) then stops it."""
    out: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)

    def pull() -> None:
        try:
            for batch in batches:
                out.put(("batch", batch))
            out.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            out.put(("error", exc))

    threading.Thread(target=pull, name="mtqa-ray-results", daemon=True).start()
    more = f"; Ray's log: {log}" if log is not None else ""
    first = True
    while True:
        try:
            kind, item = out.get(timeout=timeout if first else None)
        except queue.Empty:
            raise MtqaError(
                f"Ray started no scoring actor within {timeout:g} s (stuck waiting for "
                f"resources, or the actors keep dying; MTQA_RAY_START_TIMEOUT waits longer{more})"
            ) from None
        if kind == "end":
            return
        if kind == "error":
            if first and not isinstance(item, (KeyboardInterrupt, MtqaError)):
                logging.getLogger("ray").error("mtqa: the actors failed", exc_info=item)
                why = _cause(item) + (f" ({more[2:]})" if more else "")
                raise MtqaError(f"Ray could not start the scoring actors: {why}") from None
            raise item
        first = False
        yield item


def _cause(exc: BaseException) -> str:
    """The innermost error line of the chain (Ray wraps an actor's error in its own, traceback
    and all, and Ray Data chains an empty `SystemException`): `UsageError: --device cuda: …`."""
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 20:
        chain.append(chain[-1].__cause__)
    said = []
    for link in reversed(chain):  # innermost first
        lines = [line.strip() for line in str(link).splitlines() if line.strip()]
        errors = [line for line in lines if "Error:" in line and not line.startswith("ray.")]
        if errors:
            return re.sub(r"^[\w.]+\.(?=\w+:)", "", errors[-1])[:300]  # no module path
        said += lines[-1:]
    return (said[0] if said else type(exc).__name__)[:300]


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
