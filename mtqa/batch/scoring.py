"""Scoring one corpus document, in this process or in a worker: shared by the local runner and
the Ray actors."""

from __future__ import annotations

import ctypes
import os
import sys
import time
from typing import Any

from ..core.errors import InputError
from ..core.result import DocumentResult
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
