"""Export and restore: the app's whole state written as a folder of plain
files and read back into a new database, on SQLite and PostgreSQL.

A real history is made through the JSON API (proposals, a closed vote and an
open one, submissions, a reconciliation, a publication, reports, a second
plan); exporting it, restoring it and exporting again must give the same
files byte for byte, and the restored app must work as the old one did."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from counterplan import examples
from counterplan.counter.proposals import COLUMNS
from counterplan.errors import CounterplanError, InvalidInput
from counterplan.web import archive, store
from counterplan.web import db as database
from counterplan.web.app import Settings, create_app
from counterplan.web.archive import exporter, formats, restorer
from test_cli import run

from webtests import (
    PASSWORD,
    User,
    Web,
    new_database,
    postgres_server,
    snapshot,
)

PLAN = "/api/plans/brazil"
AGRO = f"{PLAN}/units/agro"
FOOD = f"{PLAN}/units/food"
NORM = {"kind": "norm", "technique": "agriculture", "item": "labour", "value": "-12"}
CAPACITY = {"kind": "capacity", "item": "labour", "period": "2027", "value": "1000000"}
UPLOAD = b"id,kind,item,period,value,note\nmore-labour,capacity,labour,2028,2000000,\"a, b\"\n"


@contextmanager
def new_empty(db_url: str, folder: Path) -> Iterator[str]:
    """A new, empty database on the backend of ``db_url``."""
    name = f"counterplan_restored_{uuid.uuid4().hex[:12]}"
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{folder / name}.db"
        return
    server = postgres_server()
    assert server is not None
    with new_database(server, name) as url:
        yield url


@pytest.fixture
def empty_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    with new_empty(db_url, tmp_path) as url:
        yield url


@pytest.fixture
def engines() -> Iterator[Callable[[str], sa.Engine]]:
    """Engines on given URLs, disposed of at the end."""
    made: list[sa.Engine] = []

    def connect(url: str) -> sa.Engine:
        made.append(database.connect(url))
        return made[-1]

    yield connect
    for engine in made:
        engine.dispose()


def engine_of(web: Web) -> sa.Engine:
    return web.app.state.counterplan.engine


def as_format_2(root: Path) -> None:
    """Turn the archive at ``root`` into one as counterplan wrote format 2:
    none of the files or columns format 3 added, 13 tables counted."""
    for plan in (root / "plans").iterdir():
        for name in formats.ADDED_FILES:
            (plan / f"{name}.csv").unlink()
        for name, added in formats.ADDED_COLUMNS.items():
            with (plan / f"{name}.csv").open(newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            keep = [k for k, column in enumerate(rows[0]) if column not in added]
            with (plan / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
                csv.writer(f, lineterminator="\n").writerows([r[k] for k in keep] for r in rows)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["format_version"] = 2
    manifest["counts"] = {t: manifest["counts"][t] for t in formats.TABLES_BEFORE_3}
    (root / "manifest.json").write_text(json.dumps(manifest))


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def make_history(web: Web) -> dict[str, Any]:
    """Round 1: two agro proposals voted on (one passes), an uploaded one
    submitted, reconciled into version 2 and published.  Round 2: a food
    proposal with an open vote that food-member1 has voted in.  A report,
    and a second plan with only a draft."""
    delegate, office = web.as_("agro-delegate"), web.as_("office")
    first = ok(web.as_("agro-member1").post(f"{AGRO}/proposals", json=NORM), 201)
    second = ok(web.as_("agro-member2").post(f"{AGRO}/proposals", json=CAPACITY), 201)
    poll = ok(delegate.post(f"{AGRO}/polls"), 201)
    for name, yes in (("agro-member1", False), ("agro-member2", True), ("agro-delegate", True)):
        ok(web.as_(name).post(f"{PLAN}/polls/{poll['id']}/ballot", json={
            "choices": {first["id"]: not yes, second["id"]: yes}}), 201)
    closed = ok(delegate.post(f"{PLAN}/polls/{poll['id']}/close"))
    (uploaded,) = ok(web.as_("agro-member1").post(f"{AGRO}/proposals/upload", files={
        "file": ("mine.csv", UPLOAD, "text/csv")}), 201)
    ok(delegate.post(f"{PLAN}/proposals/{uploaded['id']}/submit"))
    ok(office.post(f"{PLAN}/rounds/1/reconcile"))
    ok(office.post(f"{PLAN}/versions/2/publish"))
    ok(office.post(f"{PLAN}/rounds"), 201)
    ok(web.as_("food-member1").post(f"{FOOD}/proposals", json=CAPACITY), 201)
    open_poll = ok(web.as_("food-delegate").post(f"{FOOD}/polls"), 201)
    food = {p["id"]: True for p in open_poll["items"]}
    ok(web.as_("food-member1").post(f"{PLAN}/polls/{open_poll['id']}/ballot",
                                    json={"choices": food}), 201)
    ok(delegate.post(f"{AGRO}/reports", json={"technique": "livestock", "period": "2026",
                                              "activity": 1.5, "note": "a\nb"}), 201)
    ok(office.post("/api/plans/example", json={"name": "kantorovich",
                                               "example": "kantorovich-1939"}), 201)
    return {"closed": closed, "open_poll": open_poll["id"], "food": food,
            "uploaded": uploaded["id"]}


def views(web: Web) -> dict[tuple[str, str], Any]:
    """What the app shows of the history, to each kind of user."""
    office, delegate = web.as_("office"), web.as_("agro-delegate")
    paths = {"office": [PLAN, "/api/plans/kantorovich", f"{PLAN}/rounds/1/outcomes",
                        f"{PLAN}/rounds/1/submitted", f"{PLAN}/versions/2",
                        f"{PLAN}/compare/1/2", "/api/plans"],
             "agro-delegate": [f"{AGRO}/proposals", f"{AGRO}/polls", f"{PLAN}/fulfilment",
                               AGRO],
             "food-member1": [f"{FOOD}/proposals", f"{FOOD}/polls"]}
    users = {"office": office, "agro-delegate": delegate, "food-member1": web.as_("food-member1")}
    return {(name, path): filled(ok(users[name].get(path))) for name, list_ in paths.items()
            for path in list_}


def filled(shown: Any) -> Any:
    """``shown`` with each proposal's rows in every column of counterplan.csv:
    the archive keeps a column a proposal was made without as empty, which
    the app reads alike."""
    if isinstance(shown, list):
        return [filled(x) for x in shown]
    if not isinstance(shown, dict):
        return shown
    out = {k: filled(v) for k, v in shown.items()}
    if isinstance(shown.get("rows"), list):
        out["rows"] = [{c: row.get(c, "") for c in COLUMNS} for row in shown["rows"]]
    return out


def count_answers(web: Web) -> int:
    """The yes and no answers counted in every vote."""
    with engine_of(web).connect() as c:
        return sum(int(yes) + int(no) for yes, no in c.execute(
            sa.text("SELECT yes, no FROM poll_items")))


def web_on(url: str, engines: Callable[[str], sa.Engine]) -> Web:
    return Web(create_app(Settings(db_url=url), engines(url)))


# -- the round trip --------------------------------------------------------------------

def test_export_restore_export_gives_the_same_files(web: Web, empty_url: str, tmp_path: Path,
                                                     engines: Callable[[str], sa.Engine]
                                                     ) -> None:
    make_history(web)
    counts = archive.export(engine_of(web), tmp_path / "a")
    kept = {table: n for table, n in counts.items() if table != "ballots"}
    assert kept == snapshot(web)  # every row of every table; ballots are only counted
    assert counts["ballots"] == count_answers(web)
    assert archive.restore(engines(empty_url), tmp_path / "a") == counts
    archive.export(engines(empty_url), tmp_path / "b")
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert first == second
    for path in ("manifest.json", "users.csv", "plans/brazil/versions/2/economy/economy.toml",
                 "plans/brazil/versions/2/plan/summary.json", "plans/brazil/rounds/1/"
                 "counterplan.csv", "plans/brazil/rounds/2/counterplan.csv",
                 "plans/kantorovich/versions/1/economy/economy.toml"):
        assert path in first, path
    assert not any("ballot" in path for path in first)


def test_two_exports_of_one_state_are_identical(web: Web, tmp_path: Path) -> None:
    archive.export(engine_of(web), tmp_path / "a")
    archive.export(engine_of(web), tmp_path / "b")
    (tmp_path / "b" / "plans" / "brazil" / "users.csv").write_text("stale")
    archive.export(engine_of(web), tmp_path / "b")  # replaces an earlier archive
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_the_restored_app_works_as_before(web: Web, empty_url: str, tmp_path: Path,
                                          engines: Callable[[str], sa.Engine]) -> None:
    history = make_history(web)
    before = views(web)
    archive.export(engine_of(web), tmp_path / "a")
    archive.restore(engines(empty_url), tmp_path / "a")
    new = web_on(empty_url, engines)
    User.log_in(new.app, "agro-member1", PASSWORD)  # the old password logs in
    assert views(new) == before
    ballot = f"{PLAN}/polls/{history['open_poll']}/ballot"
    again = new.as_("food-member1").post(ballot, json={"choices": history["food"]})
    assert again.status_code == 409  # voted before the export: one member, one vote
    ok(new.as_("food-member2").post(ballot, json={"choices": history["food"]}), 201)
    closed = ok(new.as_("food-delegate").post(f"{PLAN}/polls/{history['open_poll']}/close"))
    assert [i["tally"] for i in closed["items"]] == [{"yes": 2, "no": 0}]
    made = ok(new.as_("agro-member1").post(f"{AGRO}/proposals", json=NORM), 201)
    assert made["id"] > history["uploaded"]  # a new id, after the restored ones
    poll = ok(new.as_("agro-delegate").post(f"{AGRO}/polls"), 201)
    assert poll["id"] > history["open_poll"]


def test_the_uploaded_counterplan_keeps_its_id_and_text(web: Web, empty_url: str,
                                                        tmp_path: Path,
                                                        engines: Callable[[str], sa.Engine]
                                                        ) -> None:
    history = make_history(web)
    archive.export(engine_of(web), tmp_path / "a")
    rows = (tmp_path / "a/plans/brazil/rounds/1/counterplan.csv").read_text().splitlines()
    assert f"p{history['uploaded']},agro,capacity,,labour,2028,2000000,\"a, b\"" in rows
    archive.restore(engines(empty_url), tmp_path / "a")
    shown = ok(web_on(empty_url, engines).as_("agro-member1").get(f"{AGRO}/proposals"))
    (got,) = [p for p in shown if p["id"] == history["uploaded"]]
    assert got["rows"] == [{"id": "more-labour", "unit_id": "agro", "kind": "capacity",
                            "technique": "", "item": "labour", "period": "2028",
                            "value": "2000000", "note": "a, b"}]


def test_votes_are_kept_as_totals(web: Web, empty_url: str, tmp_path: Path,
                                  engines: Callable[[str], sa.Engine]) -> None:
    history = make_history(web)
    query = sa.text("SELECT poll_id, proposal_id, yes, no FROM poll_items ORDER BY proposal_id")
    with engine_of(web).connect() as c:
        old = c.execute(query).all()
    archive.export(engine_of(web), tmp_path / "a")
    totals = (tmp_path / "a/plans/brazil/poll_totals.csv").read_text().splitlines()
    poll = history["closed"]["id"]
    assert totals[:3] == ["poll,proposal,yes,no"] + [
        f"{poll},{i['id']},{i['tally']['yes']},{i['tally']['no']}"
        for i in history["closed"]["items"]]
    archive.restore(engines(empty_url), tmp_path / "a")
    with engines(empty_url).connect() as c:
        new = c.execute(query).all()
    assert [tuple(row) for row in new] == [tuple(row) for row in old]


# -- refusals --------------------------------------------------------------------------

def test_restore_refuses_a_database_that_is_not_empty(web: Web, tmp_path: Path) -> None:
    archive.export(engine_of(web), tmp_path / "a")
    web.as_("agro-member1").post(f"{AGRO}/proposals", json=CAPACITY)
    before = snapshot(web)
    with pytest.raises(CounterplanError, match="is not empty: it holds 37 user"):
        archive.restore(engine_of(web), tmp_path / "a")
    assert snapshot(web) == before


def _edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        file = root / path
        text = file.read_text(encoding="utf-8")
        assert old in text
        file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return damage


def _remove(path: str) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        import shutil

        target = root / path
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    return damage


def _link(path: str) -> Callable[[Path], None]:
    """Move a file or folder out of the archive and leave a symbolic link to
    it: the files are the same, so only the link tells."""
    def damage(root: Path) -> None:
        outside = root.parent / f"outside-{uuid.uuid4().hex}"
        shutil.move(root / path, outside)
        (root / path).symlink_to(outside)
    return damage


def _pipe(root: Path) -> None:
    os.mkfifo(root / "plans" / "brazil" / "notes")


DAMAGES = {
    "missing file": (_remove("plans/brazil/rounds.csv"),
                     "plans/brazil/rounds.csv: error: is missing"),
    "bad column": (_edit("plans/brazil/versions.csv", ",objective,", ",objectif,"),
                   "plans/brazil/versions.csv:1: error: the header is"),
    "bad value": (_edit("plans/brazil/versions.csv", ",first draft,,,", ",first draft,,,x"),
                  "plans/brazil/versions.csv:2: error: column objective is not a number"),
    "short row": (_edit("users.csv", "\noffice,", "\noffice\n"),
                  "users.csv:"),
    "unknown user": (_edit("plans/brazil/memberships.csv", "\nagro-delegate,", "\nnobody,"),
                     "memberships.csv:2: error: column user names no user"),
    "format version": (_edit("manifest.json", '"format_version": 3', '"format_version": 4'),
                       "is format version 4"),
    "edited version": (_edit("plans/brazil/versions/1/economy/economy.toml", "name", "nome"),
                       "plans/brazil/versions/1/economy: error: does not hold the files"),
    "missing plan": (_remove("plans/brazil"), "manifest.json: error: counts 1 plans but the "
                                              "archive holds 0"),
    "not an archive": (_remove("manifest.json"), "manifest.json: error: is missing"),
    "linked file": (_link("plans/brazil/versions/1/economy/items.csv"),
                    "plans/brazil/versions/1/economy/items.csv: error: is a symbolic link"),
    "linked folder": (_link("plans/brazil/versions/1/plan"),
                      "plans/brazil/versions/1/plan: error: is a symbolic link"),
    "linked manifest": (_link("manifest.json"), "manifest.json: error: is a symbolic link"),
    "pipe": (_pipe, "plans/brazil/notes: error: is neither a folder nor a file"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_restore_refuses_a_damaged_archive(web: Web, empty_url: str, tmp_path: Path,
                                           damage: str, engines: Callable[[str], sa.Engine]
                                           ) -> None:
    archive.export(engine_of(web), tmp_path / "a")
    edit, message = DAMAGES[damage]
    edit(tmp_path / "a")
    engine = engines(empty_url)
    with pytest.raises(CounterplanError) as refused:
        archive.restore(engine, tmp_path / "a")
    assert message in str(refused.value)
    assert str(tmp_path / "a") in str(refused.value)  # names the file
    assert "export it again" in str(refused.value) or "restore it with" in str(
        refused.value) or "give the folder" in str(refused.value)  # and the fix
    assert database.is_empty(engine)  # read before anything is written


def test_a_failed_write_leaves_the_database_empty(web: Web, empty_url: str, tmp_path: Path,
                                                  engines: Callable[[str], sa.Engine],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    make_history(web)
    archive.export(engine_of(web), tmp_path / "a")

    def fail(*_: Any) -> None:
        raise CounterplanError("the disk is full")

    monkeypatch.setattr(restorer, "_add_polls", fail)  # after users, plans, proposals
    engine = engines(empty_url)
    with pytest.raises(CounterplanError, match="the disk is full"):
        archive.restore(engine, tmp_path / "a")
    with engine.connect() as c:
        assert [c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("users", "plans", "versions", "proposals")] == [0, 0, 0, 0]


def test_export_refuses_a_folder_that_is_not_an_archive(web: Web, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "plans").mkdir(parents=True)
    (home / "plans" / "mine.txt").write_text("keep me")
    with pytest.raises(CounterplanError, match="not an archive to replace"):
        archive.export(engine_of(web), home)
    assert tree(home) == {"plans/mine.txt": b"keep me"}


def test_export_reads_one_state_while_the_app_writes(web: Web) -> None:
    with exporter._snapshot(engine_of(web)) as s:
        before = s.execute(sa.text("SELECT count(*) FROM reports")).scalar_one()
        ok(web.as_("agro-delegate").post(f"{AGRO}/reports", json={
            "technique": "livestock", "period": "2026", "activity": 1.0}), 201)
        assert s.execute(sa.text("SELECT count(*) FROM reports")).scalar_one() == before
    assert snapshot(web)["reports"] == before + 1


# -- what the app accepts comes back; formulas are guarded ------------------------------

REPORT = {"technique": "livestock", "period": "2026", "activity": 1.5}


def texts(engine: sa.Engine) -> dict[str, list[Any]]:
    """Every text the app keeps of proposals, outcomes and reports (their rows
    in every column of counterplan.csv, as in :func:`filled`)."""
    with engine.connect() as c:
        proposals = [(i, note, filled({"rows": json.loads(rows)})["rows"], reason, kind)
                     for i, note, rows, reason, kind in c.execute(sa.text(
                         "SELECT id, note, rows, reason, kind FROM proposals ORDER BY id"))]
        reports = sorted(tuple(r) for r in c.execute(sa.text(
            "SELECT unit_id, technique, period, activity, note FROM reports")))
        outcomes = sorted(tuple(r) for r in c.execute(sa.text(
            "SELECT proposal_id, verdict, reason FROM outcomes")))
    return {"proposals": proposals, "reports": reports, "outcomes": outcomes}


def round_trip(engine: sa.Engine, url: str, folder: Path) -> sa.Engine:
    """Export the database of ``engine`` to ``folder``, restore it into the
    empty database at ``url``, export that again: the same files."""
    archive.export(engine, folder / "a")
    restored = database.connect(url)
    archive.restore(restored, folder / "a")
    archive.export(restored, folder / "b")
    assert tree(folder / "a") == tree(folder / "b")
    return restored


def test_a_note_past_the_csv_field_limit_restores(web: Web, empty_url: str, tmp_path: Path
                                                  ) -> None:
    """csv reads at most 131,072 characters a field unless told otherwise: a
    long note (kept before the limits held) made a backup restore refused."""
    ok(web.as_("agro-delegate").post(f"{AGRO}/reports", json=REPORT), 201)
    long = 'é, "quoted"\n' * 20_000
    with engine_of(web).begin() as c:
        c.execute(sa.text("UPDATE reports SET note = :note"), {"note": long})
    restored = round_trip(engine_of(web), empty_url, tmp_path)
    assert texts(restored) == texts(engine_of(web))
    assert long in [r[-1] for r in texts(restored)["reports"]]
    restored.dispose()


def upload(user: User, *rows: dict[str, str], name: str = "mine.csv") -> Any:
    """Upload ``rows`` as a counterplan.csv written by csv (quoted as it must)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, ["id", "kind", "technique", "item", "period", "value", "note"])
    writer.writeheader()
    writer.writerows(rows)
    return user.post(f"{AGRO}/proposals/upload",
                     files={"file": (name, out.getvalue().encode(), "text/csv")})


