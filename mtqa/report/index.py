"""The index page of a batch of reports: one row per document, linking to its report."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.files import atomic_write
from ..core.result import DocumentResult
from .assets import environment, safe_filename, safe_href, static_assets
from .html import counts, write_report


def index_entry(doc: DocumentResult, href: str, name: str | None = None) -> dict[str, Any]:
    """One row of the batch index for `doc`, whose report lives at `href` (relative)."""
    numbers = counts(doc)
    return {
        "name": name or doc.doc_id or href,
        "href": href,
        "sentences": numbers["sentences"],
        "flagged": numbers["flagged"],
        "major": numbers["major"],
        "minor": numbers["minor"],
        "score": numbers["score"],
        "warnings": len(doc.warnings),
        "signature": doc.signature.format(),
    }


def _index_row(entry: dict[str, Any]) -> dict[str, Any]:
    href = str(entry["href"])
    return {
        "name": str(entry.get("name") or href),
        "href": safe_href(href),
        "sentences": int(entry.get("sentences", 0)),
        "flagged": int(entry.get("flagged", 0)),
        "major": int(entry.get("major", 0)),
        "minor": int(entry.get("minor", 0)),
        "score": float(entry.get("score", 1.0)),
        "warnings": int(entry.get("warnings", 0)),
    }


def _index_totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    sentences = sum(r["sentences"] for r in rows)
    weighted = sum(r["score"] * r["sentences"] for r in rows)
    return {
        "documents": len(rows),
        "sentences": sentences,
        "flagged": sum(r["flagged"] for r in rows),
        "major": sum(r["major"] for r in rows),
        "minor": sum(r["minor"] for r in rows),
        "score": weighted / sentences if sentences else 1.0,
    }


def render_index(
    entries: list[dict[str, Any]], title: str = "mtqa batch report", signature: str | None = None
) -> str:
    """Render the batch index page: one row per document linking to its report.

    Each entry needs ``href`` (relative path to the report) and may carry ``name``,
    ``sentences``, ``flagged``, ``major``, ``minor``, ``score`` and ``warnings``
    (see `index_entry`). `signature` defaults to the one signature shared by all entries.
    """
    rows = [_index_row(e) for e in entries]
    if signature is None:
        signatures = {str(e["signature"]) for e in entries if e.get("signature")}
        signature = signatures.pop() if len(signatures) == 1 else None
    template = environment().get_template("index.html.j2")
    return template.render(
        title=title, rows=rows, totals=_index_totals(rows), signature=signature, **static_assets()
    )


def write_index(
    entries: list[dict[str, Any]],
    path: str | os.PathLike[str],
    title: str = "mtqa batch report",
    signature: str | None = None,
) -> Path:
    """Render and atomically write the batch index page."""
    atomic_write(path, render_index(entries, title=title, signature=signature))
    return Path(path)


def write_batch(
    docs: Sequence[DocumentResult],
    out_dir: str | os.PathLike[str],
    names: Sequence[str] | None = None,
    title: str = "mtqa batch report",
) -> Path:
    """Write one report per document plus ``index.html`` into `out_dir`; returns the index."""
    folder = Path(out_dir)
    entries = []
    used: set[str] = set()
    for n, doc in enumerate(docs):
        base = names[n] if names else (doc.doc_id or f"doc-{n + 1:04d}")
        stem = safe_filename(base, f"doc-{n + 1:04d}")
        while stem in used or stem == "index":
            stem = f"{stem}-{n + 1}"
        used.add(stem)
        write_report(doc, folder / f"{stem}.html")
        entries.append(index_entry(doc, f"{stem}.html", name=base))
    return write_index(entries, folder / "index.html", title=title)
