"""Corpus readers for `mtqa batch`: documents streamed lazily from every input form.

Each reader yields `Document` records one at a time, so memory does not grow with the corpus:

- a folder of ``.txt`` files: one document each, split into sentences by the scorer;
- line-aligned files in COMET's convention (``-s src -t mt [-t mt2] -r ref [-r ref2]``): one
  segment per line, one system per ``-t`` file, consecutive lines read as running text in
  chunks of ``doc_size`` (or grouped by a line-aligned ``--docs`` file of document ids);
- JSONL (``.jsonl``/``.json``), TSV (``.tsv``, one row per line, no quoting) and CSV (``.csv``)
  with fields ``target`` and optionally ``doc``, ``system``, ``source``, ``reference``;
- a Hugging Face ``datasets`` set: a folder saved with ``save_to_disk``, a folder or file
  ``load_dataset`` can read (parquet, arrow), or ``hf:NAME`` from the hub (``config``/``split``).

JSONL/TSV/CSV are parsed line by line here rather than through ``datasets`` because its Arrow
JSON reader reports errors by row-within-chunk (blank lines shift it), so "data.jsonl line 7"
would be lost; rows from a ``datasets`` set are checked with the same rules and named by row.

Rows are grouped into documents per system: consecutive rows of one system with the same
``doc`` form one document (rows of different systems may interleave, as in WMT MQM files).
Rows without ``doc`` are read in chunks of ``doc_size`` consecutive rows of their system.
Every problem is an `InputError` naming the file and line (or row).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError

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
_NUMBERED_REF = re.compile(r"^(reference|ref)[-_]?\d+$", re.IGNORECASE)
#: A document longer than this many segments is read in parts ("doc#2", ...).
MAX_DOC_SEGMENTS = 500
#: At most this many systems' documents are kept open while grouping interleaved rows.
MAX_OPEN_DOCUMENTS = 4096
DEFAULT_DOC_SIZE = 10
HF_PREFIX = "hf:"


@dataclass
class Segment:
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
    segments: list[Segment] | None = None
    text: str | None = None

    @property
    def key(self) -> str:
        """Unique within a corpus: the resume key."""
        return f"{self.system}\x1f{self.doc_id}"

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


# ---------------------------------------------------------------------------------- opening


def open_corpus(
    input: str | None = None,
    *,
    sources: str | None = None,
    targets: Iterable[str] = (),
    references: Iterable[str] = (),
    docs: str | None = None,
    doc_size: int = DEFAULT_DOC_SIZE,
    system: str | None = None,
    fields: dict[str, str] | None = None,
    hf_config: str | None = None,
    split: str | None = None,
) -> Corpus:
    """Pick the reader for what the user gave: INPUT (folder/file/hf:NAME) or -s/-t/-r files."""
    targets, references = list(targets), list(references)
    if doc_size < 1:
        raise InputError("--doc-size must be at least 1")
    if targets:
        if input is not None:
            raise InputError("give either INPUT or line-aligned -t files, not both")
        return line_aligned(sources, targets, references, docs=docs, doc_size=doc_size)
    if sources or references or docs:
        raise InputError("-s/-r/--docs need at least one -t (MT output) file")
    if input is None:
        raise InputError("nothing to evaluate: give INPUT (folder, .jsonl, .tsv, dataset) or -t")
    options: dict[str, Any] = {"fields": dict(fields or {}), "doc_size": doc_size, "system": system}
    if input.startswith(HF_PREFIX):
        return hf_dataset(input[len(HF_PREFIX) :], config=hf_config, split=split, **options)
    path = Path(input)
    if not path.exists():
        raise InputError(f"file not found: {input} (for a hub dataset write hf:{input})")
    if path.is_dir():
        if _is_saved_dataset(path):
            return hf_dataset(input, config=hf_config, split=split, **options)
        if any(path.rglob("*.txt")):
            return text_folder(input, system=system)
        data_files = (".parquet", ".arrow", ".jsonl", ".json", ".csv", ".tsv")
        if any(p.suffix.lower() in data_files for p in path.rglob("*") if p.is_file()):
            return hf_dataset(input, config=hf_config, split=split, **options)
        raise InputError(f"{input} holds no .txt files and no dataset files")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return table(input, "jsonl", **options)
    if suffix in (".tsv", ".csv"):
        return table(input, suffix[1:], **options)
    if suffix in (".parquet", ".arrow"):
        return hf_dataset(input, config=hf_config, split=split, **options)
    if suffix == ".txt":
        raise InputError(
            f"{input} is one text file: use `mtqa score` for one document, a folder of .txt "
            "files for many, or -t for one-segment-per-line MT output"
        )
    raise InputError(
        f"cannot tell what {input} is: expected a folder, .jsonl, .tsv, .csv, .parquet or hf:NAME"
    )


# ---------------------------------------------------------------------------- text folders


def text_folder(folder: str, system: str | None = None) -> Corpus:
    """Every ``.txt`` file under `folder` (sorted by path) is one document."""
    root = Path(folder)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.txt") if p.is_file())
    if not files:
        raise InputError(f"{folder} holds no .txt files")
    name = system or root.resolve().name

    def documents() -> Iterator[Document]:
        from .io import read_text

        for rel in files:
            label = f"{folder.rstrip('/')}/{rel}"
            text = read_text(str(root / rel))
            if not text.strip():
                raise InputError(f"{label}: the document is empty")
            yield Document(doc_id=rel, system=name, origin=label, text=text)

    description = {"input": str(root.resolve()), "form": "text-folder", "system": name}
    return Corpus("text-folder", description, documents)


# ---------------------------------------------------------------------- line-aligned files


def _lines(path: str) -> Iterator[str]:
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


def count_lines(path: str) -> int:
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
    counts = {path: count_lines(path) for path in files}
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
        _lines(target),
        _lines(sources) if sources else _nones(),
        _lines(docs) if docs else _nones(),
        *(_lines(ref) for ref in references),
    ]
    group: list[Segment] = []
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
        _check_not_blank(group, origin, doc_id)
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
        group.append(Segment(str(number), mt or "", src, tuple(refs), number, str(number)))
    if group:
        yield flush()


def _nones() -> Iterator[None]:
    while True:
        yield None


# ------------------------------------------------------------------------ rows and grouping


def _check_not_blank(segments: list[Segment], where: str, doc_id: str) -> None:
    if all(not s.target.strip() for s in segments):
        raise InputError(f"{where}: every target segment of document '{doc_id}' is empty")


def _resolve_columns(
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
            f"{where}: no 'target' column (columns: {', '.join(available)}); "
            "name it with --field target=COLUMN"
        )
    extra = [c for c in available if _NUMBERED_REF.match(c) and c != chosen["reference"]]
    chosen["references"] = ([chosen["reference"]] if chosen["reference"] else []) + extra
    return chosen


class _Grouper:
    """Turns checked rows into documents: per system, consecutive rows with one `doc`."""

    def __init__(self, name: str, unit: str, doc_size: int, system: str | None) -> None:
        self.name, self.unit, self.doc_size = name, unit, doc_size
        self.default_system = system or Path(name).stem or name
        self.open: dict[str, tuple[str | None, list[Segment], int]] = {}  # system -> group
        self.parts: dict[tuple[str, str], int] = {}  # (system, doc) -> documents so far
        self.positions: dict[tuple[str, str], int] = {}  # (system, doc) -> segments so far
        self.ordinal: dict[str, int] = {}  # system -> rows so far (items of doc-less rows)

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
        self.open[system][1].append(Segment(segment_id, target, source, refs, number, item))
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
        seen: set[str] = set()
        for segment in group:
            if segment.segment_id in seen:
                raise InputError(
                    f"{self.where(segment.line or 0)}: segment id '{segment.segment_id}' "
                    f"appears twice in document '{doc_id}' of system '{system}'"
                )
            seen.add(segment.segment_id)
        origin = f"{self.name} {self.unit}s {first}-{last}"
        _check_not_blank(group, origin, doc_id)
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


def _grouped(
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
        raise InputError(f"{name} has no rows")
    yield from grouper.finish()


# ---------------------------------------------------------------------- JSONL / TSV / CSV


def _jsonl_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path} line {number}: expected a JSON object")
        yield number, row


def _opens_quote(value: str) -> bool:
    """A field that starts a quoted value it does not close (CSV-style quoting of a newline)."""
    return value.startswith('"') and value.count('"') % 2 == 1


def _tsv_rows(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Tab-separated rows, one per line, without quoting (the usual MT corpus convention)."""
    header: list[str] | None = None
    open_quote = False  # the previous row ended inside a quoted field
    for number, line in enumerate(_lines(path), 1):
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
        if value == "" and (name in FIELD_ALIASES["reference"] or _NUMBERED_REF.match(name)):
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
        return _resolve_columns(row.keys(), fields, None if form == "jsonl" else f"{path} line 1")

    def documents() -> Iterator[Document]:
        yield from _grouped(
            read(path), columns_for, form == "jsonl", path, "line", doc_size, system
        )

    description = {
        "form": form,
        "input": str(Path(path).resolve()),
        "fields": fields,
        "doc_size": doc_size,
        "system": system,
    }
    return Corpus(form, description, documents)