def row(note: str, **kw: str) -> dict[str, str]:
    return {"id": "mine", "kind": "capacity", "item": "labour", "period": "2027",
            "value": "1000", "note": note, **kw}


REFUSED_TEXT = {
    "a note past the form's 2,000 characters": (
        [row("n" * 2001)], "mine.csv:2: column note has 2,001 characters; at most 2,000"),
    "notes of one counter-plan past 2,000 together": (
        [row("a" * 1500), row("b" * 1500, period="2028")],
        "the note of counter-plan 'mine' (its rows' notes joined) has 3,001 characters"),
    "a long id": ([row("", id="x" * 201)], "mine.csv:2: column id has 201 characters"),
    "a new technique's id as a formula": (
        [row("", kind="technique", technique="=HYPERLINK(\"x\")", item="agriculture",
             period="", value="1"),
         row("", kind="technique", technique="=HYPERLINK(\"x\")", item="labour", period="",
             value="-0.5")],
        "begins as a spreadsheet formula does"),
}


@pytest.mark.parametrize("case", REFUSED_TEXT)
def test_an_upload_is_held_to_the_forms_limits(web: Web, case: str) -> None:
    rows, message = REFUSED_TEXT[case]
    before = snapshot(web)
    response = upload(web.as_("agro-member1"), *rows)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]
    assert snapshot(web) == before


