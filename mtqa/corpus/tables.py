"""Readers: JSONL, TSV and CSV files, parsed line by line so errors name the line."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.files import parse_json_object
from .base import DEFAULT_DOC_SIZE, FIELD_ALIASES, NUMBERED_REF, Corpus, Document, read_lines
from .rows import grouped, resolve_columns


def _jsonl_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        yield number, parse_json_object(line, f"{path} line {number}")


def _opens_quote(value: str) -> bool:
    """A field that starts a quoted value it does not close (CSV-style quoting of a newline)."""
    return value.startswith('"') and value.count('"') % 2 == 1


def _tsv_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Tab-separated rows, one per line, without quoting (the usual MT corpus convention)."""
    header: list[str] | None = None
    open_quote = False  # the previous row ended inside a quoted field
    for number, line in enumerate(read_lines(path), 1):
        if header is None:
            header = [c.strip() for c in line.split("\t")]
            continue
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) != len(header):
            if len(values) < len(header) and (open_quote or _opens_quote(values[-1])):
                at = number - 1 if open_quote else number
                raise InputError(
                    f"{path} line {at}: segment contains a newline "
                    "(a quoted field goes on to the next line)"
                )
            raise InputError(
                f"{path} line {number}: {len(values)} columns, but the header has {len(header)}"
            )
        open_quote = _opens_quote(values[-1])
        yield number, _row(header, values)


def _csv_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Comma-separated rows with standard CSV quoting."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle)
        header: list[str] | None = None
        previous = 0
        try:
            for values in reader:
                number, previous = previous + 1, reader.line_num
                if header is None:
                    header = [c.strip() for c in values]
                    continue
                if not values:
                    continue
                if number != reader.line_num or any("\n" in v or "\r" in v for v in values):
                    raise InputError(f"{path} line {number}: segment contains a newline")
                if len(values) != len(header):
                    raise InputError(
                        f"{path} line {number}: {len(values)} columns, but the header has "
                        f"{len(header)}"
                    )
                yield number, _row(header, values)
        except UnicodeDecodeError as exc:
            raise InputError(f"{path} line {previous + 1}: not UTF-8 text") from exc
        except csv.Error as exc:
            raise InputError(f"{path} line {reader.line_num}: {exc}") from exc


def _row(header: list[str], values: list[str]) -> dict[str, Any]:
    """A TSV/CSV row as a dict; repeated columns (e.g. two 'reference') become lists."""
    row: dict[str, Any] = {}
    for name, value in zip(header, values, strict=True):
        cell: str | None = value
        if value == "" and (name in FIELD_ALIASES["reference"] or NUMBERED_REF.match(name)):
            cell = None  # an empty reference cell: this row has fewer references
        if name in row:
            previous = row[name]
            row[name] = [*previous, cell] if isinstance(previous, list) else [previous, cell]
        else:
            row[name] = cell
    return row


def table(
    path: str,
    form: str,
    fields: dict[str, str] | None = None,
    doc_size: int = DEFAULT_DOC_SIZE,
    system: str | None = None,
) -> Corpus:
    """A JSONL, TSV or CSV file of rows."""
    fields = dict(fields or {})
    read = {"jsonl": _jsonl_rows, "tsv": _tsv_rows, "csv": _csv_rows}[form]

    def columns_for(row: dict[str, Any]) -> dict[str, Any]:
        # JSONL rows may each omit optional fields: resolved per row, leniently.
        return resolve_columns(row.keys(), fields, None if form == "jsonl" else f"{path} line 1")

    def documents() -> Iterator[Document]:
        yield from grouped(read(path), columns_for, form == "jsonl", path, "line", doc_size, system)

    description = {
        "form": form,
        "input": str(Path(path).resolve()),
        "fields": fields,
        "doc_size": doc_size,
        "system": system,
    }
    return Corpus(form, description, documents)
