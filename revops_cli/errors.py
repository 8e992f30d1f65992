"""Errors that stop a run before it can report, each with a message and a hint on the fix."""

from __future__ import annotations


class RevopsError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits 2."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the hint as the single line printed on stderr."""
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(RevopsError):
    """The config file is missing, malformed or invalid; `problems` lists every problem found."""

    def __init__(
        self, message: str, hint: str | None = None, problems: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, hint)
        self.problems = problems


class InputError(RevopsError):
    """A source file cannot be read at all (missing, a directory, binary, not CSV, undecodable)."""


class PeriodError(RevopsError):
    """A `--period` token does not follow the grammar, or the period lies in the future."""
