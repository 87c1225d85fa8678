"""Options and terminal helpers shared by the commands."""

from __future__ import annotations

import errno
import math
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console

from ..core import PRESETS, configs_dir, printable
from ..models import PRECISIONS


class StdoutConsole(Console):
    """The console of the results on stdout: a reader that goes away (`mtqa score … | head`)
    reaches the CLI's one handler as BrokenPipeError (quiet, exit 141, as documented), not
    rich's own exit 1. Markup, emoji codes and highlighting are off: what it prints holds
    document text and names, which must show as written (`[link=…]` is not a link)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**{"markup": False, "emoji": False, "highlight": False, **options})

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


class FiniteRange(click.FloatRange):
    """A number in a range that is also finite: `nan` passes click's own range test (every
    comparison with it is false), so a gate given `nan` would never fail."""

    name = "finite float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def pick_config(config: str | None, with_source: bool) -> str | None:
    """The config asked for; with a source and none asked for, the shipped `source` config (the
    combiner calibrated with the source-aware features), as `score` and `batch` both do."""
    if config is None and with_source and (configs_dir() / "source.json").is_file():
        return "source"
    return config


def scorer_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--model, --config and --preset: what every scoring command is configured by."""
    for option in reversed(
        (
            click.option(
                "--model", "-m", default=None, help="Registry name, .gguf path, folder or hub id."
            ),
            click.option(
                "--config", "-c", "config", default=None, help="Shipped config name or a JSON path."
            ),
            click.option(
                "--preset",
                type=click.Choice(list(PRESETS)),
                default="standard",
                show_default=True,
                help="Flagging threshold preset.",
            ),
        )
    ):
        command = option(command)
    return command


def _device_spec(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from ..models import check_device_spec

    return check_device_spec(value)


device_option = click.option(
    "--device",
    default="auto",
    show_default=True,
    callback=_device_spec,
    help="Where the model runs: auto (CUDA when usable), cpu, cuda or cuda:N. The signature "
    "says where scores came from.",
)

precision_option = click.option(
    "--precision",
    type=click.Choice(list(PRECISIONS)),
    default="fp32",
    show_default=True,
    help="The GPU's number format (the CPU is always fp32). bf16/fp16 are for larger models: "
    "with the default one they save little and move some flags.",
)

quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress or status on stderr.")


def text_console_options(tty: bool) -> dict[str, Any]:
    """How the text view lays out: to a terminal at its width; elsewhere (a pipe, a log, a
    file) unwrapped, unless `COLUMNS` asks for a width."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return {"width": int(columns)}
    return {} if tty else {"soft_wrap": True, "width": 1000}


def progress_seconds() -> float:
    """How often a progress line is written when stderr is not a terminal."""
    try:
        seconds = float(os.environ.get("MTQA_PROGRESS_SECONDS", "10"))
    except ValueError:
        return 10.0
    return max(0.0, seconds) if math.isfinite(seconds) else 10.0


def progress_lines(label: str, unit: str) -> Callable[..., None]:
    """A progress callback for logs: a plain line every `progress_seconds()` at most."""
    every = progress_seconds()
    last = [time.monotonic()]

    def update(done: int, total: int, *_: int) -> None:
        now = time.monotonic()
        if now - last[0] >= every or (every == 0 and done):
            last[0] = now
            share = f" ({done / total:.0%})" if total else ""
            click.echo(f"mtqa: progress: {label} {done:,}/{total:,} {unit}{share}", err=True)

    return update


@contextmanager
def progress(quiet: bool, label: str):  # type: ignore[no-untyped-def]
    """A progress bar on stderr; plain progress lines when stderr is not a terminal (a log
    shows the job is alive); nothing with --quiet."""
    if quiet:
        yield lambda done, total: None
        return
    if not sys.stderr.isatty():
        yield progress_lines(label, "tokens")
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


def status(quiet: bool, message: str) -> None:
    """A status line on stderr (paths and names in it shown with controls escaped)."""
    if not quiet:
        click.echo(printable(message), err=True)
