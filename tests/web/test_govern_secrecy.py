"""The self-government's secrets at rest, on SQLite and PostgreSQL, tested
as tests/web/test_secrecy.py tests the units' ballots: an adversary holding
the database afterwards cannot tell who cast which ballot of an election,
nor who wrote a criticism sent without a name.

Each test runs two worlds that differ only in who did what (the same
people act in the same order; the same ballots, or the same anonymous
criticisms, are dealt out differently) and compares everything an
adversary reads: the rows of every table with their row ids, physical
places (ctid) and writing and locking transactions (xmin, xmax: named by
the ballot or criticism that wrote them), the sequences, the bytes of
SQLite's pages after the checkpoint, and its write-ahead log.  Nothing may
differ.  A third world with other ballots or other texts shows that the
comparison sees a difference when there is one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_secrecy import _dump, _sequences

from counterplan.web import db as database
from counterplan.web.app import Settings, create_app
from counterplan.web.auth import add_user
from counterplan.web.models import Membership, Plan

from webtests import PASSWORD, Web, fresh_copy

PLAN = "/api/plans/brazil"
VOTERS = ["agro-member1", "agro-member2", "agro-delegate", "voter-a", "voter-b", "voter-c"]
#: Approval ballots on three candidates, dealt to VOTERS in order.
Ballot = tuple[bool, bool, bool]
BALLOTS: list[Ballot] = [(True, True, False), (False, True, False), (True, False, True),
                         (True, True, True), (False, False, True), (True, False, False)]
ELECTION_TABLES = ("elections", "election_options", "election_voters")
TIMES = {"opened_at", "closes_at", "closed_at"}
#: Criticisms sent without a name, in order; dealt to AUTHORS in order.
TEXTS = ["The office never answers the units.", "Our delegate missed every meeting.",
         "The targets for food are too low."]
AUTHORS = ["agro-member1", "agro-member2", "voter-a"]
#: Never compared: the logged-in sessions and login throttling (each
#: person's own, written when logging in, before anything is done).
SESSIONS = {"auth_sessions", "login_throttle", "login_devices", "alembic_version"}


def _world(url: str) -> tuple[Web, sa.Engine]:
    engine = database.connect(url)
    web = Web(create_app(Settings(db_url=url), engine))
    with web.app.state.counterplan.tx() as db:
        plan = db.scalar(sa.select(Plan).where(Plan.name == "brazil"))
        assert plan is not None
        for name in VOTERS[3:]:
            user = add_user(db, name, PASSWORD)
            db.add(Membership(plan_id=plan.id, user_id=user.id, role="member", unit_id="agro"))
    for name in sorted({*VOTERS, *AUTHORS, "food-member1"}):
        web.as_(name)  # everyone logged in before the first act
    return web, engine


def _rest(c: sa.Connection, skip: set[str]) -> dict[str, Any]:
    tables = sorted(set(sa.inspect(c).get_table_names()) - skip - SESSIONS)
    return {"sequences": [s for s in _sequences(c) if not str(s[0]).startswith(
        tuple(sorted(skip)))], **{t: _dump(c, t, set(), locks=False) for t in tables}}


def _pages(c: sa.Connection, file: Path, tables: tuple[str, ...]) -> dict[str, list[bytes]]:
    """The raw bytes of every page of ``tables`` and their indexes."""
    size = int(c.execute(sa.text("PRAGMA page_size")).scalar_one())
    data = file.read_bytes()
    listed = ", ".join(f"'{t}'" for t in tables)
    names = [row[0] for row in c.execute(sa.text(
        f"SELECT name FROM sqlite_schema WHERE tbl_name IN ({listed})"))]
    return {name: [data[(page - 1) * size:page * size] for (page,) in c.execute(sa.text(
        "SELECT pageno FROM dbstat WHERE name = :name ORDER BY pageno"), {"name": name})]
        for name in names}


def _seen(engine: sa.Engine, tables: tuple[str, ...], writers: dict[str, str],
          skip: set[str], pages: tuple[str, ...]) -> dict[str, Any]:
    """What an adversary reads of ``tables``, with transaction ids named by
    the act that wrote them; the users' rows with who locked them last."""
    seen: dict[str, Any] = {}
    with engine.connect() as c:
        for table in (*tables, "users"):
            rows = _dump(c, table, skip)
            seen[table] = [tuple(writers.get(str(v), v) if k in (1, 2) and writers else v
                                 for k, v in enumerate(row)) for row in rows]
        if engine.dialect.name == "sqlite":
            seen["pages"] = _pages(c, Path(str(engine.url.database)), pages)
            wal = Path(str(engine.url.database) + "-wal")
            seen["wal bytes"] = wal.stat().st_size if wal.exists() else 0
    return seen


def _xmins(engine: sa.Engine, query: str, **params: Any) -> set[str]:
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as c:
        return {str(x) for x in c.execute(sa.text(query), params).scalars()}


def _before(engine: sa.Engine) -> dict[str, str]:
    """The transactions that wrote or locked the users' rows (logging in)
    before anything was done."""
    return dict.fromkeys(_xmins(engine, "SELECT xmin::text FROM users UNION "
                                        "SELECT xmax::text FROM users"), "before")