def test_a_new_technique_in_the_limits_is_accepted(web: Web) -> None:
    """The refusal above is of the id, not of the new technique."""
    made = upload(web.as_("agro-member1"), *(
        row("", kind="technique", technique="better-farming", item=item, period="",
            value=value) for item, value in (("agriculture", "1"), ("labour", "-0.5"))))
    assert made.status_code == 201, made.text


@pytest.mark.parametrize("form", ["proposals", "reports", "login"])
def test_a_nul_in_a_multipart_form_is_refused(web: Web, form: str) -> None:
    """A page's form may come as multipart/form-data: a NUL in it is refused
    at the door as in any other form (PostgreSQL would fail on it)."""
    if form == "login":
        client = web.anonymous()
        found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert found is not None
        path, fields = "/login", {"csrf": found[1], "name": "agro\x00member1",
                                  "password": PASSWORD}
    else:
        user = web.as_("agro-delegate")
        client, path = user.client, f"/plans/brazil/units/agro/{form}"
        fields = {"csrf": user.csrf, **({**CAPACITY, "note": "a\x00b"} if form == "proposals"
                                        else {**REPORT, "activity": "1.5", "note": "a\x00b"})}
    before = snapshot(web)
    response = client.post(path, data=fields, follow_redirects=False,
                           files={"attachment": ("empty.txt", b"", "text/plain")})
    assert response.status_code == 422, response.text
    assert "contains a NUL character" in response.text
    assert snapshot(web) == before


