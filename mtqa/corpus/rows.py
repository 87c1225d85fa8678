"""Rows of a table or dataset: column resolution, checks, and grouping into documents."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from .base import (
    FIELD_ALIASES,
    FIELDS,
    MAX_DOC_SEGMENTS,
    MAX_OPEN_DOCUMENTS,
    NUMBERED_REF,
    Document,
    InputSegment,
)


def check_not_blank(segments: list[InputSegment], where: str, doc_id: str) -> None:
    if all(not s.target.strip() for s in segments):
        raise InputError(f"{where}: every target segment of document '{doc_id}' is empty")


def resolve_columns(
    columns: Iterable[str], fields: dict[str, str], where: str | None
) -> dict[str, Any]:
    """Field -> column name, plus the list of reference columns, for a set of column names.

    With `where` (a header), a ``--field`` column or the target column that is not there is an
    error naming it; without (one JSONL row), absent columns resolve to None.
    """
    available = list(dict.fromkeys(columns))
    chosen: dict[str, Any] = {}
    for name in FIELDS:
        if name in fields:
            if where is not None and fields[name] not in available:
                raise InputError(
                    f"{where}: no column '{fields[name]}' (for --field {name}); "
                    f"columns: {', '.join(available)}"
                )
            chosen[name] = fields[name]
        else:
            chosen[name] = next((c for c in FIELD_ALIASES[name] if c in available), None)
    if where is not None and chosen["target"] is None:
        raise InputError(
            f"{where}: no 'target' column in the header line (columns: {', '.join(available)}); "
            "the first line must name the columns, or name one with --field target=COLUMN"
        )
    extra = [c for c in available if NUMBERED_REF.match(c) and c != chosen["reference"]]
    chosen["references"] = ([chosen["reference"]] if chosen["reference"] else []) + extra
    return chosen


class _Grouper:
    """Turns checked rows into documents: per system, consecutive rows with one `doc`."""

    def __init__(self, name: str, unit: str, doc_size: int, system: str | None) -> None:
        self.name, self.unit, self.doc_size = name, unit, doc_size
        self.default_system = system or Path(name).stem or name
        self.open: dict[str, tuple[str | None, list[InputSegment], int]] = {}  # system -> group
        self.parts: dict[tuple[str, str], int] = {}  # (system, doc) -> documents so far
        self.positions: dict[tuple[str, str], int] = {}  # (system, doc) -> segments so far
        self.ordinal: dict[str, int] = {}  # system -> rows so far (items of doc-less rows)
        self.size_split: set[tuple[str, str]] = set()  # documents read in parts for their size

    def where(self, number: int) -> str:
        return f"{self.name} {self.unit} {number}"

    def add(self, row: dict[str, Any], columns: dict[str, Any], number: int) -> list[Document]:
        where = self.where(number)
        target = _text(row, columns["target"], "target", where, required=True)
        assert target is not None
        if "\n" in target or "\r" in target:
            raise InputError(f"{where}: segment contains a newline")
        source = _text(row, columns["source"], "source", where)
        refs = _references(row, columns["references"], where)
        doc = _text(row, columns["doc"], "doc", where, allow_number=True)
        system = _text(row, columns["system"], "system", where, allow_number=True)
        system = system if system else self.default_system
        seg = _text(row, columns["seg"], "seg_id", where, allow_number=True)
        explicit_id = _text(row, columns["id"], "id", where, allow_number=True)
        out: list[Document] = []
        current = self.open.get(system)
        if current is not None:
            limit = self.doc_size if doc is None else MAX_DOC_SEGMENTS
            if current[0] != doc or len(current[1]) >= limit:
                if current[0] == doc and current[0] is not None:
                    self.size_split.add((system, current[0]))
                out.append(self.close(system))
                current = None
        if current is None:
            if len(self.open) >= MAX_OPEN_DOCUMENTS:
                out.append(self.close(next(iter(self.open))))
            self.open[system] = (doc, [], number)
        if doc is not None:
            position = self.positions.get((system, doc), 0) + 1
            self.positions[(system, doc)] = position
            item = f"{doc}|{seg or position}"
        else:
            self.ordinal[system] = self.ordinal.get(system, 0) + 1
            item = seg or str(self.ordinal[system])
        segment_id = explicit_id or item
        self.open[system][1].append(InputSegment(segment_id, target, source, refs, number, item))
        return out

    def close(self, system: str) -> Document:
        doc, group, first = self.open.pop(system)
        last = group[-1].line
        if doc is None:
            doc_id = f"{self.unit}s {first}-{last}"
        else:
            part = self.parts.get((system, doc), 0) + 1
            self.parts[(system, doc)] = part
            doc_id = doc if part == 1 else f"{doc}#{part}"
            if part > 1 and (system, doc) not in self.size_split:
                warnings.warn(
                    f"{self.where(first)}: document '{doc}' of system '{system}' appears again "
                    f"after other rows: read as a separate document '{doc_id}'",
                    UserWarning,
                    stacklevel=2,
                )
        seen: set[str] = set()
        for segment in group:
            if segment.segment_id in seen:
                raise InputError(
                    f"{self.where(segment.line or 0)}: segment id '{segment.segment_id}' "
                    f"appears twice in document '{doc_id}' of system '{system}'"
                )
            seen.add(segment.segment_id)
        origin = f"{self.name} {self.unit}s {first}-{last}"
        check_not_blank(group, origin, doc_id)
        return Document(doc_id, system, origin, group)

    def finish(self) -> list[Document]:
        return [self.close(system) for system in list(self.open)]


def _text(
    row: dict[str, Any],
    column: str | None,
    field_name: str,
    where: str,
    required: bool = False,
    allow_number: bool = False,
) -> str | None:
    value = row.get(column) if column is not None else None
    if value is None:
        if required:
            raise InputError(f"{where}: missing field '{column or field_name}'")
        return None
    if isinstance(value, str):
        return value
    if allow_number and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{where}: field '{column}' must be a string, not {type(value).__name__}")


def _references(row: dict[str, Any], columns: list[str], where: str) -> tuple[str | None, ...]:
    refs: list[str | None] = []
    for column in columns:
        value = row.get(column)
        if isinstance(value, list | tuple):
            if not all(v is None or isinstance(v, str) for v in value):
                raise InputError(f"{where}: field '{column}' must be a list of strings")
            refs.extend(value)
        elif value is None or isinstance(value, str):
            refs.append(value)
        else:
            raise InputError(
                f"{where}: field '{column}' must be a string, not {type(value).__name__}"
            )
    if all(r is None for r in refs):
        return ()
    return tuple(refs)


def grouped(
    rows: Iterator[tuple[int, dict[str, Any]]],
    columns_for: Callable[[dict[str, Any]], dict[str, Any]],
    per_row: bool,
    name: str,
    unit: str,
    doc_size: int,
    system: str | None,
) -> Iterator[Document]:
    """Rows -> documents; `columns_for` runs on the first row (or on every row if `per_row`)."""
    grouper = _Grouper(name, unit, doc_size, system)
    columns: dict[str, Any] | None = None
    for number, row in rows:
        if columns is None or per_row:
            columns = columns_for(row)
        yield from grouper.add(row, columns, number)
    if columns is None:
        if unit == "line" and not name.endswith((".jsonl", ".json", ".ndjson")):
            raise InputError(
                f"{name} has no rows after its header line: a TSV/CSV file needs a first line "
                "naming its columns (at least 'target'), then one row per line"
            )
        raise InputError(f"{name} has no rows")
    yield from grouper.finish()
