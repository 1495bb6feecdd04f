"""Restore: read an archive folder whole, check it, then write it into an
empty database in one transaction."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from counterplan import __version__
from counterplan.counter.proposals import COLUMNS
from counterplan.errors import CounterplanError
from counterplan.web.archive.formats import (
    ADDED_COLUMNS,
    ADDED_FILES,
    CHOICES,
    COUNTERPLAN,
    FILE_TABLES,
    FORMAT,
    KEYS,
    MANIFEST,
    PLAN_FILES,
    READS,
    TABLES,
    TABLES_BEFORE_3,
    USERS,
    Row,
    Spec,
    _damaged,
    _load,
    _read_csv,
    folder_hash,
)
from counterplan.web.db import migrate, sessions, transaction
from counterplan.web.models import (
    Challenge,
    Criticism,
    CycleSettings,
    Election,
    ElectionOption,
    ElectionVoter,
    Membership,
    Outcome,
    Petition,
    Plan,
    PlanException,
    PlanRules,
    Poll,
    PollItem,
    Proposal,
    Publication,
    Report,
    Round,
    Signature,
    Term,
    User,
    Version,
    Voter,
)
from counterplan.web.services.versions import NAME_CHARS
from counterplan.web.store import zip_folder

# -- reading an archive ----------------------------------------------------------------

@dataclass
class PlanData:
    """One plan of an archive, read and checked."""

    name: str
    info: Row
    tables: dict[str, list[Row]]
    changes: dict[int, list[Row]]  # counter-plan rows by proposal id
    zips: dict[int, tuple[bytes, bytes]]  # zipped economy and plan by version number


@dataclass
class Archive:
    """A whole archive, read and checked, ready to be written."""

    users: list[Row]
    plans: list[PlanData]
    counts: dict[str, int]


def read_archive(root: Path) -> Archive:
    """Read and check every file of the archive at ``root``; raise
    :class:`InvalidInput` naming the first damaged file."""
    counts, version = _read_manifest(root)
    _refuse_links(root)
    users = _read_csv(root / "users.csv", USERS, version >= 2)
    _check_unique(root / "users.csv", users, ("name",))
    known = {u["name"] for u in users}
    if not (root / "plans").is_dir():
        raise _damaged(root / "plans", None, "is missing")
    plans = [_read_plan(folder, known, version)
             for folder in sorted((root / "plans").iterdir()) if folder.is_dir()]
    held = Counter(users=len(users), plans=len(plans))
    for plan in plans:
        held.update({FILE_TABLES.get(file, file): len(rows)
                     for file, rows in plan.tables.items()})
        held["ballots"] += sum(t["yes"] + t["no"] for t in plan.tables["poll_totals"])
    for table in TABLES:
        if held[table] != counts[table]:
            raise _damaged(root / MANIFEST, None, f"counts {counts[table]} {table} but the "
                                                  f"archive holds {held[table]}")
    for what in ("proposals", "polls", "elections", "petitions"):  # ids across plans
        seen: set[int] = set()
        for plan in plans:
            for row in plan.tables[what]:
                if row["id"] in seen:
                    raise _damaged(root / "plans" / plan.name / f"{what}.csv", row["_line"],
                                   f"repeats id {row['id']} of another plan")
                seen.add(row["id"])
    return Archive(users, plans, counts)


def _refuse_links(root: Path) -> None:
    """Refuse an archive that holds anything but folders and regular files:
    restore would read the file a symbolic link points to (anywhere on the
    machine) into the database."""
    for folder, folders, files in os.walk(root):  # enters no linked folder
        for name in sorted(folders + files):
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise _damaged(path, None, f"is a symbolic link (to {os.readlink(path)}); an "
                                           "archive holds only folders and files, and "
                                           "restore follows no link",
                               fix="put a copy of the file in place of the link, or "
                                   "export it again with `counterplan export`")
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise _damaged(path, None, "is neither a folder nor a file (a pipe, a socket "
                                           "or a device); an archive holds only folders and "
                                           "files")


def _read_manifest(root: Path) -> tuple[dict[str, int], int]:
    """The manifest's counts of rows per table, and its format version."""
    path = root / MANIFEST
    if not path.is_file():
        raise _damaged(path, None, "is missing: this is not an archive",
                       fix="give the folder that `counterplan export` wrote")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(path, None, f"is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(path, None, f"is not the manifest of a {FORMAT}",
                       fix="give the folder that `counterplan export` wrote")
    version = manifest.get("format_version")
    if version not in READS or isinstance(version, bool):
        raise _damaged(path, None, f"is format version {version!r}, written by counterplan "
                                   f"{manifest.get('counterplan')}; this counterplan "
                                   f"({__version__}) reads format versions "
                                   f"{', '.join(map(str, READS))}",
                       fix="restore it with the counterplan version that wrote it")
    counts = manifest.get("counts")
    allowed = [sorted(TABLES)] + ([sorted(TABLES_BEFORE_3)] if version < 3 else [])
    if not isinstance(counts, dict) or sorted(counts) not in allowed or not all(
            isinstance(v, int) for v in counts.values()):
        tables = TABLES if version >= 3 else TABLES_BEFORE_3
        raise _damaged(path, None, f"has no counts of the tables {', '.join(tables)}")
    return {table: counts.get(table, 0) for table in TABLES}, version