FORMULAS = ["=HYPERLINK(\"http://example.org\",\"click\")", "+1+1", "-2", "@SUM(A1:A2)",
            "\tTAB", "'quoted", "''twice", "a = b", "-"]


def guarded(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r", "'") else text


def test_formulas_are_guarded_in_the_archive_and_come_back_as_typed(
        web: Web, empty_url: str, tmp_path: Path) -> None:
    member, delegate = web.as_("agro-member1"), web.as_("agro-delegate")
    for note in FORMULAS:
        ok(member.post(f"{AGRO}/proposals", json={**CAPACITY, "note": note}), 201)
        ok(delegate.post(f"{AGRO}/reports", json={**REPORT, "note": note}), 201)
    ok(upload(member, row("=1+1", id="@label")), 201)
    ok(member.post(f"{AGRO}/proposals", json=NORM), 201)
    restored = round_trip(engine_of(web), empty_url, tmp_path)
    assert texts(restored) == texts(engine_of(web))
    restored.dispose()
    plan = tmp_path / "a" / "plans" / "brazil"
    files = {"users.csv": (tmp_path / "a" / "users.csv", formats.USERS),
             "counterplan.csv": (plan / "rounds" / "1" / "counterplan.csv",
                                 formats.COUNTERPLAN),
             **{f"{n}.csv": (plan / f"{n}.csv", spec) for n, spec in formats.PLAN_FILES.items()}}
    cells = {}
    for name, (path, spec) in files.items():
        with path.open(newline="", encoding="utf-8") as f:
            for line in list(csv.reader(f))[1:]:
                for (column, kind), cell in zip(spec, line, strict=True):
                    cells.setdefault((name, kind.rstrip("?")), []).append(cell)
                    if kind.rstrip("?") in ("text", "name", "user"):
                        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), \
                            (name, column, cell)
    for note in FORMULAS:  # each with one apostrophe in front where it needs one
        assert guarded(note) in cells["reports.csv", "text"]
        assert guarded(note.strip()) in cells["proposals.csv", "text"]  # as the library keeps it
    assert "'@label" in cells["proposals.csv", "text"]
    assert "-12" in cells["counterplan.csv", "plain"]  # numbers as the library reads them


