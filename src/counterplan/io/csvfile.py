"""Reading a CSV table as strings, with what a spreadsheet gets wrong named
precisely: a file that is not UTF-8 (the line, the column and the byte), a
file separated by semicolons or tabs, a header with a typo'd column."""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from counterplan.io.problems import Problems

#: How a spreadsheet saves UTF-8 CSV with commas.
SAVE_AS = ("save it as CSV, UTF-8, with a comma between fields (LibreOffice: Save As, Text CSV, "
           "character set UTF-8, field delimiter ','; Excel: CSV UTF-8 (comma delimited))")
#: Field separators a spreadsheet may use instead of a comma.
SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def read_csv(path: Path, file: str, problems: Problems) -> pd.DataFrame | None:
    """The table in ``path`` as strings (empty cells as ''), or ``None`` with
    the problem reported when it cannot be read.  A byte-order mark (Excel's
    UTF-8) is accepted; an empty file raises :class:`pandas.errors.EmptyDataError`."""
    if _separator_problem(path, file, problems):
        return None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                           skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise
    except UnicodeDecodeError:
        encoding_problem(path, file, problems, SAVE_AS)
    except (pd.errors.ParserError, ValueError) as exc:
        problems.add(file, None, f"cannot be read as CSV: {exc}",
                     SAVE_AS + ", and the same number of fields on every line")
    return None


def _separator_problem(path: Path, file: str, problems: Problems) -> bool:
    """Report a header without commas but with another separator."""
    with path.open("rb") as fh:
        header = b""
        for raw in fh:
            if raw.strip():
                header = raw.strip()
                break
    if b"," in header:
        return False
    for sep, name in SEPARATORS.items():
        count = header.count(sep.encode())
        if count:
            problems.add(file, 1, f"the header has no commas but {count} {name}: the fields "
                         f"are separated by {sep!r} (a spreadsheet's setting)", SAVE_AS,
                         header.decode("utf-8", "replace"))
            return True
    return False


def encoding_problem(path: Path, file: str, problems: Problems, fix: str) -> None:
    """Report the first byte that is not UTF-8: its line, column and value."""
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
        return  # pragma: no cover - pandas and Python agree on what UTF-8 is
    except UnicodeDecodeError as exc:
        at = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
    line = data.count(b"\n", 0, at) + 1
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    text = data[start:end if end >= 0 else len(data)].decode("cp1252", "replace").rstrip("\r")
    problems.add(file, line, f"byte 0x{data[at]:02X} at column {at - start + 1} is not UTF-8 "
                 "(the file looks saved as Latin-1 or Windows-1252)", fix, text)


def check_header(columns: list[str], known: list[str], required: list[str], file: str,
                 problems: Problems) -> bool:
    """Report each missing required column (with the header's near miss, if
    any, in the same message) and warn on each unknown column (with the known
    column it may mean).  True when every required column is there."""
    unknown = [c for c in columns if c not in known]
    missing = [c for c in required if c not in columns]
    explained = set()
    for c in missing:
        close = difflib.get_close_matches(c, unknown, n=1, cutoff=0.6)
        if close:
            explained.add(close[0])
            problems.add(file, 1, f"required column '{c}' is missing; the header has "
                         f"'{close[0]}' instead", f"rename '{close[0]}' to '{c}' (the header must "
                         f"contain {', '.join(required)})")
        else:
            problems.add(file, 1, f"required column '{c}' is missing",
                         f"the header must contain {', '.join(required)}")
    absent = [c for c in known if c not in columns]
    for c in unknown:
        if c in explained:
            continue
        close = difflib.get_close_matches(c, absent, n=1, cutoff=0.6)
        hint = f"if it means '{close[0]}', rename it; " if close else ""
        problems.warn(file, 1, "unknown column is ignored",
                      f"{hint}known columns are {', '.join(known)}", c)
    return not missing