def _read_plan(folder: Path, users: set[str], version: int) -> PlanData:
    if not 0 < len(folder.name) <= 64 or not set(folder.name) <= NAME_CHARS:
        raise _damaged(folder, None, "is not a plan's name (1 to 64 of a-z, 0-9, '-', '_')")
    guarded = version >= 2
    info = _read_plan_json(folder / "plan.json")
    tables = {file: _read_table(folder, file, spec, guarded, version)
              for file, spec in PLAN_FILES.items()}
    _check_tables(folder, tables, users)
    if len(tables["cycle"]) > 1:
        raise _damaged(folder / "cycle.csv", tables["cycle"][1]["_line"],
                       "has more than one row: a plan has one setting")
    changes = _read_changes(folder, tables["proposals"], guarded)
    zips = {row["number"]: _read_version(folder, row) for row in tables["versions"]}
    return PlanData(folder.name, info, tables, changes, zips)


def _read_table(folder: Path, file: str, spec: Spec, guarded: bool, version: int
                ) -> list[Row]:
    """A plan's file; in format 1 and 2, a file format 3 added may be missing
    (no rows), and so may a column it added (empty); an
    open vote without a closing time closes seven days from now, as migration
    0005 gives them."""
    path = folder / f"{file}.csv"
    if version < 3 and file in ADDED_FILES and not path.exists():
        return []
    rows = _read_csv(path, spec, guarded, ADDED_COLUMNS.get(file, ()) if version < 3 else ())
    soon = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=7)
    for row in rows if file == "polls" else []:  # as migration 0005 gives them
        if row["closes_at"] is None:
            row["closes_at"] = soon if row["state"] == "open" else \
                row["closed_at"] or row["opened_at"]
    return rows


def _read_plan_json(path: Path) -> Row:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        info = {key: str(data[key]) for key in ("title", "description")}
        return {**info, "created_at": _load("time", data["created_at"])}
    except FileNotFoundError:
        raise _damaged(path, None, "is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise _damaged(path, None, "is not a plan's title, description and created_at "
                                   f"({exc!r})") from None


def _check_unique(path: Path, rows: list[Row], key: tuple[str, ...]) -> None:
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        value = tuple(row[c] for c in key)
        if value in seen:
            raise _damaged(path, row["_line"], f"repeats {', '.join(key)} {value!r}")
        seen.add(value)


def _check_tables(folder: Path, tables: dict[str, list[Row]], users: set[str]) -> None:
    """Unique keys, known states and roles, and every reference resolved."""
    for file, key in KEYS.items():
        _check_unique(folder / f"{file}.csv", tables[file], key)
    for (file, column), allowed in CHOICES.items():
        for row in tables[file]:
            if row[column] not in allowed:
                raise _damaged(folder / f"{file}.csv", row["_line"],
                               f"column {column} is not one of {', '.join(allowed)}",
                               row[column])
    known = {"user": users, "version": {r["number"] for r in tables["versions"]},
             "round": {r["number"] for r in tables["rounds"]},
             "proposal": {r["id"] for r in tables["proposals"]},
             "poll": {r["id"] for r in tables["polls"]},
             "election": {r["id"] for r in tables["elections"]},
             "petition": {r["id"] for r in tables["petitions"]}}
    for file, spec in PLAN_FILES.items():
        for column, what in ((c, k.rstrip("?")) for c, k in spec if k.rstrip("?") in known):
            for row in tables[file]:
                if row[column] is not None and row[column] not in known[what]:
                    raise _damaged(folder / f"{file}.csv", row["_line"],
                                   f"column {column} names no {what} of the archive",
                                   str(row[column]))
    _check_votes(folder, tables)