def test_an_archive_of_format_1_restores_its_text_as_written(
        web: Web, empty_url: str, tmp_path: Path, engines: Callable[[str], sa.Engine],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Format 1 wrote text unguarded: its apostrophes are the note's own."""
    for note in ("'quoted", "=1+1", "''"):
        ok(web.as_("agro-delegate").post(f"{AGRO}/reports", json={**REPORT, "note": note}), 201)
    monkeypatch.setattr(exporter, "FORMAT_VERSION", 1)
    monkeypatch.setattr(formats, "GUARDED", ())  # as counterplan wrote it then
    archive.export(engine_of(web), tmp_path / "a")
    monkeypatch.undo()
    assert '"format_version": 1' in (tmp_path / "a" / "manifest.json").read_text()
    assert "\n'quoted\n" not in (tmp_path / "a/plans/brazil/reports.csv").read_text()
    archive.restore(engines(empty_url), tmp_path / "a")
    assert texts(engines(empty_url)) == texts(engine_of(web))


def zipped(members: dict[str, tuple[int, bytes]]) -> bytes:
    """A zip of members named with (unix mode, content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, (mode, content) in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            z.writestr(info, content)
    return buffer.getvalue()


@pytest.mark.parametrize("mode", [stat.S_IFLNK | 0o777, stat.S_IFIFO | 0o644],
                         ids=["link", "pipe"])
def test_a_zipped_plan_folder_holds_only_files_and_folders(tmp_path: Path, mode: int) -> None:
    data = zipped({"economy.toml": (stat.S_IFREG | 0o644, b'name = "x"\n'),
                   "items.csv": (mode, b"/etc/passwd")})
    with pytest.raises(InvalidInput) as refused:
        store.unzip_to(data, tmp_path, "plan.zip")
    what = "a symbolic link" if stat.S_ISLNK(mode) else "neither a file nor a folder"
    assert f"plan.zip: error: holds {what}" in str(refused.value)
    assert "'items.csv'" in str(refused.value)
    assert list(tmp_path.iterdir()) == []  # nothing unpacked


def test_an_uploaded_plan_folder_with_a_link_is_refused(web: Web) -> None:
    data = zipped({"economy.toml": (stat.S_IFREG | 0o644, b'name = "x"\n'),
                   "items.csv": (stat.S_IFLNK | 0o777, b"/etc/passwd")})
    response = web.as_("office").post("/api/plans/upload", data={"name": "linked"},
                                      files={"file": ("plan.zip", data, "application/zip")})
    assert response.status_code == 422, response.text
    assert "symbolic link" in response.text


def test_a_plan_title_with_a_nul_is_refused(web: Web, tmp_path: Path) -> None:
    """The upload's form fields come as multipart, which the door does not read."""
    data = store.zip_folder(examples.copy_example("kantorovich-1939", tmp_path / "plan"))
    before = snapshot(web)
    response = web.as_("office").post("/api/plans/upload", data={"name": "nul", "title": "a\x00b"},
                                      files={"file": ("plan.zip", data, "application/zip")})
    assert response.status_code == 422, response.text
    assert "the title contains a NUL character" in response.json()["error"]
    assert snapshot(web) == before


# Any text a person may give, from every path: long, with quotes, new lines,
# formulas, NUL and other control characters, any script.
PIECES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["=", "+", "-", "@", "'", '"', "\n", "\r\n", "\r", ",", "\t", "\x00",
                     "%00", "Ж", "中文", "😀", "سلام", " "]),
    st.integers(1, 2100).map(lambda n: "ь" * n))
