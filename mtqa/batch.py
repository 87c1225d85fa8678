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
4. When every document is done, ``segments.jsonl`` is rewritten (atomically) in input order, and
   ``documents.jsonl``, ``summary.json`` and the optional HTML report index are written from it;
   an interrupted and resumed run therefore ends with the same files as an uninterrupted one.

``run.json`` records the input and scoring settings; resuming into a folder made for another
input or another model/config/preset is refused rather than mixing results.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .corpus import Corpus, Document
from .errors import InputError, MtqaError
from .io import atomic_write
from .metrics import SystemData, bootstrap_seed, compare_systems, corpus_scores
from .result import REASONS, DocumentResult

SEGMENTS = "segments.jsonl"
DOCUMENTS = "documents.jsonl"
SUMMARY = "summary.json"
RUN = "run.json"
OUTPUTS = (SEGMENTS, DOCUMENTS, SUMMARY, RUN)
FORMAT = "mtqa-batch/1"
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


@dataclass
class BatchResult:
    summary: dict[str, Any]
    scored: int  # documents scored in this run
    resumed: int  # documents already done by an earlier run
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Planned:
    index: int  # position in input order
    fingerprint: str
    chars: int


# ------------------------------------------------------------------------------- scoring


def score_document(scorer: Any, doc: Document) -> DocumentResult:
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


def _reference_field(refs: tuple[str | None, ...]) -> str | list[str | None] | None:
    if not refs:
        return None
    return refs[0] if len(refs) == 1 else list(refs)


def segment_records(doc: Document, doc_index: int, result: DocumentResult) -> list[dict[str, Any]]:
    """The results-log lines of one document: one per segment, echoing its ids.

    Span offsets are relative to the segment (``target[start:end] == text``); ``start``/``end``
    of the segment itself are offsets into the document as scored.
    """
    records = []
    segments = doc.segments
    fingerprint = doc.fingerprint()
    for n, sentence in enumerate(result.sentences):
        seg = segments[n] if segments is not None else None
        records.append(
            {
                "system": doc.system,
                "doc": doc.doc_id,
                "segment_id": sentence.segment_id,
                "item": seg.item if seg else None,
                "line": seg.line if seg else None,
                "index": n,
                "doc_index": doc_index,
                "doc_segments": len(result.sentences),
                "doc_fingerprint": fingerprint,
                "source": sentence.source,
                "target": sentence.text,
                "reference": _reference_field(seg.references) if seg else None,
                "score": round(sentence.score, 6),
                "flagged": sentence.flagged,
                "severity": sentence.severity if sentence.flagged else None,
                "reasons": list(sentence.reasons),
                "spans": [
                    {
                        "start": span.start - sentence.start,
                        "end": span.end - sentence.start,
                        "text": span.text,
                        "severity": span.severity,
                        "reason": span.reason,
                        "message": span.message,
                        "suggestions": list(span.suggestions),
                        "surprisal": round(span.surprisal, 3),
                    }
                    for span in sentence.spans
                ],
                "start": sentence.start,
                "end": sentence.end,
                "paragraph": sentence.paragraph,
                "doc_warnings": list(result.warnings),
            }
        )
    return records


_WORKER_SCORER: Any = None


def _init_worker(model: str | None, config: str | None, preset: str, threads: int) -> None:
    """Pool initializer: ignore Ctrl-C (the parent handles it), set threads, load once."""
    import signal

    import torch

    from .scorer import Scorer

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    global _WORKER_SCORER
    _WORKER_SCORER = Scorer.load(model, config, preset)


def _work(task: tuple[int, Document]) -> tuple[int, DocumentResult]:
    index, doc = task
    return index, score_document(_WORKER_SCORER, doc)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------- results log


@dataclass
class _Block:
    key: str
    fingerprint: str
    start: int
    end: int


