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

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from .base import (
    DEFAULT_DOC_SIZE,
    FIELDS,
    HF_PREFIX,
    Corpus,
    Document,
    InputSegment,
    document_key,
    has_sources,
    split_key,
)
from .hf_dataset import hf_dataset, is_saved_dataset
from .line_aligned import line_aligned
from .tables import table
from .text_folder import text_folder

__all__ = [
    "FIELDS",
    "Corpus",
    "Document",
    "InputSegment",
    "document_key",
    "has_sources",
    "hf_dataset",
    "line_aligned",
    "open_corpus",
    "split_key",
    "table",
    "text_folder",
]


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
        if is_saved_dataset(path):
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
