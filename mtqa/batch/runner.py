"""`mtqa batch`: score a whole corpus on one machine, resumably, in constant memory.

The run, step by step:

1. The corpus is read once to check it (every input error is reported before the model loads)
   and to note each document's key, input order and fingerprint: O(documents) small records.
2. ``segments.jsonl`` in the output folder is the append-only results log: each scored document
   is appended as one block of lines (one per segment) in a single write, then flushed and
   fsynced. On a re-run the log is read back: complete blocks are done, a torn block at the end
   (an interrupted write) is cut off, and only the remaining documents are scored.
3. Documents stream through a bounded buffer (`BatchOptions.buffer_docs`) and are scored
   longest first within it, in this process or in ``--jobs`` worker processes that each load
   the scorer once (torch threads = cores // jobs).
4. When every document is done, the peer pass (`peers.peer_pass`) rewrites ``segments.jsonl``
   (atomically) in input order, re-judged with peers under ``--peers``; then ``documents.jsonl``,
   ``summary.json`` and the optional HTML report index are written from it (`summary`); an
   interrupted and resumed run therefore ends with the same files as an uninterrupted one.

``run.json`` records the input and scoring settings; resuming into a folder made for another
input or another model/config/preset is refused rather than mixing results.

The output folder and results log are in `store`, the summaries in `summary`, the peer pass
in `peers`, the terminal view in `view`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..core.errors import InputError, MtqaError
from ..core.files import atomic_write
from ..core.result import DocumentResult
from ..core.text import dump_json
from ..corpus import Corpus, Document, document_key, split_key
from .options import BatchOptions, BatchResult, Failure, Planned, ProgressFn, StatusFn
from .peers import peer_pass
from .scoring import available_cores, init_worker, read_ahead, work
from .store import (
    FAILED,
    LOCK,
    RUN,
    SEGMENTS,
    ResultsLog,
    check_run_file,
    protect_inputs,
    read_log,
    report_name,
    restart,
    segment_records,
    write_failures,
)
from .summary import finalize, reusable_summary

# -------------------------------------------------------------------------------- the run


def plan(corpus: Corpus) -> dict[str, Planned]:
    """Read the whole corpus once: check it and note every document (key -> order, hash)."""
    planned: dict[str, Planned] = {}
    for index, doc in enumerate(corpus.documents()):
        if doc.key in planned:
            raise InputError(
                f"{doc.origin}: document '{doc.doc_id}' of system '{doc.system}' appears twice"
            )
        planned[doc.key] = Planned(index, doc.fingerprint(), doc.length)
    return planned


def run_batch(
    corpus: Corpus,
    options: BatchOptions,
    scorer: Any = None,
    on_progress: ProgressFn | None = None,
    on_status: StatusFn | None = None,
) -> BatchResult:
    """Score every document of `corpus` into `options.output_dir`, resuming earlier work.

    `scorer` (a loaded `Scorer`) is used as is when given and ``jobs == 1``; otherwise it is
    loaded only if some document still needs scoring.
    """
    status = on_status or (lambda message: None)
    out = Path(options.output_dir)
    protect_inputs(out, corpus)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock(out)
    try:
        return _run_locked(corpus, options, out, scorer, on_progress, status)
    except BaseException:
        if created and {p.name for p in out.iterdir()} <= {LOCK, RUN}:
            shutil.rmtree(out, ignore_errors=True)  # a run that failed early leaves no folder
        raise
    finally:
        lock.close()


def _lock(out: Path) -> IO[bytes]:
    """Hold an exclusive lock on the output folder: two runs must not append to one log."""
    handle = open(out / LOCK, "ab")  # noqa: SIM115 - closed by the caller
    try:
        import fcntl
    except ImportError:  # not on POSIX: no locking
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise InputError(f"another `mtqa batch` is writing to {out}") from None
    return handle


def _run_locked(
    corpus: Corpus,
    options: BatchOptions,
    out: Path,
    scorer: Any,
    on_progress: ProgressFn | None,
    status: StatusFn,
) -> BatchResult:
    status("mtqa: reading the corpus…")
    planned = plan(corpus)
    systems = dict.fromkeys(split_key(key)[0] for key in planned)
    if options.baseline is not None and options.baseline not in systems:
        raise InputError(
            f"--baseline {options.baseline}: no such system (systems: {', '.join(systems)})"
        )
    warnings: list[str] = []
    if options.peers:
        from ..scoring import MIN_CANDIDATES
        from .peers import peers_config

        peers_config(options.config)  # fail before scoring when it is not calibrated
        if len(systems) < MIN_CANDIDATES:
            warnings.append(
                f"--peers: {len(systems)} systems; a segment needs {MIN_CANDIDATES} "
                "translations to be compared with its peers, so judgements stay as they are"
            )
    if options.restart:  # only now: a run refused above keeps the earlier results
        restart(out)
    log_path = out / SEGMENTS
    blocks, good_end, size = read_log(log_path)
    run_info = check_run_file(out, corpus, options, has_results=size > 0)
    if good_end < size:
        os.truncate(log_path, good_end)
        warnings.append(f"cut {size - good_end:,} bytes of unfinished results from {log_path}")
    for key, block in blocks.items():
        want = planned.get(key)
        system, doc_id = split_key(key)
        if want is None or want.fingerprint != block.fingerprint:
            change = "is no longer in the input" if want is None else "has changed"
            raise InputError(
                f"document '{doc_id}' of system '{system}' {change} since {log_path} was "
                "written: use --restart to score everything again"
            )
    total_chars = sum(p.chars for p in planned.values())
    done_docs = len(blocks)
    done_chars = sum(planned[key].chars for key in blocks)
    pending = len(planned) - done_docs
    if done_docs:
        status(f"mtqa: resuming: {done_docs:,} of {len(planned):,} documents already done")
    progress = on_progress or (lambda *args: None)
    progress(done_docs, len(planned), done_chars, total_chars)

    scored = 0
    failures: list[Failure] = []
    if pending:
        runner = _Runner(options, scorer, run_info, out, status)
        try:
            log = ResultsLog(log_path)
            try:
                for doc_chars in runner.stream(corpus, blocks, planned, log, failures):
                    scored += 1
                    done_chars += doc_chars
                    progress(done_docs + scored, len(planned), done_chars, total_chars)
            finally:
                log.close()
        finally:
            runner.close()
    failed_keys = write_failures(out, failures)
    scored -= len(failures)
    if failures:
        warnings.append(
            f"{len(failures):,} document(s) could not be scored (see {out / FAILED}); "
            "re-run the same command to retry them"
        )
    reused = None
    if not (scored or failures):
        reused = reusable_summary(out, corpus, options, run_info, len(planned))
    if reused is not None:
        status("mtqa: every document was already done; the summaries are up to date")
        summary = reused
    else:
        status("mtqa: writing summaries…")
        signature = peer_pass(out, planned, options, run_info.get("signature"), failed_keys)
        summary = finalize(out, corpus, planned, options, signature, failed_keys)
    missing_reports = summary.get("reports", {}).get("without_report", 0)
    if missing_reports:
        warnings.append(
            f"{missing_reports:,} documents have no HTML report: they were scored by an earlier "
            "run without --report-dir (use --restart to score and report everything)"
        )
    return BatchResult(summary, scored, done_docs, warnings, failures)


class _Runner:
    """Scores buffers of documents (longest first) in-process or in a worker pool."""

    def __init__(
        self,
        options: BatchOptions,
        scorer: Any,
        run_info: dict[str, Any],
        out: Path,
        status: StatusFn,
    ) -> None:
        self.options, self.scorer, self.run_info, self.out = options, scorer, run_info, out
        self.status = status
        self.pool: Any = None
        self.engine: Any = None

    def _scored(self, tasks: list[tuple[int, Document]]) -> Iterator[tuple[int, DocumentResult]]:
        jobs = max(1, self.options.jobs)
        if jobs == 1:
            if self.options.threads:
                import torch

                torch.set_num_threads(self.options.threads)
            if self.scorer is None:
                from ..scoring import Scorer

                self.status("mtqa: loading model…")
                self.scorer = Scorer.load(
                    self.options.model,
                    self.options.config,
                    self.options.preset,
                    device=self.options.device,
                    precision=self.options.precision,
                )
            yield from read_ahead(self.scorer, tasks)  # forward passes a document ahead
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        if self.pool is None:
            threads = self.options.threads or max(1, available_cores() // jobs)
            self.status(f"mtqa: starting {jobs} workers ({threads} thread(s) each)…")
            self.pool = ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(
                    self.options.model,
                    self.options.config,
                    self.options.preset,
                    threads,
                    self.options.device,
                    self.options.precision,
                ),
            )
        futures = [self.pool.submit(work, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BrokenProcessPool:
            raise MtqaError(
                "a worker process died (out of memory?); finished documents are saved: "
                "re-run the same command to resume, perhaps with fewer --jobs"
            ) from None
        finally:
            for future in futures:
                future.cancel()

    def stream(
        self,
        corpus: Corpus,
        done: dict[str, Any],
        planned: dict[str, Planned],
        log: ResultsLog,
        failures: list[Failure],
    ) -> Iterator[int]:
        """Score every document not in `done`; yields each one's characters as it is saved."""
        if self.options.engine == "ray":
            from .ray_engine import RayEngine

            self.engine = RayEngine(self.options, self.status)
            for index, outcome in self.engine.scored(corpus, frozenset(done), planned):
                key = document_key(outcome.system, outcome.doc_id)
                if isinstance(outcome, Failure):
                    failures.append(outcome)
                else:
                    self._save(
                        index, outcome.system, outcome.doc_id, outcome.records, outcome.result, log
                    )
                yield planned[key].chars
            return
        buffer: list[tuple[int, Document]] = []
        for doc in corpus.documents():
            if doc.key in done:
                continue
            buffer.append((planned[doc.key].index, doc))
            if len(buffer) >= self.options.buffer_docs:
                yield from self._run_buffer(buffer, log)
                buffer = []
        yield from self._run_buffer(buffer, log)

    def _run_buffer(self, buffer: list[tuple[int, Document]], log: ResultsLog) -> Iterator[int]:
        """Score `buffer` (longest first) and save each result; yields each one's characters."""
        if not buffer:
            return
        by_index = {index: doc for index, doc in buffer}
        ordered = sorted(buffer, key=lambda task: (-task[1].length, task[0]))
        for index, result in self._scored(ordered):
            doc = by_index.pop(index)
            records = segment_records(doc, index, result)
            self._save(index, doc.system, doc.doc_id, records, result, log)
            yield doc.length

    def _save(
        self,
        index: int,
        system: str,
        doc_id: str,
        records: list[dict[str, Any]],
        result: DocumentResult,
        log: ResultsLog,
    ) -> None:
        """Append one document's records to the log (and write its report)."""
        self._check_signature(result)
        log.append(records)
        if self.options.report_dir is not None:
            from ..report import write_report

            write_report(result, Path(self.options.report_dir) / report_name(index, system, doc_id))

    def _check_signature(self, result: DocumentResult) -> None:
        text = result.signature.format()
        stored = self.run_info.get("signature")
        if stored is None:
            self.run_info["signature"] = text
            atomic_write(self.out / RUN, dump_json(self.run_info, indent=2) + "\n")
        elif stored != text:
            raise InputError(
                f"{self.out} holds results scored as {stored}, but this run scores as {text}: "
                "use --restart, or another --output-dir"
            )

    def close(self) -> None:
        """Stop the workers now (they may be mid-document after Ctrl-C or an error)."""
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        if self.pool is None:
            return
        processes = list(getattr(self.pool, "_processes", {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
        self.pool = None