def read_log(path: Path) -> tuple[dict[str, _Block], int, int]:
    """Complete document blocks in the log, the byte offset where they end, and the file size.

    A block is complete when it has all ``doc_segments`` lines of its document in order. The
    first line that is torn (no newline), unreadable, or out of sequence ends the usable part.
    """
    blocks: dict[str, _Block] = {}
    if not path.exists():
        return blocks, 0, 0
    good_end = offset = 0
    current: tuple[str, str, int, int] | None = None  # key, fingerprint, start, lines seen
    with open(path, "rb") as handle:
        for raw in handle:
            line_start, offset = offset, offset + len(raw)
            if not raw.endswith(b"\n"):
                break
            try:
                record = json.loads(raw)
                key = f"{record['system']}\x1f{record['doc']}"
                index, total = int(record["index"]), int(record["doc_segments"])
                fingerprint = str(record["doc_fingerprint"])
            except (ValueError, KeyError, TypeError):
                break
            if current is None:
                if index != 0:
                    break
                current = (key, fingerprint, line_start, 0)
            elif current[0] != key or current[3] != index:
                break
            current = (current[0], current[1], current[2], current[3] + 1)
            if current[3] == total:
                blocks.setdefault(key, _Block(key, fingerprint, current[2], offset))
                good_end, current = offset, None
    return blocks, good_end, path.stat().st_size