def _check_votes(folder: Path, tables: dict[str, list[Row]]) -> None:
    """No proposal or option has more ballots than its vote has voters."""
    voters = Counter(row["poll"] for row in tables["voters"])
    for row in tables["poll_totals"]:
        if row["yes"] + row["no"] > voters[row["poll"]]:
            raise _damaged(folder / "poll_totals.csv", row["_line"],
                           f"{row['yes'] + row['no']} ballots on proposal {row['proposal']} "
                           f"but voters.csv lists {voters[row['poll']]} voters of poll "
                           f"{row['poll']}")
    voted = Counter(row["election"] for row in tables["election_voters"])
    for row in tables["election_totals"]:
        if row["yes"] + row["no"] > voted[row["election"]]:
            raise _damaged(folder / "election_totals.csv", row["_line"],
                           f"{row['yes'] + row['no']} answers on option {row['position']} but "
                           f"election_voters.csv lists {voted[row['election']]} voters of "
                           f"election {row['election']}")


def _read_changes(folder: Path, proposals: list[Row], guarded: bool) -> dict[int, list[Row]]:
    """Every proposal's rows from its round's counterplan.csv."""
    changes: dict[int, list[Row]] = {p["id"]: [] for p in proposals}
    rounds = sorted({p["round"] for p in proposals})
    ours = {p["id"]: p["round"] for p in proposals}
    for number in rounds:
        path = folder / "rounds" / str(number) / "counterplan.csv"
        for row in _read_csv(path, COUNTERPLAN, guarded):
            found = re.fullmatch(r"p([0-9]+)", row["id"])
            if found is None or ours.get(int(found[1])) != number:
                raise _damaged(path, row["_line"], f"column id names no proposal of round "
                                                   f"{number} in proposals.csv", row["id"])
            changes[int(found[1])].append(row)
    for p in proposals:
        if not changes[p["id"]]:
            raise _damaged(folder / "rounds" / str(p["round"]) / "counterplan.csv", None,
                           f"has no rows of proposal p{p['id']}")
    return changes


def _read_version(folder: Path, row: Row) -> tuple[bytes, bytes]:
    """The zipped economy and plan of a version, once their files check out."""
    zips = []
    for part in ("economy", "plan"):
        path = folder / "versions" / str(row["number"]) / part
        if not path.is_dir():
            raise _damaged(path, None, "is missing")
        if folder_hash(path) != row[f"{part}_sha256"]:
            raise _damaged(path, None, f"does not hold the files versions.csv line "
                                       f"{row['_line']} names (its {part}_sha256 differs)")
        zips.append(zip_folder(path))
    return zips[0], zips[1]


# -- restoring -------------------------------------------------------------------------

def restore(engine: Engine, root: Path) -> dict[str, int]:
    """Read and check the archive at ``root``, then write it into the empty
    database of ``engine`` in one transaction; return the rows per table."""
    archive = read_archive(root)
    migrate(engine)
    try:
        with transaction(sessions(engine)) as s:
            _refuse_nonempty(s, engine)
            made = [User(name=r["name"], password_hash=r["password_hash"],
                         created_at=r["created_at"]) for r in archive.users]
            s.add_all(made)
            s.flush()
            users = {u.name: u.id for u in made}
            for plan in archive.plans:
                _add_plan(s, plan, users)
            if engine.dialect.name == "postgresql":
                for table in ("proposals", "polls", "elections", "petitions"):  # ids given
                    s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table}"))
    except IntegrityError as exc:
        raise CounterplanError(f"the archive {root} breaks a rule of the database "
                               f"({exc.orig}); nothing was restored") from None
    return archive.counts


