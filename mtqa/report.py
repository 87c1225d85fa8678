"""Self-contained HTML editor report for one scored document, and an index page for batches.

The page works offline from ``file://``: CSS and JS from ``mtqa/static`` are inlined, document
data travels as escaped JSON in a ``<script type="application/json">`` block, and a
Content-Security-Policy allows only the one inline script and stylesheet (by hash), so markup
injected through document text could not run even if escaping failed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from mtqa.result import REASONS, SEVERITIES, DocumentResult, SentenceResult, Signature, Span

STORAGE_PREFIX = "mtqa-review:"
_SNIPPET_CHARS = 110
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")
_UNSAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Piece:
    """A run of sentence text, highlighted when `span` (index into sentence.spans) is set."""

    text: str
    span: int | None = None


# --------------------------------------------------------------------------- assets


def _asset(folder: str, name: str) -> str:
    """Read a text file shipped as package data."""
    return resources.files("mtqa").joinpath(folder, name).read_text(encoding="utf-8")


def _inline(code: str, tag: str) -> Markup:
    """Mark trusted package CSS/JS as safe after checking it cannot close its own element."""
    if f"</{tag}" in code.lower() or "<!--" in code:
        raise RuntimeError(f"static asset contains '</{tag}' or '<!--' and cannot be inlined")
    return Markup(code)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _asset("templates", name)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["score"] = lambda value: f"{float(value):.2f}"
    return env


@lru_cache(maxsize=1)
def _static() -> dict[str, Markup]:
    css = _asset("static", "report.css")
    js = _asset("static", "report.js")
    return {
        "css": _inline(css, "style"),
        "css_hash": _csp_hash(css),
        "js": _inline(js, "script"),
        "js_hash": _csp_hash(js),
    }


def _csp_hash(code: str) -> Markup:
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return Markup("sha256-" + base64.b64encode(digest).decode("ascii"))


# --------------------------------------------------------------------------- helpers


def json_for_script(data: Any) -> Markup:
    """JSON safe to embed inside any HTML element: no ``<``, ``>`` or ``&`` survive literally.

    ``JSON.parse`` turns the ``\\u003c`` escapes back into the original characters, so
    ``</script>`` and ``<!--`` in document text cannot end or confuse the data block.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(_JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text))


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: JavaScript string offsets count these, not code points."""
    return len(text.encode("utf-16-le")) // 2


def safe_href(path: str) -> str:
    """A relative link that can never carry a scheme (``javascript:``) or a foreign host."""
    href = quote(path.replace("\\", "/"), safe="/")
    return "./" + href if href.startswith("//") else href


def safe_filename(name: str, default: str = "document") -> str:
    """A plain file stem made of letters, digits, ``.``, ``_`` and ``-``."""
    cleaned = _UNSAFE_NAME_RE.sub("_", name).strip("._")
    return cleaned[:80] or default


def doc_key(doc: DocumentResult) -> str:
    """The document's review-state key (its doc_hash, or a SHA-256 of the text if missing)."""
    digest = doc.doc_hash or hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    return STORAGE_PREFIX + digest


def ordered_sentences(doc: DocumentResult) -> list[SentenceResult]:
    """Sentences in reading order (by document offset)."""
    return sorted(doc.sentences, key=lambda s: (s.start, s.end, s.index))


def sentence_text(doc: DocumentResult, sentence: SentenceResult) -> str:
    """The sentence as it stands in the document (falls back to `sentence.text`)."""
    if 0 <= sentence.start <= sentence.end <= len(doc.text):
        return doc.text[sentence.start : sentence.end]
    return sentence.text


def severity_of(sentence: SentenceResult) -> str | None:
    """'major' / 'minor' for flagged sentences (unknown severities count as minor), else None."""
    if not sentence.flagged:
        return None
    return sentence.severity if sentence.severity in SEVERITIES else "minor"


def _span_severity(span: Span) -> str:
    return span.severity if span.severity in SEVERITIES else "minor"


def _reason_class(reason: str) -> str:
    return reason if reason in REASONS else "other"


