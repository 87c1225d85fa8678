"""Errors a user can act on, and the documented exit codes."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_GATE = 3


class MtqaError(Exception):
    """A problem with the user's input or set-up: printed as one line, exit code 1."""

    exit_code = EXIT_ERROR


class InputError(MtqaError):
    """The text, file or corpus given cannot be read as asked."""


class ModelError(MtqaError):
    """The model cannot be found or loaded."""


class UsageError(MtqaError):
    """The command asks for something that cannot be done as given (exit code 2)."""

    exit_code = EXIT_USAGE


class ConfigError(MtqaError):
    """A config file that does not describe a usable scoring configuration."""


class ConfigNotFound(ConfigError):
    """No config file of that name or path."""