def _election(url: str, ballots: list[Ballot]) -> dict[str, Any]:
    """Open an election of agro's delegate, cast ``ballots`` (one per
    voter, in order); return what an adversary reads afterwards."""
    web, engine = _world(url)
    opened = web.as_("agro-member1").post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": "agro",
        "candidates": ["agro-member1", "agro-member2", "voter-a"]})
    assert opened.status_code == 201, opened.text
    vote = opened.json()["id"]
    with engine.connect() as c:
        before = _rest(c, set(ELECTION_TABLES))
    writers = _before(engine)
    for k, (name, ballot) in enumerate(zip(VOTERS, ballots, strict=True)):
        choices = {str(p): yes for p, yes in enumerate(ballot, start=1)}
        cast = web.as_(name).post(f"{PLAN}/elections/{vote}/ballot", json={"choices": choices})
        assert cast.status_code == 201, cast.text
        for xid in _xmins(engine, "SELECT v.xmin::text FROM election_voters v JOIN users u ON "
                                  "u.id = v.user_id WHERE u.name = :n UNION SELECT xmin::text "
                                  "FROM elections WHERE id = :e", n=name, e=vote):
            writers[xid] = f"ballot {k}"
    with engine.connect() as c:
        assert _rest(c, set(ELECTION_TABLES)) == before  # a ballot writes nothing else
    seen = _seen(engine, ELECTION_TABLES, writers, TIMES | {"created_at", "password_hash"},
                 ("election_options", "election_voters"))
    engine.dispose()
    return seen


def _criticism(url: str, authors: list[str], texts: list[str]) -> dict[str, Any]:
    """Each author in turn sends a criticism without a name (and one named
    criticism from someone else in between); what an adversary reads."""
    web, engine = _world(url)
    with engine.connect() as c:
        before = _rest(c, {"criticisms"} | SESSIONS)
        sessions = _dump(c, "auth_sessions", set(), locks=False)
    writers = _before(engine)
    for k, (name, text) in enumerate(zip(authors, texts, strict=True)):
        sent = web.as_(name).post(f"{PLAN}/criticism", json={
            "to": "office", "text": text, "anonymous": True})
        assert sent.status_code == 201, sent.text
        assert sent.json()["author"] is None
        for xid in _xmins(engine, "SELECT xmin::text FROM criticisms WHERE id = :i",
                          i=sent.json()["id"]):
            writers[xid] = f"criticism {k}"
        if k == 0:
            named = web.as_("food-member1").post(f"{PLAN}/criticism", json={
                "to": "office", "text": "Signed, by me."})
            assert named.status_code == 201
            for xid in _xmins(engine, "SELECT xmin::text FROM criticisms WHERE id = :i",
                              i=named.json()["id"]):
                writers[xid] = "the named criticism"
    with engine.connect() as c:
        assert _rest(c, {"criticisms"} | SESSIONS) == before  # nothing else written
        assert _dump(c, "auth_sessions", set(), locks=False) == sessions  # sessions untouched
        authors_kept = c.execute(sa.text(
            "SELECT author_id FROM criticisms WHERE text <> 'Signed, by me.'")).scalars().all()
    assert authors_kept == [None] * len(texts)
    seen = _seen(engine, ("criticisms",), writers, {"created_at", "password_hash"},
                 ("criticisms",))
    engine.dispose()
    return seen


def _three(templates: dict[str, str], backend: str, tmp_path: Path,
           run: Callable[[str, int], dict[str, Any]]) -> list[dict[str, Any]]:
    if backend not in templates:
        pytest.skip("no PostgreSQL server: set COUNTERPLAN_TEST_POSTGRES")
    with fresh_copy(templates, backend, tmp_path) as first, \
            fresh_copy(templates, backend, tmp_path) as second, \
            fresh_copy(templates, backend, tmp_path) as third:
        return [run(first, 0), run(second, 1), run(third, 2)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_who_voted_how_in_an_election_leaves_no_trace(backend: str, templates: dict[str, str],
                                                      tmp_path: Path) -> None:
    dealt = [BALLOTS[k] for k in (3, 0, 5, 2, 1, 4)]  # the same ballots, other voters
    other: list[Ballot] = [(True, True, True)] * len(BALLOTS)  # other totals
    worlds = [BALLOTS, dealt, other]
    a, b, c = _three(templates, backend, tmp_path,
                     lambda url, k: _election(url, worlds[k]))
    if backend == "sqlite":
        assert a["wal bytes"] == 0  # the log was checkpointed and emptied
        assert a["pages"] and a["pages"] == b["pages"]
        assert a["pages"] != c["pages"]
    for table in (*ELECTION_TABLES, "users"):
        assert a[table] == b[table], table
    assert a["election_options"] != c["election_options"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_who_wrote_an_anonymous_criticism_leaves_no_trace(
        backend: str, templates: dict[str, str], tmp_path: Path) -> None:
    worlds = [(AUTHORS, TEXTS), (AUTHORS[::-1], TEXTS),
              (AUTHORS, [t.replace("The", "A") for t in TEXTS])]
    a, b, c = _three(templates, backend, tmp_path,
                     lambda url, k: _criticism(url, *worlds[k]))
    if backend == "sqlite":
        assert a["wal bytes"] == 0
        assert a["pages"] and a["pages"] == b["pages"]
        assert a["pages"] != c["pages"]
    assert a["criticisms"] == b["criticisms"]  # ids, order, days, places, writers
    assert a["users"] == b["users"]  # no author's row locked by a criticism
    assert a["criticisms"] != c["criticisms"]
