"""Secret ballots at rest, on SQLite and PostgreSQL: an adversary holding the
database after the ballots (not watching it while they are cast) cannot
tell how anyone voted.

The test runs two elections that differ only in who cast which ballot
(the same members vote in the same order; the same ballots are dealt out
differently) and compares everything an adversary could read: the rows of
every table with their row ids, physical places (PostgreSQL's ctid) and
writing transactions (xmin, named by whose ballot wrote them), the
sequences, the bytes of SQLite's pages after the checkpoint, and the
write-ahead log.  Whatever differs between the two databases would link a
ballot to its voter; nothing may differ.  A third election with other
totals shows the comparison sees a difference when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from counterplan.web import db as database
from counterplan.web.app import Settings, create_app
from counterplan.web.auth import add_user
from counterplan.web.models import Membership, Plan

from webtests import PASSWORD, Web, fresh_copy

PLAN = "/api/plans/brazil"
PROPOSALS = [{"kind": "capacity", "item": "labour", "period": p, "value": "1000"}
             for p in ("2027", "2028", "2029")]
VOTERS = ["agro-member1", "agro-member2", "agro-delegate", "voter-a", "voter-b", "voter-c"]
#: Ballots on the three proposals (None: not answered); dealt to VOTERS in order.
Ballot = tuple[bool | None, ...]
BALLOTS: list[Ballot] = [(True, True, False), (False, True, None), (True, False, True),
                         (True, True, True), (False, None, False), (True, False, False)]
POLL_TABLES = ("polls", "poll_items", "voters")
TIMES = {"opened_at", "closes_at", "closed_at", "created_at", "expires_at", "at", "submitted_at",
         "last_at", "next_at"}


def _dump(c: sa.Connection, table: str, skip: set[str], locks: bool = True
          ) -> list[tuple[Any, ...]]:
    """Every row with its physical place and writer, in physical order, and
    on PostgreSQL with ``locks`` the last transaction that locked it (xmax)."""
    columns = [col["name"] for col in sa.inspect(c).get_columns(table)
               if col["name"] not in skip]
    listed = ", ".join(f'"{col}"' for col in columns)
    if c.dialect.name == "postgresql":
        xmax = "xmax::text" if locks else "''"
        query = f"SELECT ctid::text, xmin::text, {xmax}, {listed} FROM {table} ORDER BY ctid"
    else:
        query = f"SELECT rowid, {listed} FROM {table} ORDER BY rowid"
    return [tuple(row) for row in c.execute(sa.text(query))]


def _sequences(c: sa.Connection) -> list[tuple[Any, ...]]:
    if c.dialect.name == "postgresql":
        query = "SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename"
    else:
        query = "SELECT name, seq FROM sqlite_sequence ORDER BY name"
        if not sa.inspect(c).has_table("sqlite_sequence"):
            return []
    return [tuple(row) for row in c.execute(sa.text(query))]


def _others(c: sa.Connection) -> dict[str, Any]:
    """Everything outside the poll's own tables, sessions and throttling; the
    sequences but the voters' (one number per voter, in the order they voted).
    On PostgreSQL the foreign key checks of a ballot lock the voter's row in
    users (xmax): that names the ballot's transaction, as the voters row
    does, and nothing of the ballot, so xmax is left out here."""
    skip = set(POLL_TABLES) | {"auth_sessions", "login_throttle", "login_devices",
                               "alembic_version"}
    tables = sorted(set(sa.inspect(c).get_table_names()) - skip)
    return {"tables": tables,
            "sequences": [s for s in _sequences(c) if not str(s[0]).startswith("voters")],
            **{t: _dump(c, t, set(), locks=False) for t in tables}}


def _pages(c: sa.Connection, file: Path) -> dict[str, list[bytes]]:
    """The raw bytes, read from the file, of every page of the poll tables
    and their indexes but the polls table itself (it holds the vote's time)."""
    size = int(c.execute(sa.text("PRAGMA page_size")).scalar_one())
    data = file.read_bytes()
    names = [row[0] for row in c.execute(sa.text(
        "SELECT name FROM sqlite_schema WHERE tbl_name IN ('polls', 'poll_items', 'voters')"))]
    return {name: [data[(page - 1) * size:page * size] for (page,) in c.execute(sa.text(
        "SELECT pageno FROM dbstat WHERE name = :name ORDER BY pageno"), {"name": name})]
        for name in names if name != "polls"}


def _election(url: str, ballots: list[Ballot]) -> dict[str, Any]:
    """Propose, open a vote, cast ``ballots`` (one per voter, in order);
    return what an adversary reads afterwards."""
    engine = database.connect(url)
    web = Web(create_app(Settings(db_url=url), engine))
    with web.app.state.counterplan.tx() as db:
        plan = db.scalar(sa.select(Plan).where(Plan.name == "brazil"))
        assert plan is not None
        for name in VOTERS[3:]:
            user = add_user(db, name, PASSWORD)
            db.add(Membership(plan_id=plan.id, user_id=user.id, role="member", unit_id="agro"))
    made = [web.as_("agro-delegate").post(f"{PLAN}/units/agro/proposals", json=p).json()["id"]
            for p in PROPOSALS]
    poll = web.as_("agro-delegate").post(f"{PLAN}/units/agro/polls").json()["id"]
    for name in VOTERS:
        web.as_(name)  # every voter logged in before the first ballot
    with engine.connect() as c:
        before = _others(c)
    writers: dict[str, str] = {}
    for k, (name, ballot) in enumerate(zip(VOTERS, ballots, strict=True)):
        choices = {str(p): yes for p, yes in zip(made, ballot, strict=True) if yes is not None}
        response = web.as_(name).post(f"{PLAN}/polls/{poll}/ballot", json={"choices": choices})
        assert response.status_code == 201, response.text
        if engine.dialect.name == "postgresql":  # whose transaction wrote what
            with engine.connect() as c:  # (the voter's row is in a subtransaction)
                for xid in c.execute(sa.text(
                        "SELECT v.xmin::text FROM voters v JOIN users u ON u.id = v.user_id "
                        "WHERE u.name = :n UNION SELECT xmin::text FROM polls WHERE id = :p"),
                        {"n": name, "p": poll}).scalars():
                    writers[xid] = f"ballot {k}"
    seen: dict[str, Any] = {}
    with engine.connect() as c:
        assert _others(c) == before  # a ballot writes nothing outside the poll's tables
        for table in POLL_TABLES:
            rows = _dump(c, table, TIMES)
            seen[table] = [tuple(writers.get(v, v) if k in (1, 2) and writers else v
                                 for k, v in enumerate(row)) for row in rows]
        if engine.dialect.name == "sqlite":
            seen["pages"] = _pages(c, Path(str(engine.url.database)))
            wal = Path(str(engine.url.database) + "-wal")
            seen["wal bytes"] = wal.stat().st_size if wal.exists() else 0
    engine.dispose()
    return seen


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_who_voted_how_leaves_no_trace(backend: str, templates: dict[str, str],
                                       tmp_path: Path) -> None:
    if backend not in templates:
        pytest.skip("no PostgreSQL server: set COUNTERPLAN_TEST_POSTGRES")
    dealt: list[Ballot] = [BALLOTS[k] for k in (3, 0, 5, 2, 1, 4)]  # the same ballots, other voters
    other: list[Ballot] = [(True, True, True)] * len(BALLOTS)  # other totals
    with fresh_copy(templates, backend, tmp_path) as first, \
            fresh_copy(templates, backend, tmp_path) as second, \
            fresh_copy(templates, backend, tmp_path) as third:
        a, b, c = _election(first, BALLOTS), _election(second, dealt), _election(third, other)
    assert "ballots" not in a  # no table of ballots at all
    if backend == "sqlite":
        assert a["wal bytes"] == 0  # the log was checkpointed and emptied
        assert a["pages"] and a["pages"] == b["pages"]
        assert a["pages"] != c["pages"]
    for table in POLL_TABLES:
        assert a[table] == b[table], table
    assert a["poll_items"] != c["poll_items"]