SENT = st.tuples(st.sampled_from(["json", "csv", "report"]),
                 st.lists(PIECES, max_size=6).map("".join))
EXAMPLES = int(os.environ.get("COUNTERPLAN_ARCHIVE_EXAMPLES", "12"))


def send(web: Web, path: str, note: str) -> Any:
    if path == "csv":
        return upload(web.as_("agro-member1"), row(note))
    if path == "json":
        return web.as_("agro-member1").post(f"{AGRO}/proposals", json={**CAPACITY, "note": note})
    return web.as_("agro-delegate").post(f"{AGRO}/reports", json={**REPORT, "note": note})


def test_export_restore_gives_back_whatever_the_app_accepts(web: Web, db_url: str,
                                                            tmp_path: Path) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(SENT)
    @example(("csv", "a lone \r in a note"))  # once made a row of two lines
    @example(("report", "\r"))
    @example(("csv", "=1+1 \"quoted\", Ж\n" + "ь" * 1990))
    @example(("csv", "ь" * 2001))
    @example(("json", "a\x00b"))
    @example(("json", "100%00 of it"))  # text, not a NUL
    def check(sent: tuple[str, str]) -> None:
        path, note = sent
        response = send(web, path, note)
        if "\x00" in note or len(note) > 2000:
            assert response.status_code == 422, (path, response.text)
        else:
            assert response.status_code == 201, (path, response.text)
        folder = tmp_path / uuid.uuid4().hex
        with new_empty(db_url, tmp_path) as url:
            restored = round_trip(engine_of(web), url, folder)
            assert texts(restored) == texts(engine_of(web))
            restored.dispose()
        shutil.rmtree(folder)

    check()


