"""Outputs of a scored document: the self-contained HTML editor report, the batch index, and
the terminal, JSON, JSONL and TSV formats."""

from .assets import safe_filename
from .formats import FORMATS, print_terminal, to_json, to_jsonl, to_tsv
from .html import render_report, write_report
from .index import index_entry, render_index, write_batch, write_index

__all__ = [
    "FORMATS",
    "index_entry",
    "print_terminal",
    "render_index",
    "render_report",
    "safe_filename",
    "to_json",
    "to_jsonl",
    "to_tsv",
    "write_batch",
    "write_index",
    "write_report",
]
