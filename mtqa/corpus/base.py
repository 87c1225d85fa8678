"""What every corpus reader yields: input segments grouped into documents, in a corpus."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import InputError

#: Input field -> accepted column names, first match wins (``--field`` overrides).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "target": ("target", "mt", "hyp", "hypothesis", "translation"),
    "source": ("source", "src"),
    "reference": ("reference", "ref", "references", "refs"),
    "doc": ("doc", "doc_id", "docid", "document"),
    "system": ("system", "sys", "system_name"),
    "id": ("segment_id", "id"),
    "seg": ("doc_seg_id", "seg_id"),
}
FIELDS = tuple(FIELD_ALIASES)
NUMBERED_REF = re.compile(r"^(reference|ref)[-_]?\d+$", re.IGNORECASE)
#: A document longer than this many segments is read in parts ("doc#2", ...).
MAX_DOC_SEGMENTS = 500
#: At most this many systems' documents are kept open while grouping interleaved rows.
MAX_OPEN_DOCUMENTS = 4096
DEFAULT_DOC_SIZE = 10
HF_PREFIX = "hf:"


KEY_SEPARATOR = "\x1f"  # between system and document id in a document key


def document_key(system: str, doc_id: str) -> str:
    """The key of a document within a corpus (system + document id): the resume key."""
    return f"{system}{KEY_SEPARATOR}{doc_id}"


def split_key(key: str) -> tuple[str, str]:
    """(system, document id) of a `document_key`."""
    system, doc_id = key.split(KEY_SEPARATOR, 1)
    return system, doc_id


@dataclass
class InputSegment:
    """One input segment (a line of an MT output) with its ids and optional source/references."""

    segment_id: str
    target: str
    source: str | None = None
    references: tuple[str | None, ...] = ()
    line: int | None = None  # 1-based line (or row) in the input
    item: str | None = None  # what aligns this segment across systems (same test-set item)


@dataclass
class Document:
    """One unit of scoring: a plain-text document, or a run of segments read as running text."""

    doc_id: str
    system: str
    origin: str  # where it came from, for messages: "data.jsonl lines 3-9"
    segments: list[InputSegment] | None = None
    text: str | None = None

    @property
    def key(self) -> str:
        """Unique within a corpus: the resume key."""
        return document_key(self.system, self.doc_id)

    @property
    def length(self) -> int:
        """Characters to read (what the scorer's cost grows with)."""
        if self.text is not None:
            return len(self.text)
        return sum(len(s.target) + 1 for s in self.segments or ())

    def fingerprint(self) -> str:
        """A hash of everything that ends up in the results, to detect changed input on resume."""
        if self.text is not None:
            payload: Any = self.text
        else:
            payload = [
                [s.segment_id, s.target, s.source, list(s.references), s.line, s.item]
                for s in self.segments or ()
            ]
        raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()[:16]


@dataclass
class Corpus:
    """A named, re-readable stream of documents."""

    kind: str
    description: dict[str, Any]
    _documents: Any = field(repr=False)  # zero-argument callable returning an iterator

    def documents(self) -> Iterator[Document]:
        return iter(self._documents())


def has_sources(corpus: Corpus) -> bool:
    """Whether the corpus gives sources (judged on its first document, which is read)."""
    first = next(corpus.documents(), None)
    return first is not None and any(s.source for s in first.segments or ())


def read_lines(path: str) -> Iterator[str]:
    """Lines of a UTF-8 file without their line ends, checked for binary and encoding."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, generator-owned
    except FileNotFoundError:
        raise InputError(f"file not found: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, raw in enumerate(handle, 1):
            if b"\x00" in raw:
                raise InputError(f"{path} line {number}: binary data (NUL bytes), not text")
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path} line {number}: not UTF-8 text (bad byte at column {exc.start + 1})"
                ) from exc
            line = line.rstrip("\n").removesuffix("\r")
            if "\r" in line:
                raise InputError(f"{path} line {number}: segment contains a line break (\\r)")
            yield line
