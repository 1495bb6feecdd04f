"""The archive's files: one schema per CSV file, and how values are
written and read back exactly."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from counterplan.counter.proposals import COLUMNS
from counterplan.errors import CounterplanError, InvalidInput, Problem
from counterplan.web.models import (
    CHALLENGE_STATES,
    ELECTION_KINDS,
    EXCEPTION_STATES,
    MEASURES,
    ROLES,
    SEATS,
)

FORMAT = "counterplan-web-archive"
#: 2: text that begins as a spreadsheet formula is written with a guard (below).
#: 3: reports have a date; the plan cycle's exceptions and settings; each
#: plan's challenges (competition between units); the self-government's files
#: (rules to criticisms below) and the votes' closing times.
FORMAT_VERSION = 3
#: The format versions restore reads: 1 wrote every text as it was; 1 and 2
#: have none of the files and columns format 3 added (ADDED_FILES, ADDED_COLUMNS).
READS = (1, 2, 3)
MANIFEST = "manifest.json"
#: The tables an archive holds, in the manifest's counts.
TABLES = ("users", "plans", "memberships", "versions", "publications", "rounds", "proposals",
          "outcomes", "polls", "poll_items", "voters", "ballots", "reports", "plan_exceptions",
          "cycle_settings", "challenges", "plan_rules", "terms", "elections",
          "election_options", "election_voters", "petitions", "petition_signatures",
          "criticisms")
#: The tables of format 1 and 2 (their manifests count no others).
TABLES_BEFORE_3 = TABLES[:13]
#: The table each file of a plan fills, where their names differ.
FILE_TABLES = {"poll_totals": "poll_items", "exceptions": "plan_exceptions",
               "cycle": "cycle_settings", "rules": "plan_rules",
               "election_totals": "election_options", "signatures": "petition_signatures"}
#: What format 3 added: a plan's files (none in an archive of 1 or 2), and the
#: columns of older files (empty when an archive of 1 or 2 has not got them).
ADDED_FILES = ("exceptions", "cycle", "challenges", "rules", "terms", "elections",
               "election_totals", "election_voters", "petitions", "signatures", "criticisms")
ADDED_COLUMNS = {"reports": ("date",), "polls": ("closes_at",)}
DAMAGED = ("the archive is damaged or was edited: export it again with `counterplan export`, "
           "or restore an intact copy")

# -- one schema per file: (column, kind).  Kinds: text; name (text, not empty);
# int (a whole number >= 0); float; time (ISO 8601, UTC); date (YYYY-MM-DD); user (a name in
# users.csv); version, round, proposal, poll, election, petition (a number or
# id of the plan's versions.csv, rounds.csv, proposals.csv, polls.csv,
# elections.csv, petitions.csv); plain (text written as
# the library writes it: counterplan.csv's columns but the note).  A trailing
# '?' allows empty for none.  Text, names and users are guarded: one that
# begins with a character of GUARD_BEFORE gets a GUARD in front, which reading
# takes off again, so that a spreadsheet shows a note '=1+1' as typed and
# never runs it as a formula. ---------------------------------------------------------

Spec = tuple[tuple[str, str], ...]
USERS: Spec = (("name", "name"), ("password_hash", "name"), ("created_at", "time"))
PLAN_FILES: dict[str, Spec] = {
    "memberships": (("user", "user"), ("role", "name"), ("unit", "text")),
    "versions": (("number", "int"), ("label", "text"), ("parent", "version?"),
                 ("round", "round?"), ("objective", "float"), ("input_hash", "text"),
                 ("economy_sha256", "text"), ("plan_sha256", "text"), ("created_at", "time"),
                 ("created_by", "user?")),
    "publications": (("version", "version"), ("at", "time"), ("by", "user?")),
    "rounds": (("number", "int"), ("version", "version"), ("state", "name"),
               ("opened_at", "time"), ("closed_at", "time?")),
    "proposals": (("id", "int"), ("round", "round"), ("unit", "text"), ("author", "user?"),
                  ("label", "text"), ("kind", "text"), ("note", "text"), ("verdict", "text"),
                  ("share", "float"), ("objective_before", "float"),
                  ("objective_after", "float"), ("reason", "text"), ("state", "name"),
                  ("created_at", "time"), ("submitted_at", "time?"), ("submitted_by", "user?")),
    "outcomes": (("version", "version"), ("proposal", "proposal"), ("verdict", "text"),
                 ("share", "float"), ("reason", "text")),
    "polls": (("id", "int"), ("round", "round"), ("unit", "text"), ("state", "name"),
              ("opened_at", "time"), ("closes_at", "time"), ("closed_at", "time?")),
    "poll_totals": (("poll", "poll"), ("proposal", "proposal"), ("yes", "int"), ("no", "int")),
    "voters": (("poll", "poll"), ("user", "user")),
    "reports": (("version", "version"), ("unit", "text"), ("technique", "text"),
                ("period", "text"), ("activity", "float"), ("note", "text"),
                ("reported_by", "user?"), ("created_at", "time"), ("date", "date?")),
    "exceptions": (("version", "version"), ("unit", "text"), ("technique", "text"),
                   ("date", "date"), ("kind", "name"), ("probability", "float"),
                   ("forecast", "float?"), ("reason", "text"), ("state", "name"),
                   ("reports_since", "int"), ("raised_at", "time"), ("escalated_at", "time?"),
                   ("closed_at", "time?"), ("note", "text"), ("acknowledged_by", "user?"),
                   ("acknowledged_at", "time?")),
    "cycle": (("escalate_after", "int"),),
    "challenges": (("number", "int"), ("challenger", "text"), ("challenged", "text"),
                   ("measure", "name"), ("item", "text"), ("first_period", "text"),
                   ("last_period", "text"), ("rules", "text"), ("version", "version"),
                   ("state", "name"), ("created_at", "time"), ("answered_at", "time?")),
    # the self-government (format 3): rules, terms, votes as totals, petitions, criticism
    "rules": (("term_days", "int"), ("recall_share", "float"), ("answer_days", "int"),
              ("vote_days", "int"), ("office_electorate", "name")),
    "terms": (("role", "name"), ("unit", "text"), ("user", "user?"), ("election", "election?"),
              ("started_at", "time"), ("ends_at", "time"), ("ended_at", "time?"),
              ("end", "text")),
    "elections": (("id", "int"), ("kind", "name"), ("role", "text"), ("unit", "text"),
                  ("subject", "user?"), ("base_version", "version?"), ("state", "name"),
                  ("electorate", "int"), ("opened_by", "user?"), ("opened_at", "time"),
                  ("closes_at", "time"), ("closed_at", "time?"), ("outcome", "text")),
    "election_totals": (("election", "election"), ("position", "int"), ("label", "text"),
                        ("user", "user?"), ("version", "version?"), ("yes", "int"),
                        ("no", "int")),
    "election_voters": (("election", "election"), ("user", "user")),
    "petitions": (("id", "int"), ("role", "name"), ("unit", "text"), ("subject", "user?"),
                  ("reason", "text"), ("needed", "int"), ("state", "name"),
                  ("opened_at", "time"), ("closes_at", "time"), ("election", "election?")),
    "signatures": (("petition", "petition"), ("user", "user")),
    "criticisms": (("role", "name"), ("unit", "text"), ("author", "user?"), ("text", "text"),
                   ("written_on", "time"), ("due_at", "time"), ("answer", "text"),
                   ("answered_at", "time?"), ("answered_by", "user?"),
                   ("hidden_ground", "text"), ("hidden_note", "text"), ("hidden_at", "time?"),
                   ("hidden_by", "user?")),
}
COUNTERPLAN: Spec = tuple((c, "text" if c == "note" else "plain") for c in COLUMNS)
NUMBERS = ("int", "version", "round", "proposal", "poll", "election", "petition")
GUARDED = ("text", "name", "user")
#: What a spreadsheet reads as the start of a formula (OWASP's list), and the
#: guard itself, so that a text that begins with a guard keeps it.
GUARD = "'"
GUARD_BEFORE = ("=", "+", "-", "@", "\t", "\r", GUARD)
#: Most characters csv reads in one field (its default, 131,072, is less than
#: a database's text holds: a long note made an export that restore refused).
FIELD_CHARS = 2**31 - 1
#: Columns whose rows must differ, and columns of a few allowed values.
KEYS = {"memberships": ("user", "role", "unit"), "versions": ("number",),
        "rounds": ("number",), "proposals": ("id",), "outcomes": ("version", "proposal"),
        "polls": ("id",), "poll_totals": ("poll", "proposal"), "voters": ("poll", "user"),
        "exceptions": ("unit", "technique", "date", "kind"), "challenges": ("number",),
        "elections": ("id",), "election_totals": ("election", "position"),
        "election_voters": ("election", "user"), "petitions": ("id",),
        "signatures": ("petition", "user")}
CHOICES = {("memberships", "role"): ROLES, ("rounds", "state"): ("open", "reconciled"),
           ("exceptions", "state"): EXCEPTION_STATES,
           ("proposals", "state"): ("proposed", "submitted"),
           ("polls", "state"): ("open", "closed"),
           ("challenges", "measure"): MEASURES, ("challenges", "state"): CHALLENGE_STATES,
           ("elections", "state"): ("open", "closed"),
           ("elections", "kind"): ELECTION_KINDS, ("terms", "role"): SEATS,
           ("petitions", "role"): SEATS, ("petitions", "state"): ("open", "vote"),
           ("criticisms", "role"): SEATS}

Row = dict[str, Any]


def _damaged(file: Path | str, line: int | None, message: str, value: str | None = None,
             fix: str = DAMAGED) -> InvalidInput:
    return InvalidInput([Problem(str(file), line, message, fix, value)])


# -- values and CSV files --------------------------------------------------------------

def _dump(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind.startswith("float"):
        return repr(float(value))
    if kind.startswith(("time", "date")):
        return str(value.isoformat())
    if kind.rstrip("?") in GUARDED and str(value).startswith(GUARD_BEFORE):
        return GUARD + str(value)
    return str(value)


def _load(kind: str, raw: str, guarded: bool = False) -> Any:
    """The value of ``raw`` in a column of ``kind`` (of an archive whose text
    is ``guarded``); ValueError says what is wrong."""
    if raw == "" and kind.endswith("?"):
        return None
    base = kind.rstrip("?")
    if guarded and base in GUARDED and raw.startswith(GUARD):
        raw = raw[len(GUARD):]
    if base in NUMBERS:
        if not re.fullmatch(r"[0-9]+", raw):
            raise ValueError("is not a whole number >= 0")
        return int(raw)
    if base == "float":
        try:
            return float(raw)
        except ValueError:
            raise ValueError("is not a number") from None
    if base == "time":
        try:
            moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError("is not a time (YYYY-MM-DDTHH:MM:SS[.ffffff])") from None
        if moment.tzinfo is not None:
            raise ValueError("has a time zone; times are UTC without one")
        return moment
    if base == "date":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError("is not a date (YYYY-MM-DD)") from None
    if base in ("name", "user") and raw == "":
        raise ValueError("is empty")
    return raw


def _write_csv(path: Path, spec: Spec, rows: Iterable[Sequence[Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        # csv quotes a field with the line's end (\n), not one with a lone \r, which
        # reading takes for the end of a line: a row with one is quoted whole
        quoted = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow([column for column, _ in spec])
        for row in rows:
            cells = [_dump(kind, v) for (_, kind), v in zip(spec, row, strict=True)]
            (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)
            n += 1
    return n


def _read_csv(path: Path, spec: Spec, guarded: bool, added: tuple[str, ...] = ()
              ) -> list[Row]:
    """The rows of ``path``, each value of its column's kind, with ``_line``;
    ``guarded`` for an archive of format 2 or later; the columns ``added``
    (by a later format) may be missing, and are then empty."""
    header = [column for column, _ in spec]
    if not path.is_file():
        raise _damaged(path, None, "is missing")
    if added:
        try:
            with path.open(newline="", encoding="utf-8") as f:
                first = next(csv.reader(f), None)
        except (UnicodeDecodeError, csv.Error):
            first = None  # read below, which says what is wrong
        if first == [c for c in header if c not in added]:
            rows = _read_csv(path, tuple((c, k) for c, k in spec if c not in added), guarded)
            return [{**row, **{c: None for c in added}} for row in rows]
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_CHARS))  # for the whole process
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f, strict=True)
            found = next(reader, None)
            if found != header:
                raise _damaged(path, 1, f"the header is {','.join(found or [])!r}; expected "
                                        f"{','.join(header)!r}")
            out, end = [], reader.line_num
            for raw in reader:
                line, end = end + 1, reader.line_num
                if len(raw) != len(header):
                    raise _damaged(path, line, f"has {len(raw)} fields; the header has "
                                               f"{len(header)}")
                out.append({"_line": line, **{c: _field(path, line, c, k, v, guarded)
                                               for (c, k), v in zip(spec, raw, strict=True)}})
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _damaged(path, None, f"cannot be read as UTF-8 CSV ({exc})") from None
    return out


def _field(path: Path, line: int, column: str, kind: str, raw: str, guarded: bool) -> Any:
    try:
        return _load(kind, raw, guarded)
    except ValueError as exc:
        raise _damaged(path, line, f"column {column} {exc}", raw) from None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def folder_hash(folder: Path) -> str:
    """SHA-256 of a folder's files: of each file's path and SHA-256, in path order."""
    whole = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        whole.update(f"{file.relative_to(folder).as_posix()}\0{digest}\n".encode())
    return whole.hexdigest()


def _unpack(data: bytes, folder: Path) -> str:
    """Unpack a stored zipped folder into ``folder``; return its folder hash."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if not (folder / name).resolve().is_relative_to(folder.resolve()):
                raise CounterplanError(f"a stored version holds the path {name!r} outside its "
                                       "folder; the database is damaged")
        archive.extractall(folder)
    return folder_hash(folder)



def summary(counts: dict[str, int]) -> str:
    """The counts as one line: '3 users, 1 plans, ...'."""
    return ", ".join(f"{counts.get(t, 0)} {t.replace('_', ' ')}" for t in TABLES)