def _refuse_nonempty(s: Session, engine: Engine) -> None:
    users = s.scalar(select(func.count()).select_from(User)) or 0
    plans = s.scalar(select(func.count()).select_from(Plan)) or 0
    if users or plans:
        raise CounterplanError(
            f"the database {engine.url.render_as_string(hide_password=True)} is not empty: it "
            f"holds {users} user(s) and {plans} plan(s); nothing was restored. Restore into a "
            "new, empty database (a new sqlite:///FILE, or one made with `createdb`)")


def _add_plan(s: Session, data: PlanData, users: dict[str, int]) -> None:
    t = data.tables
    plan = Plan(name=data.name, **data.info)
    s.add(plan)
    s.flush()
    s.add_all(Membership(plan_id=plan.id, user_id=users[r["user"]], role=r["role"],
                         unit_id=r["unit"]) for r in t["memberships"])
    versions = {r["number"]: Version(
        plan_id=plan.id, number=r["number"], label=r["label"], objective=r["objective"],
        economy_zip=data.zips[r["number"]][0], plan_zip=data.zips[r["number"]][1],
        input_hash=r["input_hash"], created_at=r["created_at"],
        created_by=_id(users, r["created_by"])) for r in t["versions"]}
    s.add_all(versions.values())
    s.flush()
    rounds = {r["number"]: Round(plan_id=plan.id, number=r["number"],
                                 version_id=versions[r["version"]].id, state=r["state"],
                                 opened_at=r["opened_at"], closed_at=r["closed_at"])
              for r in t["rounds"]}
    s.add_all(rounds.values())
    s.flush()
    for r in t["versions"]:
        v = versions[r["number"]]
        v.parent_id = None if r["parent"] is None else versions[r["parent"]].id
        v.round_id = None if r["round"] is None else rounds[r["round"]].id
    s.add_all(Publication(plan_id=plan.id, version_id=versions[r["version"]].id, at=r["at"],
                          by=_id(users, r["by"])) for r in t["publications"])
    s.add_all(Proposal(
        id=r["id"], round_id=rounds[r["round"]].id, unit_id=r["unit"],
        author_id=_id(users, r["author"]), kind=r["kind"],
        rows=_rows_json(r["label"], data.changes[r["id"]]), note=r["note"],
        verdict=r["verdict"], share=r["share"], objective_before=r["objective_before"],
        objective_after=r["objective_after"], reason=r["reason"], state=r["state"],
        created_at=r["created_at"], submitted_at=r["submitted_at"],
        submitted_by=_id(users, r["submitted_by"])) for r in t["proposals"])
    s.flush()
    s.add_all(Outcome(version_id=versions[r["version"]].id, proposal_id=r["proposal"],
                      verdict=r["verdict"], share=r["share"], reason=r["reason"])
              for r in t["outcomes"])
    _add_polls(s, t, {n: r.id for n, r in rounds.items()}, users)
    s.add_all(Report(version_id=versions[r["version"]].id, unit_id=r["unit"],
                     technique=r["technique"], period=r["period"], activity=r["activity"],
                     note=r["note"], reported_by=_id(users, r["reported_by"]),
                     created_at=r["created_at"], date=r["date"]) for r in t["reports"])
    s.add_all(PlanException(
        plan_id=plan.id, version_id=versions[r["version"]].id, unit_id=r["unit"],
        technique=r["technique"], date=r["date"], kind=r["kind"],
        probability=r["probability"], forecast=r["forecast"], reason=r["reason"],
        state=r["state"], reports_since=r["reports_since"], raised_at=r["raised_at"],
        escalated_at=r["escalated_at"], closed_at=r["closed_at"], note=r["note"],
        acknowledged_by=_id(users, r["acknowledged_by"]),
        acknowledged_at=r["acknowledged_at"]) for r in t["exceptions"])
    s.add_all(CycleSettings(plan_id=plan.id, escalate_after=r["escalate_after"])
              for r in t["cycle"])
    s.add_all(Challenge(plan_id=plan.id, number=r["number"], challenger=r["challenger"],
                        challenged=r["challenged"], measure=r["measure"], item=r["item"],
                        first_period=r["first_period"], last_period=r["last_period"],
                        rules=r["rules"], version_id=versions[r["version"]].id,
                        state=r["state"], created_at=r["created_at"],
                        answered_at=r["answered_at"]) for r in t["challenges"])
    s.flush()
    _add_governance(s, t, plan.id, {n: v.id for n, v in versions.items()}, users)


