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
        return flat(f"{self.message} ({self.hint})" if self.hint else self.message)


def flat(text: str) -> str:
    """`text` on one line: a line break or other control character in a quoted value (a
    `--period` typed with a newline, a file name) is written as its escape, such as `\\n`."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


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