# -- the commands ----------------------------------------------------------------------

def counterplan(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(*args)  # the entry point, in this process (tests/test_cli.py)


def test_the_commands(web: Web, db_url: str, empty_url: str, tmp_path: Path) -> None:
    out = counterplan("export", "--db", db_url, tmp_path / "a")
    assert out.returncode == 0, out.stderr
    assert f"wrote {tmp_path / 'a'}: 37 users, 1 plans, 49 memberships, 1 versions" \
        in out.stdout
    done = counterplan("restore", "--db", empty_url, tmp_path / "a")
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout and "37 users" in done.stdout
    again = counterplan("restore", "--db", empty_url, tmp_path / "a")
    assert again.returncode == 1
    assert again.stderr.startswith("error: the database") and "is not empty" in again.stderr
    assert "Traceback" not in again.stderr
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    manifest["format_version"] = 9
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(manifest))
    damaged = counterplan("restore", "--db", f"sqlite:///{tmp_path / 'new.db'}", tmp_path / "a")
    assert damaged.returncode == 1 and "Traceback" not in damaged.stderr
    assert "manifest.json: error: is format version 9" in damaged.stderr
    assert not (tmp_path / "new.db").exists()  # nothing made


def test_export_of_a_missing_database_makes_nothing(tmp_path: Path) -> None:
    out = counterplan("export", "--db", f"sqlite:///{tmp_path / 'nothing.db'}",
                      tmp_path / "a")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "there is no database file" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- the documentation -----------------------------------------------------------------