def flag_rank(sentence: SentenceResult) -> tuple[int, float, int]:
    """Sort key for the flag list: major first, then lowest score, then reading order."""
    return (0 if severity_of(sentence) == "major" else 1, sentence.score, sentence.index)


def highlight_ranges(sentence: SentenceResult, length: int) -> list[tuple[int, int, int]]:
    """Non-overlapping (local start, local end, span index) ranges inside the sentence.

    Offsets are code points relative to the sentence. Spans outside the sentence, empty
    spans and spans overlapping an earlier (or longer) one are left unhighlighted.
    """
    candidates = []
    for k, span in enumerate(sentence.spans):
        start, end = span.start - sentence.start, span.end - sentence.start
        if 0 <= start < end <= length:
            candidates.append((start, -end, k))
    ranges: list[tuple[int, int, int]] = []
    cursor = 0
    for start, neg_end, k in sorted(candidates):
        if start >= cursor:
            ranges.append((start, -neg_end, k))
            cursor = -neg_end
    return ranges


def split_pieces(text: str, ranges: Sequence[tuple[int, int, int]]) -> list[Piece]:
    """Cut sentence text into plain and highlighted pieces."""
    pieces: list[Piece] = []
    cursor = 0
    for start, end, k in ranges:
        if start > cursor:
            pieces.append(Piece(text[cursor:start]))
        pieces.append(Piece(text[start:end], k))
        cursor = end
    if cursor < len(text) or not pieces:
        pieces.append(Piece(text[cursor:]))
    return pieces


def gaps(doc: DocumentResult, ordered: Sequence[SentenceResult]) -> list[str]:
    """Text before, between and after sentences: ``gaps[0] + s0 + gaps[1] + ... + gaps[n]``."""
    out: list[str] = []
    cursor = 0
    for sentence in ordered:
        start = min(max(sentence.start, cursor), len(doc.text))
        out.append(doc.text[cursor:start])
        cursor = max(cursor, min(sentence.end, len(doc.text)))
    out.append(doc.text[cursor:])
    return out


# --------------------------------------------------------------------------- view model


def _span_data(span: Span, sentence: SentenceResult, text: str, shown: bool) -> dict[str, Any]:
    local_start = max(0, min(span.start - sentence.start, len(text)))
    local_end = max(local_start, min(span.end - sentence.start, len(text)))
    return {
        "a": utf16_len(text[:local_start]),
        "b": utf16_len(text[:local_end]),
        "text": span.text,
        "sev": _span_severity(span),
        "reason": span.reason,
        "msg": span.message,
        "sugg": list(span.suggestions),
        "shown": shown,
    }


def _sentence_data(sentence: SentenceResult, text: str) -> dict[str, Any]:
    shown = {k for _, _, k in highlight_ranges(sentence, len(text))}
    return {
        "index": sentence.index,
        "seg": sentence.segment_id,
        "t": text,
        "par": sentence.paragraph,
        "score": round(float(sentence.score), 4),
        "flagged": bool(sentence.flagged),
        "sev": severity_of(sentence),
        "reasons": list(sentence.reasons),
        "src": sentence.source,
        "ref": sentence.reference,
        "spans": [
            _span_data(sp, sentence, text, k in shown) for k, sp in enumerate(sentence.spans)
        ],
    }


def signature_data(signature: Signature) -> dict[str, Any]:
    """Signature fields plus its formatted text."""
    return {
        "text": signature.format(),
        "version": signature.version,
        "model": signature.model,
        "model_hash": signature.model_hash,
        "config": signature.config,
        "config_hash": signature.config_hash,
        "preset": signature.preset,
        "threshold": signature.threshold,
        "context": signature.context,
    }


def counts(doc: DocumentResult) -> dict[str, Any]:
    """Headline numbers: sentences, flagged, major, minor and document score."""
    severities = [severity_of(s) for s in doc.sentences]
    return {
        "sentences": len(doc.sentences),
        "flagged": sum(1 for sev in severities if sev),
        "major": severities.count("major"),
        "minor": severities.count("minor"),
        "score": doc.score,
    }


