"""Reader: line-aligned files in COMET's convention (``-s src -t mt [-t mt2] -r ref``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..core.errors import InputError
from .base import DEFAULT_DOC_SIZE, MAX_DOC_SEGMENTS, Corpus, Document, InputSegment, read_lines
from .rows import check_not_blank


def countread_lines(path: str) -> int:
    """Lines in `path` (a last line without a newline counts), in constant memory."""
    file = Path(path)
    if not file.exists():
        raise InputError(f"file not found: {path}")
    if file.is_dir():
        raise InputError(f"{path} is a folder, not a text file")
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _system_names(targets: list[str]) -> list[str]:
    stems = [Path(t).stem for t in targets]
    if len(set(stems)) == len(stems):
        return stems
    return [t for t in targets]


def line_aligned(
    sources: str | None,
    targets: list[str],
    references: list[str],
    docs: str | None = None,
    doc_size: int = DEFAULT_DOC_SIZE,
) -> Corpus:
    """COMET-style files: line i of every file is the same test-set item."""
    if len(set(targets)) != len(targets):
        raise InputError("the same -t file is given twice")
    files = [*targets, *([sources] if sources else []), *references, *([docs] if docs else [])]
    counts = {path: countread_lines(path) for path in files}
    expected_path = sources or (references[0] if references else targets[0])
    expected = counts[expected_path]
    for path in files:
        if counts[path] != expected:
            raise InputError(
                f"{path} has {counts[path]:,} lines but {expected_path} has {expected:,}"
            )
    if expected == 0:
        raise InputError(f"{targets[0]} is empty")
    names = _system_names(targets)

    def documents() -> Iterator[Document]:
        for name, target in zip(names, targets, strict=True):
            yield from _aligned_system(name, target, sources, references, docs, doc_size)

    description = {
        "form": "line-aligned",
        "targets": [str(Path(t).resolve()) for t in targets],
        "source": str(Path(sources).resolve()) if sources else None,
        "references": [str(Path(r).resolve()) for r in references],
        "docs": str(Path(docs).resolve()) if docs else None,
        "doc_size": None if docs else doc_size,
        "systems": names,
    }
    return Corpus("line-aligned", description, documents)


def _aligned_system(
    name: str,
    target: str,
    sources: str | None,
    references: list[str],
    docs: str | None,
    doc_size: int,
) -> Iterator[Document]:
    """One system's documents from line-aligned files (line counts already checked)."""
    streams: list[Iterator[str | None]] = [
        read_lines(target),
        read_lines(sources) if sources else _nones(),
        read_lines(docs) if docs else _nones(),
        *(read_lines(ref) for ref in references),
    ]
    group: list[InputSegment] = []
    group_doc: str | None = None
    parts: dict[str, int] = {}

    def flush() -> Document:
        first, last = group[0].line, group[-1].line
        doc_id = f"lines {first}-{last}"
        if group_doc is not None:
            parts[group_doc] = parts.get(group_doc, 0) + 1
            part = parts[group_doc]
            doc_id = group_doc if part == 1 else f"{group_doc}#{part}"
        origin = f"{target} lines {first}-{last}"
        check_not_blank(group, origin, doc_id)
        return Document(doc_id, name, origin, list(group))

    for number, (mt, src, doc_id, *refs) in enumerate(zip(*streams, strict=False), 1):
        if docs is not None:
            doc_id = (doc_id or "").strip()
            if not doc_id:
                raise InputError(f"{docs} line {number}: empty document id")
        full = doc_id != group_doc if docs else len(group) >= doc_size
        if group and (full or len(group) >= MAX_DOC_SEGMENTS):
            yield flush()
            group = []
        group_doc = doc_id
        group.append(InputSegment(str(number), mt or "", src, tuple(refs), number, str(number)))
    if group:
        yield flush()


def _nones() -> Iterator[None]:
    while True:
        yield None