# ------------------------------------------------------------------ Hugging Face datasets


def _is_saved_dataset(path: Path) -> bool:
    return any((path / name).exists() for name in ("dataset_info.json", "dataset_dict.json"))


def _pick_split(splits: list[str], split: str | None, name: str) -> str:
    if split is not None:
        if split not in splits:
            raise InputError(f"{name} has no split '{split}' (splits: {', '.join(splits)})")
        return split
    if len(splits) == 1:
        return splits[0]
    raise InputError(f"{name} has several splits ({', '.join(splits)}): choose one with --split")


def _hf_rows(
    name: str, config: str | None, split: str | None
) -> tuple[Iterable[dict[str, Any]], list[str] | None]:
    """Rows of a dataset and its column names (None where streaming does not know them)."""
    import datasets

    from .model import quiet_third_party

    quiet_third_party()
    path = Path(name)
    try:
        if path.is_dir() and _is_saved_dataset(path):
            loaded = datasets.load_from_disk(name)
            if isinstance(loaded, datasets.DatasetDict):
                loaded = loaded[_pick_split(list(loaded), split, name)]
            return loaded, list(loaded.column_names)
        if path.is_file():
            builder = "parquet" if path.suffix.lower() == ".parquet" else "arrow"
            stream = datasets.load_dataset(
                builder, data_files=name, split=split or "train", streaming=True
            )
        else:
            stream = datasets.load_dataset(name, config, split=split, streaming=True)
            if isinstance(stream, datasets.IterableDatasetDict):
                stream = stream[_pick_split(list(stream), split, name)]
    except InputError:
        raise
    except Exception as exc:  # datasets raises many kinds: not found, offline, bad config
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot load dataset {name}: {message}") from exc
    columns = list(stream.column_names) if stream.column_names else None
    return stream, columns


def hf_dataset(
    name: str,
    config: str | None = None,
    split: str | None = None,
    fields: dict[str, str] | None = None,
    doc_size: int = DEFAULT_DOC_SIZE,
    system: str | None = None,
) -> Corpus:
    """A `datasets` set: saved folder, data files, or a hub name (where a hub is reachable)."""
    fields = dict(fields or {})
    label = name.rstrip("/")
    _, known = _hf_rows(name, config, split)  # fail early: missing set, split or column
    if known is not None:
        _resolve_columns(known, fields, label)

    def documents() -> Iterator[Document]:
        rows, columns = _hf_rows(name, config, split)

        def columns_for(row: dict[str, Any]) -> dict[str, Any]:
            return _resolve_columns(columns or list(row), fields, label)

        numbered = ((n, dict(row)) for n, row in enumerate(rows, 1))
        yield from _grouped(numbered, columns_for, False, label, "row", doc_size, system)

    is_local = Path(name).exists()
    description = {
        "form": "hf-dataset",
        "input": str(Path(name).resolve()) if is_local else f"{HF_PREFIX}{name}",
        "config": config,
        "split": split,
        "fields": fields,
        "doc_size": doc_size,
        "system": system,
    }
    return Corpus("hf-dataset", description, documents)
