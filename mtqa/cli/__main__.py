"""`python -m mtqa.cli`: the same as the `mtqa` command."""

from . import run

run()
