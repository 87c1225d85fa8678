"""The output folder of `mtqa batch`: file names, the append-only results log, ``run.json``,
and documents rebuilt from their log records."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..core.errors import InputError
from ..core.files import atomic_write
from ..core.result import DocumentResult, SentenceResult, Signature, Span
from ..corpus import Corpus, Document, document_key
from .options import BatchOptions, Failure

SEGMENTS = "segments.jsonl"
DOCUMENTS = "documents.jsonl"
SUMMARY = "summary.json"
RUN = "run.json"
FAILED = "failed.jsonl"  # documents that could not be scored in the last run (retried on re-run)
OUTPUTS = (SEGMENTS, DOCUMENTS, SUMMARY, RUN, FAILED)
FORMAT = "mtqa-batch/2"  # 2: records carry the sentence features


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
                record = json.loads(raw)
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
        self.handle: IO[bytes] = open(path, "ab")  # noqa: SIM115 - closed in close()

    def append(self, records: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        self.handle.write(data.encode("utf-8"))
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


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
    atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return {document_key(f.system, f.doc_id) for f in failures}
