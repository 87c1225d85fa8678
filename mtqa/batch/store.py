"""The output folder of `mtqa batch`: file names, the append-only results log, ``run.json``,
and documents rebuilt from their log records."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..core.errors import InputError
from ..core.files import atomic_write, loads_bounded
from ..core.result import DocumentResult, SentenceResult, Signature, Span
from ..core.text import dump_json
from ..core.timing import timed
from ..corpus import Corpus, Document, document_key
from .options import BatchOptions, Failure

SEGMENTS = "segments.jsonl"
DOCUMENTS = "documents.jsonl"
SUMMARY = "summary.json"
RUN = "run.json"
FAILED = "failed.jsonl"  # documents that could not be scored in the last run (retried on re-run)
RAY_LOG = "ray.log"  # Ray's own log lines (--engine ray without -v), appended by each run
OUTPUTS = (SEGMENTS, DOCUMENTS, SUMMARY, RUN, FAILED, RAY_LOG)
LOCK = ".lock"
#: Every name a run writes or removes in the output folder, and in the report folder (the
#: pages' names come from the documents: `report_name`), for `check_run_paths`.
OWNED_FILES = (*OUTPUTS, LOCK)
REPORT_FILES = ("index.html", "?????-*.html")
FORMAT = "mtqa-batch/2"  # 2: records carry the sentence features


def _reference_field(refs: tuple[str | None, ...]) -> str | list[str | None] | None:
    if not refs:
        return None
    return refs[0] if len(refs) == 1 else list(refs)


@timed("output")
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
                "spans": [span.to_record(sentence.start) for span in sentence.spans],
                "features": sentence.features,
                "words": [
                    [start - sentence.start, end - sentence.start, p_any, p_major]
                    for start, end, p_any, p_major in sentence.word_probabilities
                ],
                "start": sentence.start,
                "end": sentence.end,
                "paragraph": sentence.paragraph,
                "doc_warnings": list(result.warnings),
            }
        )
    return records


def report_name(doc_index: int, system: str, doc_id: str) -> str:
    from ..report import safe_filename

    return f"{doc_index + 1:05d}-{safe_filename(f'{system}-{doc_id}')}.html"


@dataclass
class Block:
    key: str
    fingerprint: str
    start: int
    end: int


def read_log(path: Path) -> tuple[dict[str, Block], int, int]:
    """Complete document blocks in the log, the byte offset where they end, and the file size.

    A block is complete when it has all ``doc_segments`` lines of its document in order. The
    first line that is torn (no newline), unreadable, or out of sequence ends the usable part.
    """
    blocks: dict[str, Block] = {}
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
                record = loads_bounded(raw)
                key = document_key(record["system"], record["doc"])
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
                blocks.setdefault(key, Block(key, fingerprint, current[2], offset))
                good_end, current = offset, None
    return blocks, good_end, path.stat().st_size


class ResultsLog:
    """The append-only results log: one block per document, flushed and fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[bytes] = open(path, "ab")  # noqa: SIM115 - closed in close()

    @timed("output")
    def append(self, records: list[dict[str, Any]]) -> None:
        data = "".join(dump_json(r) + "\n" for r in records)
        try:
            self.handle.write(data.encode("utf-8"))
            self.handle.flush()
            os.fsync(self.handle.fileno())
        except OSError as exc:  # a full disk names the log, not "standard output"
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None

    def close(self) -> None:
        try:
            self.handle.close()
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None


def check_run_file(
    out: Path, corpus: Corpus, options: BatchOptions, has_results: bool
) -> dict[str, Any]:
    """The run's settings; refuse to resume results made for another input or setting."""
    wanted = {
        "format": FORMAT,
        "input": corpus.description,
        "model": options.model,
        "config": options.config,
        "preset": options.preset,
        "files": list(OUTPUTS),  # what this run writes here: all that --restart may remove
    }
    run_file = out / RUN
    if has_results:
        try:
            stored = read_run_file(out)
        except FileNotFoundError:
            raise InputError(
                f"{out / SEGMENTS} exists but was not made by `mtqa batch` (there is no "
                f"{RUN}): move it away, or choose another --output-dir"
            ) from None
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{run_file} is unreadable ({exc}): move the results in {out} away, or choose "
                "another --output-dir"
            ) from None
        for name in ("format", "input", "model", "config", "preset"):
            if stored.get(name) != wanted[name]:
                raise InputError(
                    f"{out} holds results of another run (its {name} was "
                    f"{json.dumps(stored.get(name), ensure_ascii=False)[:200]}): use --restart "
                    "to start over, or another --output-dir"
                )
        return dict(stored)
    atomic_write(run_file, dump_json(wanted, indent=2) + "\n")
    return wanted


