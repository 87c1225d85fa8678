"""Terminal view of `mtqa batch`: the summary tables and the progress bar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..core.result import REASONS
from ..core.text import printable

if TYPE_CHECKING:
    from .options import ProgressFn


def _plain(text: str) -> Any:
    """Text from the corpus or the user (system names, config names) as a rich `Text`: never
    read as markup (`[link=…]`, `[/bold]`) or emoji codes, control characters shown escaped."""
    from rich.text import Text

    return Text(printable(str(text)))


def print_summary(summary: dict[str, Any], console: Any) -> None:
    """Per-system table (and the comparison against the baseline) with rich."""
    from rich.table import Table

    systems = summary["systems"]
    with_metrics = any("BLEU" in s for s in systems.values())
    table = Table(title="mtqa batch: per system", title_justify="left")
    table.add_column("system", overflow="fold")
    for name in ("docs", "segs", "score", "flag%", "major", "minor"):
        table.add_column(name, justify="right")
    if with_metrics:
        for name in ("BLEU", "chrF", "TER"):
            table.add_column(name, justify="right")
    for name, s in systems.items():
        cells = [
            _plain(name),
            f"{s['n_documents']:,}",
            f"{s['n_segments']:,}",
            f"{s['score']:.3f}",
            f"{s['share_flagged']:.1%}",
            str(s["major"]),
            str(s["minor"]),
        ]
        if with_metrics:
            cells += [f"{s[m]['score']:.1f}" if m in s else "–" for m in ("BLEU", "chrF", "TER")]
        table.add_row(*cells)
    console.print(table)
    reasons = [name for name in REASONS if any(name in s["reasons"] for s in systems.values())]
    if reasons:
        by_reason = Table(title="flags by reason", title_justify="left")
        by_reason.add_column("system", overflow="fold")
        for reason in reasons:
            by_reason.add_column(reason, justify="right")
        for name, s in systems.items():
            by_reason.add_row(_plain(name), *(str(s["reasons"].get(r, 0)) for r in reasons))
        console.print(by_reason)
    comparison = summary.get("comparison")
    if comparison:
        console.print(_comparison_table(comparison))
    shown: set[str] = set()
    for metric, signature in (comparison or {}).get("signatures", {}).items():
        console.print(_plain(f"{metric}: {signature}"), style="dim", soft_wrap=True)
        shown.add(metric)
    for metric in ("BLEU", "chrF", "TER"):
        signature = next((s[metric]["signature"] for s in systems.values() if metric in s), None)
        if signature and metric not in shown:
            console.print(_plain(f"{metric}: {signature}"), style="dim", soft_wrap=True)
    if summary.get("signature"):
        console.print(_plain(summary["signature"]), style="dim", soft_wrap=True)


def _cell(result: dict[str, Any] | None, digits: int, baseline: bool = False) -> str:
    if result is None:
        return "–"
    if baseline:
        value, mean, ci = result["baseline"], result["baseline_mean"], result["baseline_ci"]
    else:
        value, mean, ci = result["score"], result["mean"], result["ci"]
    text = f"{value:.{digits}f} ({mean:.{digits}f} ± {ci:.{digits}f})"
    if not baseline:
        star = "*" if result["p_value"] < 0.05 else ""
        text += f"\n(p = {result['p_value']:.4f}){star}"
    return text


def _comparison_table(comparison: dict[str, Any]) -> Any:
    """sacrebleu's --paired-bs table, with mtqa's score as one more metric."""
    from rich.table import Table

    rows = comparison["systems"]
    table = Table(
        title=_plain(
            f"paired bootstrap against {comparison['baseline']} "
            f"({comparison['n_samples']} resamples, seed {comparison['seed']}; * p < 0.05)"
        ),
        title_justify="left",
    )
    table.add_column("system", overflow="fold")
    table.add_column("segs", justify="right")
    metrics = [("mtqa", "mtqa score", 3)]
    if any("BLEU" in row for row in rows):
        metrics += [("BLEU", "BLEU", 1), ("chrF", "chrF", 1)]
    for _, label, _ in metrics:
        table.add_column(f"{label} (μ ± 95% CI)", justify="center")
    sizes = {row["n_segments"] for row in rows}
    first = rows[0] if rows else None
    if first is not None and len(sizes) == 1 and "mtqa" in first:
        cells = [_plain(f"{comparison['baseline']} (baseline)"), f"{first['n_segments']:,}"]
        cells += [_cell(first.get(key), digits, baseline=True) for key, _, digits in metrics]
        table.add_row(*cells, end_section=True)
    for row in rows:
        cells = [_plain(row["system"]), f"{row['n_segments']:,}"]
        cells += [_cell(row.get(key), digits) for key, _, digits in metrics]
        table.add_row(*cells)
    return table


@contextmanager
def progress_bar(quiet: bool) -> Iterator[ProgressFn]:
    """A rich progress bar on stderr: documents done, segments per second-ish, ETA by text read."""
    if quiet:
        yield lambda *args: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("scoring"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[docs]} documents"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("scoring", total=None, docs="0/?")
        started = False

        def update(docs: int, total_docs: int, chars: int, total_chars: int) -> None:
            nonlocal started
            label = f"{docs:,}/{total_docs:,}"
            if not started:  # resumed work is a starting point, not speed (ETA)
                bar.reset(task, completed=chars, total=total_chars, docs=label)
                started = True
            else:
                bar.update(task, completed=chars, total=total_chars, docs=label)

        yield update