DOC = Path(__file__).parents[2] / "docs" / "web-archive.md"


def test_the_documented_example_runs(tmp_path: Path) -> None:
    (block,) = re.findall(r"```console\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif line.strip():
            steps[-1][1].append(line)
    assert len(steps) == 6
    for command, expected in steps:
        argv = command.split()
        if argv[0] == "counterplan":
            out = run(*argv[1:], cwd=tmp_path)
        else:
            out = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, f"{command}: {out.stdout} {out.stderr}"
        assert all(line in out.stdout for line in expected), (command, out.stdout)
        assert expected or out.stdout == "", (command, out.stdout)


def test_the_documented_layout_is_the_archive() -> None:
    text = DOC.read_text(encoding="utf-8")
    layout = text.split("## Layout", 1)[1].split("```")[1]
    listed = {m[1]: m[2] for m in re.finditer(r"^\s+(?:\S+/)?([\w]+\.csv)\s+(.*)$", layout,
                                              re.M)}
    files = {"users.csv": formats.USERS, "counterplan.csv": formats.COUNTERPLAN,
             **{f"{name}.csv": spec for name, spec in formats.PLAN_FILES.items()}}
    assert set(listed) == set(files)
    for name, spec in files.items():
        columns = [c for c, _ in spec]
        if listed[name].startswith("one row"):  # their columns are in a table below
            assert all(f"`{c}`" in text.split(f"| `{name}` |", 1)[1] for c in columns), name
        else:
            assert listed[name] == ", ".join(columns), name