def read_run_file(out: Path) -> dict[str, Any]:
    """``run.json`` of an earlier run: an object naming an ``mtqa-batch/`` format, or
    ValueError (OSError when it cannot be read; FileNotFoundError when there is none)."""
    stored = loads_bounded((out / RUN).read_bytes())
    if not isinstance(stored, dict) or not str(stored.get("format", "")).startswith("mtqa-batch/"):
        raise ValueError("not a run file of `mtqa batch`")
    return stored


def protect_inputs(out: Path, corpus: Corpus) -> None:
    """Refuse a run that would write or remove one of its own input files in `out` (the CLI
    refuses it earlier, in `check_run_paths`; this guards the Python API)."""
    inputs = input_paths(corpus)
    for name in OWNED_FILES:
        if any(_same_file(out / name, given) for given in inputs):
            raise InputError(
                f"{out / name} is an input of this run, and `mtqa batch` writes that name in "
                "its output folder: move it, or choose another --output-dir"
            )


def restart(out: Path) -> None:
    """``--restart``: remove only the files that the earlier run recorded in ``run.json`` as
    its own (after `protect_inputs`, never an input of this run)."""
    present = [name for name in OUTPUTS if (out / name).exists()]
    if not present:
        return
    try:
        stored = read_run_file(out)
    except (OSError, ValueError) as exc:
        reason = "there is none" if isinstance(exc, FileNotFoundError) else f"unreadable: {exc}"
        raise InputError(
            f"--restart removes only what an earlier `mtqa batch` recorded in {out / RUN} "
            f"({reason}), so {out / present[0]} stays: move it away, or choose another "
            "--output-dir"
        ) from None
    recorded = stored.get("files", list(OUTPUTS))  # 0.9.0 runs wrote no list: the fixed names
    if not isinstance(recorded, list):
        recorded = []
    for name in OUTPUTS:
        if name in recorded:  # a recorded name outside the fixed set is never removed
            (out / name).unlink(missing_ok=True)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def input_paths(corpus: Corpus) -> list[Path]:
    """The files a corpus reads, from its description (resolved paths)."""
    description = corpus.description
    found: list[Path] = []
    for key in ("input", "targets", "source", "references", "docs"):
        value = description.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and os.path.isabs(item):
                found.append(Path(item))
    return found


def document_from_records(records: list[dict[str, Any]], signature: Signature) -> DocumentResult:
    """A segmented document's result rebuilt from its log records (the inverse of
    `segment_records`), for reports of judgements made after scoring (`--peers`)."""
    sentences = []
    for record in records:
        start = int(record["start"])
        spans = [Span.from_record(s, start) for s in record["spans"]]
        sentences.append(
            SentenceResult(
                index=int(record["index"]),
                start=start,
                end=int(record["end"]),
                text=str(record["target"]),
                paragraph=int(record["paragraph"]),
                score=float(record["score"]),
                flagged=bool(record["flagged"]),
                severity=record["severity"],
                spans=spans,
                reasons=list(record["reasons"]),
                features=dict(record.get("features") or {}),
                segment_id=record["segment_id"],
                source=record["source"],
                reference=_first_reference(record["reference"]),
                word_probabilities=[
                    (int(a) + start, int(b) + start, float(p), float(m))
                    for a, b, p, m in record.get("words") or []
                ],
            )
        )
    return DocumentResult(
        text="\n".join(str(r["target"]) for r in records),
        sentences=sentences,
        signature=signature,
        doc_id=records[0]["doc"] if records else None,
        warnings=list(records[0]["doc_warnings"]) if records else [],
    )


def _first_reference(field: str | list[str | None] | None) -> str | None:
    if isinstance(field, list):
        return next((r for r in field if r is not None), None)
    return field


def write_failures(out: Path, failures: list[Failure]) -> set[str]:
    """Record this run's failed documents in ``failed.jsonl`` (removed when none failed)."""
    path = out / FAILED
    if not failures:
        path.unlink(missing_ok=True)
        return set()
    rows = [{"system": f.system, "doc": f.doc_id, "error": f.error} for f in failures]
    atomic_write(path, "".join(dump_json(r) + "\n" for r in rows))
    return {document_key(f.system, f.doc_id) for f in failures}