def _id(users: dict[str, int], name: str | None) -> int | None:
    return None if name is None else users[name]


def _rows_json(label: str, changes: list[Row]) -> str:
    """A proposal's rows as the app keeps them, under the id it was proposed with."""
    return json.dumps([{c: label if c == "id" else row[c] for c in COLUMNS} for row in changes],
                      ensure_ascii=False)


def _add_polls(s: Session, t: dict[str, list[Row]], rounds: dict[int, int],
               users: dict[str, int]) -> None:
    """Polls with their ids, who voted, and each proposal's yes and no counts."""
    s.add_all(Poll(id=r["id"], round_id=rounds[r["round"]], unit_id=r["unit"],
                   state=r["state"], opened_at=r["opened_at"], closes_at=r["closes_at"],
                   closed_at=r["closed_at"])
              for r in t["polls"])
    s.flush()
    s.add_all(PollItem(poll_id=r["poll"], proposal_id=r["proposal"], yes=r["yes"], no=r["no"])
              for r in t["poll_totals"])
    s.add_all(Voter(poll_id=r["poll"], user_id=users[r["user"]]) for r in t["voters"])
    s.flush()


def _add_governance(s: Session, t: dict[str, list[Row]], plan: int, versions: dict[int, int],
                    users: dict[str, int]) -> None:
    """The self-government's rows: elections and petitions with their ids,
    the votes as totals and who voted, criticism in its order."""
    def version(number: int | None) -> int | None:
        return None if number is None else versions[number]

    s.add_all(PlanRules(plan_id=plan, **{k: v for k, v in r.items() if k != "_line"})
              for r in t["rules"])
    s.add_all(Election(
        id=r["id"], plan_id=plan, kind=r["kind"], role=r["role"], unit_id=r["unit"],
        subject_id=_id(users, r["subject"]), base_version_id=version(r["base_version"]),
        state=r["state"], electorate=r["electorate"], opened_by=_id(users, r["opened_by"]),
        opened_at=r["opened_at"], closes_at=r["closes_at"], closed_at=r["closed_at"],
        outcome=r["outcome"]) for r in t["elections"])
    s.flush()
    s.add_all(ElectionOption(election_id=r["election"], position=r["position"],
                             label=r["label"], user_id=_id(users, r["user"]),
                             version_id=version(r["version"]), yes=r["yes"], no=r["no"])
              for r in t["election_totals"])
    s.add_all(ElectionVoter(election_id=r["election"], user_id=users[r["user"]])
              for r in t["election_voters"])
    s.add_all(Term(plan_id=plan, role=r["role"], unit_id=r["unit"], user_id=_id(users, r["user"]),
                   election_id=r["election"], started_at=r["started_at"], ends_at=r["ends_at"],
                   ended_at=r["ended_at"], end=r["end"]) for r in t["terms"])
    s.add_all(Petition(id=r["id"], plan_id=plan, role=r["role"], unit_id=r["unit"],
                       subject_id=_id(users, r["subject"]), reason=r["reason"],
                       needed=r["needed"], state=r["state"], opened_at=r["opened_at"],
                       closes_at=r["closes_at"], election_id=r["election"])
              for r in t["petitions"])
    s.flush()
    s.add_all(Signature(petition_id=r["petition"], user_id=users[r["user"]])
              for r in t["signatures"])
    for r in t["criticisms"]:  # one at a time: ids in the archive's order
        s.add(Criticism(plan_id=plan, role=r["role"], unit_id=r["unit"],
                        author_id=_id(users, r["author"]), text=r["text"],
                        written_on=r["written_on"], due_at=r["due_at"], answer=r["answer"],
                        answered_at=r["answered_at"], answered_by=_id(users, r["answered_by"]),
                        hidden_ground=r["hidden_ground"], hidden_note=r["hidden_note"],
                        hidden_at=r["hidden_at"], hidden_by=_id(users, r["hidden_by"])))
        s.flush()
