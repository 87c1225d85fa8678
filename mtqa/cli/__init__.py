"""Command line: a thin layer over the Python API.

Exit codes: 0 success, 1 error (bad input, missing model), 2 usage, 3 a quality gate
(--fail-over-flagged / --fail-under) was not met.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import click

from ..core import EXIT_ERROR, EXIT_USAGE, MtqaError, __version__, describe_os_error, printable
from .batch import batch
from .calibrate import calibrate, evaluate
from .score import score

EXIT_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away
#: Commands after which `run` ends the process without finalizing the interpreter.
FAST_EXIT_COMMANDS = frozenset({"score"})
_invoked: list[str] = []  # the subcommand `main` ran in this process


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (`| head`): stop quietly, as other CLIs do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    sys.exit(EXIT_PIPE)


def _error(message: str) -> None:
    """The one line an error gets (document text in it shown escaped)."""
    click.echo(f"mtqa: error: {printable(' '.join(message.split()))}", err=True)


def _show_warning(message: Warning | str, *_: Any, **__: Any) -> None:
    """mtqa's own warnings (a rebuilt cache, ...) as one line each."""
    click.echo(f"mtqa: warning: {printable(str(message))}", err=True)


class MtqaGroup(click.Group):
    """The one place errors become one line on stderr (never a traceback): MtqaError with its
    exit code, any OSError (read-only folder, full disk, ...) naming the path, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        warnings.showwarning = _show_warning
        try:
            result = super().invoke(ctx)
            if sys.stdout is not None:
                sys.stdout.flush()  # a full disk shows here, not at interpreter exit
            return result
        except MtqaError as exc:
            _error(str(exc))
            sys.exit(exc.exit_code)
        except click.UsageError as exc:  # one line, like every other error
            name = ctx.invoked_subcommand or (ctx.protected_args or [""])[0]
            _error(f"{exc.format_message()} (see `mtqa {name} --help`)".replace("  ", " "))
            sys.exit(EXIT_USAGE)
        except BrokenPipeError:
            _quiet_broken_pipe()
        except OSError as exc:
            _error(describe_os_error(exc))
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("mtqa: interrupted", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own usage errors and exits
        except MemoryError:
            click.echo("mtqa: error: out of memory", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as exc:  # a bug: one line for the user, the traceback on request
            if os.environ.get("MTQA_DEBUG"):
                raise
            click.echo(
                printable(
                    f"mtqa: internal error: {type(exc).__name__}: {exc} "
                    "(a bug in mtqa: please report it; MTQA_DEBUG=1 shows the traceback)"
                ),
                err=True,
            )
            sys.exit(EXIT_ERROR)
        finally:
            _invoked.append(ctx.invoked_subcommand or "")  # set once the group has parsed


@click.group(cls=MtqaGroup)
@click.version_option(__version__, prog_name="mtqa")
def main() -> None:
    """mtqa: find the sentences of machine-translated English news an editor should check."""


for command in (score, batch, calibrate, evaluate):
    main.add_command(command)


def run() -> None:
    """The `mtqa` command. After `mtqa score` has written and flushed everything, the process
    ends at once (`os._exit`): finalizing an interpreter that imported torch takes about 0.45 s
    on 2 cores (a fifth of a short document's run) and frees nothing the system does not. The
    other commands (Ray, worker pools) exit normally, their clean-up run."""
    try:
        main()
    except SystemExit as exc:
        if isinstance(exc.code, int | None) and _invoked and _invoked[-1] in FAST_EXIT_COMMANDS:
            try:
                for stream in (sys.stdout, sys.stderr):
                    if stream is not None:
                        stream.flush()
            except (OSError, ValueError):
                raise exc from None  # the usual exit reports it
            os._exit(exc.code or 0)
        raise


if __name__ == "__main__":
    run()