class _Log:
    """The append-only results log: one block per document, flushed and fsynced."""

    def __init__(self, path: Path) -> None:
        self.handle: IO[bytes] = open(path, "ab")  # noqa: SIM115 - closed in close()

    def append(self, records: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        self.handle.write(data.encode("utf-8"))
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


@contextmanager
def _atomic_stream(path: Path) -> Iterator[IO[str]]:
    """A text file written via a temp file in the same folder and renamed into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -------------------------------------------------------------------------------- the run


def _check_run_file(
    out: Path, corpus: Corpus, options: BatchOptions, has_results: bool
) -> dict[str, Any]:
    """The run's settings; refuse to resume results made for another input or setting."""
    wanted = {
        "format": FORMAT,
        "input": corpus.description,
        "model": options.model,
        "config": options.config,
        "preset": options.preset,
    }
    run_file = out / RUN
    if has_results:
        try:
            stored = json.loads(run_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(
                f"{out / SEGMENTS} exists but was not made by `mtqa batch`: use --restart, "
                "or another --output-dir"
            ) from None
        except (OSError, ValueError) as exc:
            raise InputError(f"{run_file} is unreadable ({exc}): use --restart") from None
        for name in ("format", "input", "model", "config", "preset"):
            if stored.get(name) != wanted[name]:
                raise InputError(
                    f"{out} holds results of another run (its {name} was "
                    f"{json.dumps(stored.get(name), ensure_ascii=False)[:200]}): use --restart "
                    "to start over, or another --output-dir"
                )
        return dict(stored)
    atomic_write(run_file, json.dumps(wanted, ensure_ascii=False, indent=2) + "\n")
    return wanted


def plan(corpus: Corpus) -> dict[str, _Planned]:
    """Read the whole corpus once: check it and note every document (key -> order, hash)."""
    planned: dict[str, _Planned] = {}
    for index, doc in enumerate(corpus.documents()):
        if doc.key in planned:
            raise InputError(
                f"{doc.origin}: document '{doc.doc_id}' of system '{doc.system}' appears twice"
            )
        planned[doc.key] = _Planned(index, doc.fingerprint(), doc.length)
    return planned


def report_name(doc_index: int, system: str, doc_id: str) -> str:
    from .report import safe_filename

    return f"{doc_index + 1:05d}-{safe_filename(f'{system}-{doc_id}')}.html"


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
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock(out)
    try:
        if options.restart:
            for name in OUTPUTS:
                (out / name).unlink(missing_ok=True)
        return _run_locked(corpus, options, out, scorer, on_progress, status)
    finally:
        lock.close()


def _lock(out: Path) -> IO[bytes]:
    """Hold an exclusive lock on the output folder: two runs must not append to one log."""
    handle = open(out / ".lock", "ab")  # noqa: SIM115 - closed by the caller
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
    systems = dict.fromkeys(key.split("\x1f", 1)[0] for key in planned)
    if options.baseline is not None and options.baseline not in systems:
        raise InputError(
            f"--baseline {options.baseline}: no such system (systems: {', '.join(systems)})"
        )
    log_path = out / SEGMENTS
    blocks, good_end, size = read_log(log_path)
    run_info = _check_run_file(out, corpus, options, has_results=size > 0)
    warnings: list[str] = []
    if good_end < size:
        os.truncate(log_path, good_end)
        warnings.append(f"cut {size - good_end:,} bytes of unfinished results from {log_path}")
    for key, block in blocks.items():
        want = planned.get(key)
        system, doc_id = key.split("\x1f", 1)
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
    if pending:
        runner = _Runner(options, scorer, run_info, out, status)
        try:
            log = _Log(log_path)
            try:
                buffer: list[tuple[int, Document]] = []
                for doc in corpus.documents():
                    if doc.key in blocks:
                        continue
                    buffer.append((planned[doc.key].index, doc))
                    if len(buffer) >= options.buffer_docs:
                        for doc_chars in runner.run(buffer, log):
                            scored += 1
                            done_chars += doc_chars
                            progress(done_docs + scored, len(planned), done_chars, total_chars)
                        buffer = []
                for doc_chars in runner.run(buffer, log):
                    scored += 1
                    done_chars += doc_chars
                    progress(done_docs + scored, len(planned), done_chars, total_chars)
            finally:
                log.close()
        finally:
            runner.close()
    reused = None if scored else _reusable_summary(out, corpus, options, run_info, len(planned))
    if reused is not None:
        status("mtqa: every document was already done; the summaries are up to date")
        summary = reused
    else:
        status("mtqa: writing summaries…")
        summary = finalize(out, corpus, planned, options, run_info)
    missing_reports = summary.get("reports", {}).get("without_report", 0)
    if missing_reports:
        warnings.append(
            f"{missing_reports:,} documents have no HTML report: they were scored by an earlier "
            "run without --report-dir (use --restart to score and report everything)"
        )
    return BatchResult(summary, scored, done_docs, warnings)


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

    def _scored(self, tasks: list[tuple[int, Document]]) -> Iterator[tuple[int, DocumentResult]]:
        jobs = max(1, self.options.jobs)
        if jobs == 1:
            if self.options.threads:
                import torch

                torch.set_num_threads(self.options.threads)
            if self.scorer is None:
                from .scorer import Scorer

                self.status("mtqa: loading model…")
                self.scorer = Scorer.load(
                    self.options.model, self.options.config, self.options.preset
                )
            for index, doc in tasks:
                yield index, score_document(self.scorer, doc)
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
                initializer=_init_worker,
                initargs=(self.options.model, self.options.config, self.options.preset, threads),
            )
        futures = [self.pool.submit(_work, task) for task in tasks]
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

    def run(self, buffer: list[tuple[int, Document]], log: _Log) -> Iterator[int]:
        """Score `buffer`, append each result to the log; yields each document's characters."""
        if not buffer:
            return
        by_index = {index: doc for index, doc in buffer}
        ordered = sorted(buffer, key=lambda task: (-task[1].length, task[0]))
        for index, result in self._scored(ordered):
            doc = by_index.pop(index)
            self._check_signature(result)
            log.append(segment_records(doc, index, result))
            if self.options.report_dir is not None:
                from .report import write_report

                name = report_name(index, doc.system, doc.doc_id)
                write_report(result, Path(self.options.report_dir) / name)
            yield doc.length

    def _check_signature(self, result: DocumentResult) -> None:
        text = result.signature.format()
        stored = self.run_info.get("signature")
        if stored is None:
            self.run_info["signature"] = text
            atomic_write(
                self.out / RUN, json.dumps(self.run_info, ensure_ascii=False, indent=2) + "\n"
            )
        elif stored != text:
            raise InputError(
                f"{self.out} holds results scored as {stored}, but this run scores as {text}: "
                "use --restart, or another --output-dir"
            )

    def close(self) -> None:
        """Stop the workers now (they may be mid-document after Ctrl-C or an error)."""
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


# ------------------------------------------------------------------------------ summaries


def _new_stats() -> dict[str, Any]:
    return {
        "n_documents": 0,
        "n_segments": 0,
        "score_sum": 0.0,
        "n_flagged": 0,
        "major": 0,
        "minor": 0,
        "reasons": {},
    }


def _add(stats: dict[str, Any], record: dict[str, Any]) -> None:
    stats["n_segments"] += 1
    stats["score_sum"] += record["score"]
    if record["flagged"]:
        stats["n_flagged"] += 1
        stats["major" if record["severity"] == "major" else "minor"] += 1
        for reason in record["reasons"]:
            stats["reasons"][reason] = stats["reasons"].get(reason, 0) + 1


def _done(stats: dict[str, Any]) -> dict[str, Any]:
    n = stats["n_segments"]
    order = {reason: i for i, reason in enumerate(REASONS)}
    reasons = dict(
        sorted(stats["reasons"].items(), key=lambda kv: (-kv[1], order.get(kv[0], 99), kv[0]))
    )
    return {
        "n_documents": stats["n_documents"],
        "n_segments": n,
        "score": round(stats["score_sum"] / n, 6) if n else 1.0,
        "n_flagged": stats["n_flagged"],
        "share_flagged": round(stats["n_flagged"] / n, 6) if n else 0.0,
        "major": stats["major"],
        "minor": stats["minor"],
        "reasons": reasons,
    }


def summary_options(options: BatchOptions) -> dict[str, Any]:
    """What, besides the results, the summaries depend on."""
    return {
        "baseline": options.baseline,
        "bootstrap": options.n_samples,
        "seed": bootstrap_seed(),
        "report_dir": str(options.report_dir) if options.report_dir is not None else None,
    }


def _all_corpus_scores(
    inputs: dict[str, tuple[list[str], list[tuple[str | None, ...]]]], jobs: int
) -> dict[str, dict[str, Any]]:
    """BLEU/chrF/TER per system; with ``--jobs`` the systems are spread over processes
    (sacrebleu's TER is pure Python: about 25 ms a segment)."""
    if jobs <= 1 or len(inputs) <= 1:
        return {name: corpus_scores(*args) for name, args in inputs.items()}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(inputs)), mp_context=context) as pool:
        results = pool.map(corpus_scores, *zip(*inputs.values(), strict=True))
        return dict(zip(inputs, results, strict=True))


