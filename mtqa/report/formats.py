"""Document results -> terminal view, JSON, JSONL and TSV."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from rich.console import Console
from rich.text import Text

from ..core.result import DocumentResult, SentenceResult
from ..core.text import dump_json, printable

SEVERITY_STYLE = {"major": "bold red", "minor": "yellow"}


def to_json(doc: DocumentResult) -> str:
    return doc.to_json()


def sentence_records(doc: DocumentResult) -> list[dict]:
    """One flat record per sentence, carrying the document id and signature."""
    records = []
    for sent in doc.sentences:
        record = {"doc_id": doc.doc_id, **asdict(sent), "signature": doc.signature.format()}
        records.append(record)
    return records


def to_jsonl(doc: DocumentResult) -> str:
    return "".join(dump_json(r) + "\n" for r in sentence_records(doc))


TSV_FIELDS = (
    "doc_id",
    "index",
    "start",
    "end",
    "score",
    "flagged",
    "severity",
    "reasons",
    "spans",
    "suggestions",  # per span, in the order of `spans` (";"-separated), best first ("|")
    "text",
)


def to_tsv(doc: DocumentResult) -> str:
    """One row per sentence; text and names with control and direction characters shown
    escaped (`\\x1b`), as in the text view (offsets still index the original text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(TSV_FIELDS)
    for sent in doc.sentences:
        spans = ";".join(f"{s.start}-{s.end}:{s.reason}:{printable(s.text)}" for s in sent.spans)
        fixes = ";".join("|".join(map(printable, s.suggestions)) for s in sent.spans)
        writer.writerow(
            [
                printable(doc.doc_id or ""),
                sent.index,
                sent.start,
                sent.end,
                f"{sent.score:.4f}",
                int(sent.flagged),
                sent.severity or "",
                ",".join(sent.reasons),
                spans,
                fixes,
                printable(sent.text),
            ]
        )
    return buffer.getvalue()


def highlighted(sent: SentenceResult) -> Text:
    """The sentence with its spans styled by severity; control characters shown escaped
    (each piece is escaped on its own, so styles stay on the right words)."""
    styles: list[str | None] = [None] * len(sent.text)
    for span in sent.spans:
        style = f"{SEVERITY_STYLE.get(span.severity, 'underline')} underline"
        for i in range(max(0, span.start - sent.start), min(len(styles), span.end - sent.start)):
            styles[i] = style
    text = Text()
    start = 0
    for end in range(1, len(styles) + 1):
        if end == len(styles) or styles[end] != styles[start]:
            text.append(printable(sent.text[start:end]), style=styles[start] or "")
            start = end
    return text


def print_terminal(doc: DocumentResult, console: Console, show_all: bool = False) -> None:
    """Ranked flagged sentences with highlighted spans, then a one-line summary."""
    flagged = doc.flagged
    title = printable(doc.doc_id or "document")
    console.print(
        Text.assemble(
            (f"{title}: ", "bold"),
            f"{len(flagged)} of {len(doc.sentences)} sentences flagged, "
            f"document score {doc.score:.3f}",
        )
    )
    for warning in doc.warnings:
        console.print(Text(f"warning: {printable(warning)}", style="yellow"))
    rows = sorted(doc.sentences, key=lambda s: s.score) if show_all else flagged
    for rank, sent in enumerate(rows, 1):
        label = (sent.severity or "ok").upper()
        style = SEVERITY_STYLE.get(sent.severity or "", "green")
        console.print()
        console.print(
            Text.assemble(
                (f"{rank:>2}. [{label}] ", style),
                (f"score {sent.score:.3f}", "bold"),
                f"  sentence {sent.index + 1}, chars {sent.start}-{sent.end}",
                f"  {', '.join(sent.reasons)}" if sent.reasons else "",
            )
        )
        console.print(Text("    ").append_text(highlighted(sent)))
        for span in sent.spans:
            hint = f" -> {', '.join(span.suggestions[:3])}" if span.suggestions else ""
            console.print(
                Text.assemble(
                    "      ",
                    (f"“{printable(span.text)}”", SEVERITY_STYLE.get(span.severity, "")),
                    f" {span.reason}: {printable(span.message)}{printable(hint)}",
                )
            )
    shown = {sent.index for sent in rows}
    checks = [
        (sent, span) for sent in doc.sentences if sent.index not in shown for span in sent.spans
    ]
    if checks:
        console.print()
        console.print(Text("Checks (not flagged; confirm against the source):", style="bold"))
        for sent, span in checks:
            console.print(
                Text.assemble(
                    f"  sentence {sent.index + 1}: ",
                    (f"“{printable(span.text)}”", "cyan"),
                    f" {span.reason}: {printable(span.message)}",
                )
            )
    console.print()
    console.print(Text(printable(doc.signature.format()), style="dim"))


#: Machine-readable formats by name (the text view is `print_terminal`).
FORMATS = {"json": to_json, "jsonl": to_jsonl, "tsv": to_tsv}
