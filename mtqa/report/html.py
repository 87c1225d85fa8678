"""Self-contained HTML editor report for one scored document.

The page works offline from ``file://``: CSS and JS from ``mtqa/report/static`` are inlined,
document data travels as escaped JSON in a ``<script type="application/json">`` block, and a
Content-Security-Policy allows only the one inline script and stylesheet (by hash), so markup
injected through document text could not run even if escaping failed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.files import atomic_write
from ..core.result import (
    CHECK_REASONS,
    REASONS,
    SEVERITIES,
    DocumentResult,
    SentenceResult,
    Signature,
    Span,
)
from .assets import environment, json_for_script, static_assets, utf16_len

STORAGE_PREFIX = "mtqa-review:"
_SNIPPET_CHARS = 110


@dataclass(frozen=True)
class Piece:
    """A run of sentence text, highlighted when `span` (index into sentence.spans) is set."""

    text: str
    span: int | None = None


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
        "why": [item.why(span.text) for item in span.suggested],
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
                "reasons": sorted(
                    set(sentence.reasons)
                    | {sp.reason for sp in sentence.spans if sp.reason not in CHECK_REASONS}
                ),
            }
        )
    return views


def check_views(doc: DocumentResult) -> list[dict[str, Any]]:
    """What the document suggests checking (names, terms in two forms), flagged or not: listed
    apart from the flags because they never flag a sentence by themselves."""
    position = {id(s): pos for pos, s in enumerate(ordered_sentences(doc))}
    return [
        {"pos": position[id(sentence)], "sentence": sentence, "span": span}
        for sentence in doc.sentences
        for span in sentence.spans
        if span.reason in CHECK_REASONS
    ]


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
    template = environment().get_template("report.html.j2")
    return template.render(
        title=title or default_title(doc),
        doc=doc,
        counts=counts(doc),
        paragraphs=paragraph_views(doc),
        flags=flags,
        checks=check_views(doc),
        reasons=_reason_counts(flags),
        signature=signature_data(doc.signature),
        data_json=json_for_script(payload(doc)),
        **static_assets(),
    )


def write_report(
    doc: DocumentResult, path: str | os.PathLike[str], title: str | None = None
) -> Path:
    """Render and atomically write the report; returns the path written."""
    atomic_write(path, render_report(doc, title=title))
    return Path(path)