def _reusable_summary(
    out: Path, corpus: Corpus, options: BatchOptions, run_info: dict[str, Any], n_docs: int
) -> dict[str, Any] | None:
    """The summary of an earlier, complete run of exactly this, if there is one."""
    if not (out / DOCUMENTS).exists():
        return None
    try:
        summary = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (
        summary.get("format") == FORMAT
        and summary.get("input") == corpus.description
        and summary.get("options") == summary_options(options)
        and summary.get("signature") == run_info.get("signature")
        and summary.get("totals", {}).get("n_documents") == n_docs
    )
    return summary if same else None


def finalize(
    out: Path,
    corpus: Corpus,
    planned: dict[str, _Planned],
    options: BatchOptions,
    run_info: dict[str, Any],
) -> dict[str, Any]:
    """Rewrite the log in input order; write documents.jsonl, summary.json, the report index."""
    log_path = out / SEGMENTS
    blocks, _, _ = read_log(log_path)
    missing = [key for key in planned if key not in blocks]
    if missing:
        raise RuntimeError(f"{len(missing)} documents have no results after the run")
    order = sorted((planned[key].index, key) for key in blocks if key in planned)
    systems: dict[str, dict[str, Any]] = {}
    system_data: dict[str, SystemData] = {}
    totals = _new_stats()
    report_dir = Path(options.report_dir) if options.report_dir is not None else None
    entries: list[dict[str, Any]] = []
    without_report = 0
    with (
        open(log_path, "rb") as log,
        _atomic_stream(log_path) as segments_out,
        _atomic_stream(out / DOCUMENTS) as documents_out,
    ):
        for doc_index, key in order:
            block = blocks[key]
            log.seek(block.start)
            data = log.read(block.end - block.start).decode("utf-8")
            segments_out.write(data)
            records = [json.loads(line) for line in data.split("\n") if line]
            first = records[0]
            system = first["system"]
            doc_stats = _new_stats()
            sys_stats = systems.setdefault(system, _new_stats())
            data_for = system_data.setdefault(system, SystemData(system))
            for record in records:
                for stats in (doc_stats, sys_stats, totals):
                    _add(stats, record)
                refs = record["reference"]
                refs = [] if refs is None else [refs] if isinstance(refs, str) else refs
                data_for.add(record["item"], record["score"], record["target"], refs)
            sys_stats["n_documents"] += 1
            totals["n_documents"] += 1
            doc_stats["n_documents"] = 1
            row = {"doc_index": doc_index, "system": system, "doc": first["doc"]}
            row |= {k: v for k, v in _done(doc_stats).items() if k != "n_documents"}
            row["warnings"] = first["doc_warnings"]
            row["report"] = None
            if report_dir is not None:
                name = report_name(doc_index, system, first["doc"])
                if (report_dir / name).exists():
                    row["report"] = str(report_dir / name)
                    entries.append(
                        {
                            "name": f"{system} / {first['doc']}",
                            "href": name,
                            "sentences": row["n_segments"],
                            "flagged": row["n_flagged"],
                            "major": row["major"],
                            "minor": row["minor"],
                            "score": row["score"],
                            "warnings": len(row["warnings"]),
                            "signature": run_info.get("signature"),
                        }
                    )
                else:
                    without_report += 1
            documents_out.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary: dict[str, Any] = {
        "format": FORMAT,
        "input": corpus.description,
        "options": summary_options(options),
        "signature": run_info.get("signature"),
        "totals": _done(totals),
        "systems": {},
    }
    metric_inputs: dict[str, tuple[list[str], list[tuple[str | None, ...]]]] = {}
    for name, stats in systems.items():
        entry = _done(stats)
        sys_data = system_data[name]
        pairs = zip(sys_data.hypotheses, sys_data.references, strict=True)
        with_refs = [(h, r) for h, r in pairs if r]
        entry["n_with_reference"] = len(with_refs)
        if with_refs:
            metric_inputs[name] = ([h for h, _ in with_refs], [r for _, r in with_refs])
        summary["systems"][name] = entry
    for name, scores in _all_corpus_scores(metric_inputs, options.jobs).items():
        summary["systems"][name].update(scores)
    summary["comparison"] = compare_systems(
        list(system_data.values()), options.baseline, options.n_samples
    )
    if report_dir is not None:
        from .report import write_index

        write_index(entries, report_dir / "index.html", signature=run_info.get("signature"))
        summary["reports"] = {
            "index": str(report_dir / "index.html"),
            "documents": len(entries),
            "without_report": without_report,
        }
    atomic_write(out / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return summary


# ------------------------------------------------------------------------------- display


def print_summary(summary: dict[str, Any], console: Any) -> None:
    """Per-system table (and the comparison against the baseline) with rich."""
    from rich.table import Table

    systems = summary["systems"]
    with_metrics = any("BLEU" in s for s in systems.values())
    table = Table(title="mtqa batch: per system", title_justify="left")
    table.add_column("system", overflow="fold")
    for name in ("docs", "segs", "score", "flag%", "major", "minor"):
        table.add_column(name, justify="right")
    if with_metrics:
        for name in ("BLEU", "chrF", "TER"):
            table.add_column(name, justify="right")
    for name, s in systems.items():
        cells = [
            name,
            f"{s['n_documents']:,}",
            f"{s['n_segments']:,}",
            f"{s['score']:.3f}",
            f"{s['share_flagged']:.1%}",
            str(s["major"]),
            str(s["minor"]),
        ]
        if with_metrics:
            cells += [f"{s[m]['score']:.1f}" if m in s else "–" for m in ("BLEU", "chrF", "TER")]
        table.add_row(*cells)
    console.print(table)
    reasons = [name for name in REASONS if any(name in s["reasons"] for s in systems.values())]
    if reasons:
        by_reason = Table(title="flags by reason", title_justify="left")
        by_reason.add_column("system", overflow="fold")
        for reason in reasons:
            by_reason.add_column(reason, justify="right")
        for name, s in systems.items():
            by_reason.add_row(name, *(str(s["reasons"].get(r, 0)) for r in reasons))
        console.print(by_reason)
    comparison = summary.get("comparison")
    if comparison:
        console.print(_comparison_table(comparison))
    shown: set[str] = set()
    for metric, signature in (comparison or {}).get("signatures", {}).items():
        console.print(f"{metric}: {signature}", style="dim", soft_wrap=True, highlight=False)
        shown.add(metric)
    for metric in ("BLEU", "chrF", "TER"):
        signature = next((s[metric]["signature"] for s in systems.values() if metric in s), None)
        if signature and metric not in shown:
            console.print(f"{metric}: {signature}", style="dim", soft_wrap=True, highlight=False)
    if summary.get("signature"):
        console.print(summary["signature"], style="dim", soft_wrap=True, highlight=False)


def _cell(result: dict[str, Any] | None, digits: int, baseline: bool = False) -> str:
    if result is None:
        return "–"
    if baseline:
        value, mean, ci = result["baseline"], result["baseline_mean"], result["baseline_ci"]
    else:
        value, mean, ci = result["score"], result["mean"], result["ci"]
    text = f"{value:.{digits}f} ({mean:.{digits}f} ± {ci:.{digits}f})"
    if not baseline:
        star = "*" if result["p_value"] < 0.05 else ""
        text += f"\n(p = {result['p_value']:.4f}){star}"
    return text


def _comparison_table(comparison: dict[str, Any]) -> Any:
    """sacrebleu's --paired-bs table, with mtqa's score as one more metric."""
    from rich.table import Table

    rows = comparison["systems"]
    table = Table(
        title=f"paired bootstrap against {comparison['baseline']} "
        f"({comparison['n_samples']} resamples, seed {comparison['seed']}; * p < 0.05)",
        title_justify="left",
    )
    table.add_column("system", overflow="fold")
    table.add_column("segs", justify="right")
    metrics = [("mtqa", "mtqa score", 3)]
    if any("BLEU" in row for row in rows):
        metrics += [("BLEU", "BLEU", 1), ("chrF", "chrF", 1)]
    for _, label, _ in metrics:
        table.add_column(f"{label} (μ ± 95% CI)", justify="center")
    sizes = {row["n_segments"] for row in rows}
    first = rows[0] if rows else None
    if first is not None and len(sizes) == 1 and "mtqa" in first:
        cells = [f"{comparison['baseline']} (baseline)", f"{first['n_segments']:,}"]
        cells += [_cell(first.get(key), digits, baseline=True) for key, _, digits in metrics]
        table.add_row(*cells, end_section=True)
    for row in rows:
        cells = [row["system"], f"{row['n_segments']:,}"]
        cells += [_cell(row.get(key), digits) for key, _, digits in metrics]
        table.add_row(*cells)
    return table


@contextmanager
def progress_bar(quiet: bool) -> Iterator[ProgressFn]:
    """A rich progress bar on stderr: documents done, segments per second-ish, ETA by text read."""
    if quiet:
        yield lambda *args: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("scoring"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[docs]} documents"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("scoring", total=None, docs="0/?")
        started = False

        def update(docs: int, total_docs: int, chars: int, total_chars: int) -> None:
            nonlocal started
            label = f"{docs:,}/{total_docs:,}"
            if not started:  # resumed work is a starting point, not speed (ETA)
                bar.reset(task, completed=chars, total=total_chars, docs=label)
                started = True
            else:
                bar.update(task, completed=chars, total=total_chars, docs=label)

        yield update


def gate_failures(
    summary: dict[str, Any], max_flagged_share: float | None, min_score: float | None
) -> list[str]:
    """Corpus-level quality gates (exit code 3 in the CLI): what failed, in words."""
    totals = summary["totals"]
    failed = []
    if max_flagged_share is not None and totals["share_flagged"] > max_flagged_share:
        failed.append(
            f"{totals['share_flagged']:.1%} of segments flagged (> {max_flagged_share:.1%})"
        )
    if min_score is not None and totals["score"] < min_score:
        failed.append(f"corpus score {totals['score']:.3f} < {min_score}")
    return failed
