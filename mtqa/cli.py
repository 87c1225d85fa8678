"""Command line: a thin layer over the Python API.

Exit codes: 0 success, 1 error (bad input, missing model), 2 usage, 3 a quality gate
(--fail-over-flagged / --fail-under) was not met.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console

from . import __version__
from .errors import EXIT_ERROR, EXIT_GATE, MtqaError
from .io import atomic_write, read_text
from .render import print_terminal, to_json, to_jsonl, to_tsv

FORMATS = {"json": to_json, "jsonl": to_jsonl, "tsv": to_tsv}


class MtqaGroup(click.Group):
    """Turns MtqaError into one line on stderr and exit code 1 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MtqaError as exc:
            click.echo(f"mtqa: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("mtqa: interrupted", err=True)
            sys.exit(130)
        except MemoryError:
            click.echo("mtqa: error: out of memory", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=MtqaGroup)
@click.version_option(__version__, prog_name="mtqa")
def main() -> None:
    """mtqa: find the sentences of machine-translated English news an editor should check."""


@contextmanager
def progress(quiet: bool, label: str):  # type: ignore[no-untyped-def]
    """A progress bar on stderr (silent with --quiet or when stderr is not a terminal)."""
    if quiet:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} tokens"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _status(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message, err=True)


@main.command()
@click.argument("file", type=str)
@click.option("--model", "-m", default=None, help="Registry name, .gguf path, folder or hub id.")
@click.option("--config", "-c", "config", default=None, help="Name in configs/ or a JSON path.")
@click.option(
    "--preset",
    type=click.Choice(["strict", "standard", "lenient"]),
    default="standard",
    show_default=True,
    help="Flagging threshold preset.",
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json", "jsonl", "tsv"]), default="text"
)
@click.option("--output", "-o", default=None, help="Write the result here (atomically).")
@click.option("--report", default=None, help="Also write the HTML editor report here.")
@click.option("--all", "show_all", is_flag=True, help="Text view: list every sentence, ranked.")
@click.option(
    "--fail-over-flagged",
    type=click.IntRange(min=0),
    default=None,
    help="Exit 3 if more than N sentences are flagged.",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 3 if the document score is below SCORE.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress or status on stderr.")
def score(
    file: str,
    model: str | None,
    config: str | None,
    preset: str,
    fmt: str,
    output: str | None,
    report: str | None,
    show_all: bool,
    fail_over_flagged: int | None,
    fail_under: float | None,
    quiet: bool,
) -> None:
    """Score FILE (a plain-text article, or - for stdin) sentence by sentence."""
    from .scorer import Scorer

    text = read_text(file)
    _status(quiet, "mtqa: loading model…")
    scorer = Scorer.load(model, config, preset)
    with progress(quiet, "scoring") as update:
        result = scorer.score(text, doc_id=None if file == "-" else file, on_progress=update)
    for warning in result.warnings:
        click.echo(f"mtqa: warning: {warning}", err=True)
    if report:
        from .report import write_report

        write_report(result, report)
        _status(quiet, f"mtqa: report written to {report}")
    _emit(fmt, result, output, show_all)
    _gate(result, fail_over_flagged, fail_under)


def _emit(fmt: str, result: Any, output: str | None, show_all: bool) -> None:
    if fmt == "text":
        if output:
            console = Console(record=True, width=100, file=open("/dev/null", "w"))  # noqa: SIM115
            print_terminal(result, console, show_all)
            atomic_write(output, console.export_text())
        else:
            print_terminal(result, Console(), show_all)
        return
    render: Callable[[Any], str] = FORMATS[fmt]
    content = render(result)
    if output:
        atomic_write(output, content if content.endswith("\n") else content + "\n")
    else:
        click.echo(content.rstrip("\n"))


def _gate(result: Any, fail_over_flagged: int | None, fail_under: float | None) -> None:
    n_flagged = len(result.flagged)
    if fail_over_flagged is not None and n_flagged > fail_over_flagged:
        click.echo(
            f"mtqa: gate failed: {n_flagged} sentences flagged (> {fail_over_flagged})", err=True
        )
        sys.exit(EXIT_GATE)
    if fail_under is not None and result.score < fail_under:
        click.echo(f"mtqa: gate failed: score {result.score:.3f} < {fail_under}", err=True)
        sys.exit(EXIT_GATE)


if __name__ == "__main__":
    main()
