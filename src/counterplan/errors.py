"""One exception hierarchy for every mistake a user can make.

A user's mistake is reported as a :class:`Problem` that names the file, the
line, the value and the fix; the command-line interface prints it without a
traceback and exits non-zero.  Anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, located precisely."""

    file: str
    line: int | None
    message: str
    fix: str
    value: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.severity.value}: {self.message}{shown}. Fix: {self.fix}"


class CounterplanError(Exception):
    """Base class of every error caused by what the user asked for."""


class InvalidInput(CounterplanError):
    """The input has errors; ``problems`` lists every one of them."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.severity is Severity.ERROR]
        head = f"{len(errors)} error(s) in the input"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in errors))


class NotInputOutput(CounterplanError):
    """The economy has a choice of techniques or joint production: it needs an LP."""


class SolveFailed(CounterplanError):
    """A numerical solve did not reach the asked accuracy."""
