"""Scoring one corpus document, in this process or in a worker: shared by the local runner and
the Ray actors."""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from ..core.errors import InputError
from ..core.result import DocumentResult
from ..core.text import validate_text
from ..corpus import Document


def score_corpus_document(scorer: Any, doc: Document) -> DocumentResult:
    """Score one corpus document; segment ids, sources and references set on each sentence."""
    try:
        if doc.text is not None:
            result: DocumentResult = scorer.score(doc.text, doc_id=doc.doc_id)
            for sentence in result.sentences:
                sentence.segment_id = f"{doc.doc_id}:{sentence.index + 1}"
            return result
        segments = doc.segments or []
        sources = [s.source for s in segments]
        result = scorer.score_segments(
            [s.target for s in segments],
            doc_id=doc.doc_id,
            sources=sources if any(sources) else None,
        )
    except InputError as exc:
        raise InputError(f"{doc.origin}: {exc}") from None
    if len(result.sentences) != len(segments):
        raise RuntimeError(
            f"{doc.origin}: {len(segments)} segments but {len(result.sentences)} results"
        )
    for sentence, segment in zip(result.sentences, segments, strict=True):
        sentence.segment_id = segment.segment_id
        sentence.source = segment.source
        sentence.reference = next((r for r in segment.references if r is not None), None)
    return result


_WORKER_SCORER: Any = None


def init_worker(
    model: str | None,
    config: str | None,
    preset: str,
    threads: int,
    device: str,
    precision: str = "fp32",
) -> None:
    """Pool initializer: die with the driver, ignore Ctrl-C (the parent handles it), set
    threads, load once."""
    die_with_parent()  # first: the imports and the model take seconds
    import signal

    import torch

    from ..scoring import Scorer

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    global _WORKER_SCORER
    _WORKER_SCORER = Scorer.load(model, config, preset, device=device, precision=precision)


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> None:
    """End this worker when its driver ends, however it ends: a driver killed with SIGKILL
    cannot stop its workers, and an idle worker would wait on the task queue forever (it holds
    the queue's write end itself). On Linux the kernel sends SIGKILL (PR_SET_PDEATHSIG);
    elsewhere a daemon thread checks the parent's pid every second."""
    import signal
    import threading
    from multiprocessing import parent_process

    parent = parent_process()
    expected = parent.pid if parent is not None and parent.pid else os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
        if armed:
            if os.getppid() != expected:  # the driver died before the signal was armed
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == expected:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="mtqa-parent-watch", daemon=True).start()


def work(task: tuple[int, Document]) -> tuple[int, DocumentResult]:
    index, doc = task
    return index, score_corpus_document(_WORKER_SCORER, doc)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def document_text(doc: Document) -> str:
    """The text the scorer reads for `doc` (segments are read as lines of one document)."""
    if doc.text is not None:
        return doc.text
    return "\n".join(s.target for s in doc.segments or ())


def prefetch_on_gpu(scorer: Any, docs: list[Document]) -> None:
    """On a GPU, read the documents' tokens in padded batches first (one pass per batch, not
    per document); on a CPU do nothing (its numbers stay those of one pass a document)."""
    if len(docs) > 1 and scorer.lm.device != "cpu":
        scorer.prefetch([document_text(doc) for doc in docs])


#: Documents read ahead (their forward passes done) while earlier ones are judged.
READ_AHEAD = 2
#: On a GPU the reading thread reads this many documents in one padded batch.
GPU_CHUNK = 32


def worth_reading_ahead(device: str, torch_threads: int, cores: int) -> bool:
    """Whether a reading thread pays: on a GPU always; on a CPU only when the forward passes
    leave a core free for the judging thread. Where torch's threads take every core there is
    nothing to overlap: on 2 cores `mtqa batch` on 300 MQM dev rows took 29.0 s in turn and
    28.7 s read ahead (medians of 4, pair ratio 1.02), and in a process that had run torch
    before, 20.9 s in turn against 23.8 s read ahead (the judging thread preempts torch's
    threads at their barriers)."""
    return device != "cpu" or cores > torch_threads


def read_ahead(
    scorer: Any, tasks: list[tuple[int, Document]], depth: int = READ_AHEAD
) -> Iterator[tuple[int, DocumentResult]]:
    """Score `tasks` in order, with a reading thread running the forward passes of the next
    documents (`Scorer.prefetch`) while this thread judges the current one: a bounded queue
    between the two (torch releases the GIL in its forward passes). On a CPU each document is
    read alone in one pass, as `Scorer.score` reads it, so the numbers are unchanged; on a GPU
    in padded batches of `GPU_CHUNK`. The reader never raises: a document it cannot read (bad
    input, out of memory) is read again here, and fails here with its usual error. A scorer
    without `prefetch`, or a CPU whose cores torch's threads all take (`worth_reading_ahead`),
    is run in this thread alone."""
    prefetch = getattr(scorer, "prefetch", None)
    threads = _torch_threads()
    device = scorer.lm.device
    if (
        prefetch is None
        or len(tasks) < 2
        or not worth_reading_ahead(device, threads, available_cores())
    ):
        for index, doc in tasks:
            yield index, score_corpus_document(scorer, doc)
        return
    chunk = GPU_CHUNK if device != "cpu" else 1
    ready: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth // chunk))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        _set_torch_threads(threads)  # a new thread's OpenMP team starts at the default size
        for begin in range(0, len(tasks), chunk):
            part = tasks[begin : begin + chunk]
            with contextlib.suppress(Exception):  # met again, and reported, when judged
                prefetch([text for text in map(document_text, (d for _, d in part)) if _ok(text)])
            if not put(part):
                return
        put(None)

    reader = threading.Thread(target=read, name="mtqa-read-ahead", daemon=True)
    reader.start()
    try:
        while (part := ready.get()) is not None:
            for index, doc in part:
                yield index, score_corpus_document(scorer, doc)
    finally:
        stop.set()
        reader.join()


def _ok(text: str) -> bool:
    """Whether `Scorer.score` would read `text` (else it refuses it before any forward pass)."""
    try:
        validate_text(text)
    except InputError:
        return False
    return True


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
