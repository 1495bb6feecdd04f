"""Collecting every problem of an input, vectorised and capped per check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.errors import InvalidInput, Problem, Severity

#: At most this many rows are listed for one kind of problem; the rest are counted.
ROWS_SHOWN = 10


@dataclass
class RawTable:
    """A table as read: strings (CSV) or typed columns (Parquet), with the line
    (CSV) or row (Parquet) number of each row for messages."""

    file: str
    frame: pd.DataFrame | None
    lines: NDArray[np.int64]
    readable: bool = True  # False when the file exists but could not be parsed

    @property
    def present(self) -> bool:
        return self.frame is not None

    def __len__(self) -> int:
        return 0 if self.frame is None else len(self.frame)


class Problems:
    """Accumulates problems; raise with :meth:`raise_if_errors`."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, file: str, line: int | None, message: str, fix: str,
            value: object = None, severity: Severity = Severity.ERROR) -> None:
        shown = None if value is None else str(value)
        self.found.append(Problem(file, line, message, fix, shown, severity))

    def warn(self, file: str, line: int | None, message: str, fix: str,
             value: object = None) -> None:
        self.add(file, line, message, fix, value, Severity.WARNING)

    def rows(self, table: RawTable, mask: NDArray[np.bool_], message: str, fix: str,
             values: pd.Series | np.ndarray | None = None,
             severity: Severity = Severity.ERROR) -> None:
        """One problem per row where ``mask`` holds (the first ROWS_SHOWN of them)."""
        where = np.flatnonzero(mask)
        for i in where[:ROWS_SHOWN]:
            value = None if values is None else _at(values, i)
            self.add(table.file, int(table.lines[i]), message, fix, value, severity)
        if len(where) > ROWS_SHOWN:
            self.add(table.file, None,
                     f"{len(where) - ROWS_SHOWN} more rows with the same problem: {message}",
                     fix, None, severity)

    def sorted(self, files: list[str]) -> list[Problem]:
        """Problems in the order of ``files``, then by line."""
        order = {f: k for k, f in enumerate(files)}
        return sorted(self.found, key=lambda p: (order.get(p.file, len(order)), p.line or 0))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.found if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.found if p.severity is Severity.WARNING]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InvalidInput(self.found)


def _at(values: pd.Series | np.ndarray, i: int) -> object:
    if isinstance(values, pd.Series):
        return values.iloc[i]
    return values[i]