def payload(doc: DocumentResult) -> dict[str, Any]:
    """Everything the page script needs, in reading order (list position = DOM ``data-s``)."""
    ordered = ordered_sentences(doc)
    return {
        "format": "mtqa-report/1",
        "doc_id": doc.doc_id,
        "doc_hash": doc.doc_hash,
        "key": doc_key(doc),
        "score": doc.score,
        "signature": signature_data(doc.signature),
        "gaps": gaps(doc, ordered),
        "sents": [_sentence_data(s, sentence_text(doc, s)) for s in ordered],
    }


def _sentence_view(pos: int, sentence: SentenceResult, text: str, lead: str) -> dict[str, Any]:
    ranges = highlight_ranges(sentence, len(text))
    return {
        "pos": pos,
        "sentence": sentence,
        "sev": severity_of(sentence),
        "lead": lead,
        "pieces": split_pieces(text, ranges),
        "spans": sentence.spans,
        "span_sev": [_span_severity(sp) for sp in sentence.spans],
        "span_reason": [_reason_class(sp.reason) for sp in sentence.spans],
    }


def paragraph_views(doc: DocumentResult) -> list[list[dict[str, Any]]]:
    """Sentences grouped into paragraphs, each with its highlighted pieces."""
    ordered = ordered_sentences(doc)
    between = gaps(doc, ordered)
    paragraphs: list[list[dict[str, Any]]] = []
    last_paragraph: int | None = None
    for pos, sentence in enumerate(ordered):
        lead = between[pos]
        if sentence.paragraph != last_paragraph or not paragraphs:
            paragraphs.append([])
            last_paragraph = sentence.paragraph
            lead = lead.strip()
        text = sentence_text(doc, sentence)
        paragraphs[-1].append(_sentence_view(pos, sentence, text, lead))
    return paragraphs


def flag_views(doc: DocumentResult) -> list[dict[str, Any]]:
    """Flagged sentences for the side list, ranked by severity then score."""
    ordered = ordered_sentences(doc)
    position = {id(s): pos for pos, s in enumerate(ordered)}
    views = []
    for sentence in sorted((s for s in ordered if s.flagged), key=flag_rank):
        text = sentence_text(doc, sentence)
        snippet = text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 1] + "…"
        views.append(
            {
                "pos": position[id(sentence)],
                "sentence": sentence,
                "sev": severity_of(sentence),
                "snippet": snippet,
                "reasons": sorted(set(sentence.reasons) | {sp.reason for sp in sentence.spans}),
            }
        )
    return views


def _reason_counts(flags: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    tally: dict[str, int] = {}
    for view in flags:
        for reason in view["reasons"]:
            tally[reason] = tally.get(reason, 0) + 1
    known = [(r, tally[r]) for r in REASONS if r in tally]
    return known + sorted((r, n) for r, n in tally.items() if r not in REASONS)


def default_title(doc: DocumentResult) -> str:
    """doc_id, else the first line of the text, else a generic title."""
    if doc.doc_id:
        return doc.doc_id
    first = doc.text.strip().split("\n", 1)[0].strip()
    return first[:100] if first else "mtqa report"


# --------------------------------------------------------------------------- public API


def render_report(doc: DocumentResult, title: str | None = None) -> str:
    """Render the self-contained editor report for one document as an HTML string."""
    flags = flag_views(doc)
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title or default_title(doc),
        doc=doc,
        counts=counts(doc),
        paragraphs=paragraph_views(doc),
        flags=flags,
        reasons=_reason_counts(flags),
        signature=signature_data(doc.signature),
        data_json=json_for_script(payload(doc)),
        **_static(),
    )


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text via a temporary file in the same folder and ``os.replace``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_report(
    doc: DocumentResult, path: str | os.PathLike[str], title: str | None = None
) -> Path:
    """Render and atomically write the report; returns the path written."""
    return write_text_atomic(path, render_report(doc, title=title))


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
    template = _environment().get_template("index.html.j2")
    return template.render(
        title=title, rows=rows, totals=_index_totals(rows), signature=signature, **_static()
    )


def write_index(
    entries: list[dict[str, Any]],
    path: str | os.PathLike[str],
    title: str = "mtqa batch report",
    signature: str | None = None,
) -> Path:
    """Render and atomically write the batch index page."""
    return write_text_atomic(path, render_index(entries, title=title, signature=signature))


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
