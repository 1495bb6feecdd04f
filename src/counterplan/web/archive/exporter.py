"""Export: the whole state of the database as an archive folder."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from counterplan import __version__
from counterplan.counter.proposals import COLUMNS
from counterplan.errors import CounterplanError
from counterplan.io.folder import staged_folder
from counterplan.web.archive.formats import (
    COUNTERPLAN,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    PLAN_FILES,
    TABLES,
    USERS,
    _unpack,
    _write_csv,
    _write_json,
)
from counterplan.web.db import is_empty, migrate
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

# -- export ----------------------------------------------------------------------------

def export(engine: Engine, out: Path) -> dict[str, int]:
    """Write the database's whole state to the folder ``out`` (new, empty, or
    an earlier archive, which it replaces); return the rows written per table."""
    _check_exportable(engine)
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise CounterplanError(f"{out} is a folder with files but no {MANIFEST}: not an "
                               "archive to replace; give a new or empty folder")
    with _snapshot(engine) as s, staged_folder(out) as tmp:
        users = {u.id: u for u in s.scalars(select(User))}
        names = {uid: u.name for uid, u in users.items()}
        counts: Counter[str] = Counter()
        counts["users"] = _write_csv(tmp / "users.csv", USERS, sorted(
            (u.name, u.password_hash, u.created_at) for u in users.values()))
        (tmp / "plans").mkdir()
        for plan in sorted(s.scalars(select(Plan)), key=lambda p: p.name):
            counts.update(_export_plan(s, plan, names, tmp / "plans" / plan.name))
        counts = Counter({t: counts[t] for t in TABLES})
        _check_complete(s, counts)
        _write_json(tmp / MANIFEST, {"format": FORMAT, "format_version": FORMAT_VERSION,
                                     "counterplan": __version__, "counts": dict(counts)})
    return dict(counts)


def _check_exportable(engine: Engine) -> None:
    shown, file = engine.url.render_as_string(hide_password=True), engine.url.database
    if engine.dialect.name == "sqlite" and file not in (None, "", ":memory:") \
            and not Path(str(file)).is_file():
        raise CounterplanError(f"there is no database file {file}; give the --db the app runs on")
    try:
        empty = is_empty(engine)
    except OperationalError as exc:
        raise CounterplanError(f"cannot open the database {shown}: {exc.orig}. Check that the "
                               "server runs and the URL is right") from None
    if empty:
        raise CounterplanError(f"the database {shown} has no counterplan tables: nothing to "
                               "export; give the --db the app runs on")
    migrate(engine)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Session]:
    """A session that reads one consistent state even while the app writes:
    a REPEATABLE READ transaction on PostgreSQL, a read transaction on SQLite."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.begin()
        else:  # pysqlite begins no transaction for reads by itself
            connection.exec_driver_sql("BEGIN")
        with Session(bind=connection) as s:
            yield s  # and the connection's end rolls the reading back


def _export_plan(s: Session, plan: Plan, users: dict[int, str], folder: Path
                 ) -> Counter[str]:
    def put(name: str, rows: Iterable[Sequence[Any]]) -> int:
        return _write_csv(folder / f"{name}.csv", PLAN_FILES[name], rows)

    folder.mkdir(parents=True)
    _write_json(folder / "plan.json", {"title": plan.title, "description": plan.description,
                                       "created_at": plan.created_at.isoformat()})
    n: Counter[str] = Counter(plans=1)
    n["memberships"] = put("memberships", sorted(
        (users[m.user_id], m.role, m.unit_id)
        for m in s.scalars(select(Membership).where(Membership.plan_id == plan.id))))
    versions = list(s.scalars(select(Version).where(Version.plan_id == plan.id)
                              .order_by(Version.number)))
    rounds = list(s.scalars(select(Round).where(Round.plan_id == plan.id)
                            .order_by(Round.number)))
    vnum = {v.id: v.number for v in versions}
    rnum = {r.id: r.number for r in rounds}
    n["versions"] = _export_versions(s, versions, (vnum, rnum, users), folder)
    n["publications"] = put("publications", (
        (vnum[p.version_id], p.at, _name(users, p.by)) for p in s.scalars(
            select(Publication).where(Publication.plan_id == plan.id).order_by(Publication.id))))
    n["rounds"] = put("rounds", ((r.number, vnum[r.version_id], r.state, r.opened_at,
                                  r.closed_at) for r in rounds))
    proposals = list(s.scalars(select(Proposal).where(Proposal.round_id.in_(rnum))
                               .order_by(Proposal.id)))
    n["proposals"] = _export_proposals(proposals, rnum, users, folder)
    n["outcomes"] = put("outcomes", (
        (vnum[o.version_id], o.proposal_id, o.verdict, o.share, o.reason)
        for o in s.scalars(select(Outcome).where(Outcome.version_id.in_(vnum))
                           .order_by(Outcome.id))))
    n.update(_export_polls(s, rnum, users, folder))
    n["reports"] = put("reports", (
        (vnum[r.version_id], r.unit_id, r.technique, r.period, r.activity, r.note,
         _name(users, r.reported_by), r.created_at, r.date)
        for r in s.scalars(select(Report).where(Report.version_id.in_(vnum))
                           .order_by(Report.id))))
    n["challenges"] = put("challenges", (
        (c.number, c.challenger, c.challenged, c.measure, c.item, c.first_period,
         c.last_period, c.rules, vnum[c.version_id], c.state, c.created_at, c.answered_at)
        for c in s.scalars(select(Challenge).where(Challenge.plan_id == plan.id)
                           .order_by(Challenge.number))))
    n.update(_export_cycle(s, plan, vnum, users, folder))
    n.update(_export_governance(s, plan, users, vnum, folder))
    return n


def _export_cycle(s: Session, plan: Plan, vnum: dict[int, int], users: dict[int, str],
                  folder: Path) -> Counter[str]:
    """exceptions.csv (the monitor's exceptions, where each is, the unit's
    note) and cycle.csv (the plan's setting, when the office changed it)."""
    n: Counter[str] = Counter()
    n["plan_exceptions"] = _write_csv(folder / "exceptions.csv", PLAN_FILES["exceptions"], (
        (vnum[x.version_id], x.unit_id, x.technique, x.date, x.kind, x.probability,
         x.forecast, x.reason, x.state, x.reports_since, x.raised_at, x.escalated_at,
         x.closed_at, x.note, _name(users, x.acknowledged_by), x.acknowledged_at)
        for x in s.scalars(select(PlanException).where(PlanException.plan_id == plan.id)
                           .order_by(PlanException.id))))
    setting = s.get(CycleSettings, plan.id)
    n["cycle_settings"] = _write_csv(folder / "cycle.csv", PLAN_FILES["cycle"],
                                     [] if setting is None else [(setting.escalate_after,)])
    return n


def _export_governance(s: Session, plan: Plan, users: dict[int, str], vnum: dict[int, int],
                       folder: Path) -> Counter[str]:
    """The self-government: its rules, terms, votes (totals and who voted,
    never a ballot), recall petitions and criticism (by id, without times
    of day for those sent without a name: none are kept)."""
    def put(name: str, rows: Iterable[Sequence[Any]]) -> int:
        return _write_csv(folder / f"{name}.csv", PLAN_FILES[name], rows)

    def rows_of(model: Any) -> list[Any]:
        return list(s.scalars(select(model).where(model.plan_id == plan.id)
                              .order_by(*model.__table__.primary_key.columns)))

    def user(user_id: int | None) -> str | None:
        return _name(users, user_id)

    def version(version_id: int | None) -> int | None:
        return None if version_id is None else vnum[version_id]

    n: Counter[str] = Counter()
    n["plan_rules"] = put("rules", ((r.term_days, r.recall_share, r.answer_days, r.vote_days,
                                     r.office_electorate) for r in rows_of(PlanRules)))
    n["terms"] = put("terms", ((t.role, t.unit_id, user(t.user_id), t.election_id, t.started_at,
                                t.ends_at, t.ended_at, t.end) for t in rows_of(Term)))
    elections = rows_of(Election)
    ids = [e.id for e in elections]
    n["elections"] = put("elections", (
        (e.id, e.kind, e.role, e.unit_id, user(e.subject_id), version(e.base_version_id),
         e.state, e.electorate, user(e.opened_by), e.opened_at, e.closes_at, e.closed_at,
         e.outcome) for e in elections))
    n["election_options"] = put("election_totals", (
        (o.election_id, o.position, o.label, user(o.user_id), version(o.version_id), o.yes, o.no)
        for o in s.scalars(select(ElectionOption).where(ElectionOption.election_id.in_(ids))
                           .order_by(ElectionOption.election_id, ElectionOption.position))))
    n["election_voters"] = put("election_voters", sorted(
        (e, users[u]) for e, u in s.execute(select(ElectionVoter.election_id,
                                                   ElectionVoter.user_id)
                                            .where(ElectionVoter.election_id.in_(ids)))))
    petitions = rows_of(Petition)
    n["petitions"] = put("petitions", (
        (p.id, p.role, p.unit_id, user(p.subject_id), p.reason, p.needed, p.state, p.opened_at,
         p.closes_at, p.election_id) for p in petitions))
    n["petition_signatures"] = put("signatures", sorted(
        (p, users[u]) for p, u in s.execute(select(Signature.petition_id, Signature.user_id)
                                            .where(Signature.petition_id.in_(
                                                [p.id for p in petitions])))))
    n["criticisms"] = put("criticisms", (
        (c.role, c.unit_id, user(c.author_id), c.text, c.written_on, c.due_at, c.answer,
         c.answered_at, user(c.answered_by), c.hidden_ground, c.hidden_note, c.hidden_at,
         user(c.hidden_by)) for c in rows_of(Criticism)))
    return n


def _name(users: dict[int, str], user_id: int | None) -> str | None:
    return None if user_id is None else users[user_id]


def _export_versions(s: Session, versions: list[Version],
                     maps: tuple[dict[int, int], dict[int, int], dict[int, str]],
                     folder: Path) -> int:
    vnum, rnum, users = maps
    rows = []
    for v in versions:
        zips = s.execute(select(Version.economy_zip, Version.plan_zip)
                         .where(Version.id == v.id)).one()
        target = folder / "versions" / str(v.number)
        economy_hash, plan_hash = (_unpack(z, target / part)
                                   for z, part in zip(zips, ("economy", "plan"), strict=True))
        rows.append((v.number, v.label, None if v.parent_id is None else vnum[v.parent_id],
                     None if v.round_id is None else rnum[v.round_id], v.objective,
                     v.input_hash, economy_hash, plan_hash, v.created_at,
                     _name(users, v.created_by)))
    return _write_csv(folder / "versions.csv", PLAN_FILES["versions"], rows)


def _export_proposals(proposals: list[Proposal], rnum: dict[int, int], users: dict[int, str],
                      folder: Path) -> int:
    """proposals.csv, and each round's counter-plans as rounds/<n>/counterplan.csv
    with the ids p<proposal id> that the reconciliation uses."""
    by_round: dict[int, list[list[str]]] = {}
    rows = []
    for p in proposals:
        changes = json.loads(p.rows)
        label = str(changes[0].get("id", "")) if changes else ""
        by_round.setdefault(rnum[p.round_id], []).extend(
            [f"p{p.id}" if c == "id" else _cell(change.get(c)) for c in COLUMNS]
            for change in changes)
        rows.append((p.id, rnum[p.round_id], p.unit_id, _name(users, p.author_id), label,
                     p.kind, p.note, p.verdict, p.share, p.objective_before, p.objective_after,
                     p.reason, p.state, p.created_at, p.submitted_at,
                     _name(users, p.submitted_by)))
    for number, changes in by_round.items():
        _write_csv(folder / "rounds" / str(number) / "counterplan.csv", COUNTERPLAN, changes)
    return _write_csv(folder / "proposals.csv", PLAN_FILES["proposals"], rows)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _export_polls(s: Session, rnum: dict[int, int], users: dict[int, str], folder: Path
                  ) -> Counter[str]:
    """polls.csv, poll_totals.csv (yes and no per proposal: never a ballot)
    and voters.csv (who voted, never how)."""
    polls = list(s.scalars(select(Poll).where(Poll.round_id.in_(rnum)).order_by(Poll.id)))
    ids = [p.id for p in polls]
    voters = s.execute(select(Voter.poll_id, Voter.user_id)
                       .where(Voter.poll_id.in_(ids))).all()
    totals = sorted((poll, proposal, yes, no) for poll, proposal, yes, no in s.execute(
        select(PollItem.poll_id, PollItem.proposal_id, PollItem.yes, PollItem.no)
        .where(PollItem.poll_id.in_(ids))))
    n: Counter[str] = Counter()
    n["polls"] = _write_csv(folder / "polls.csv", PLAN_FILES["polls"], (
        (p.id, rnum[p.round_id], p.unit_id, p.state, p.opened_at, p.closes_at, p.closed_at)
        for p in polls))
    n["poll_items"] = _write_csv(folder / "poll_totals.csv", PLAN_FILES["poll_totals"], totals)
    n["ballots"] = sum(yes + no for *_, yes, no in totals)
    n["voters"] = _write_csv(folder / "voters.csv", PLAN_FILES["voters"], sorted(
        (poll_id, users[user_id]) for poll_id, user_id in voters))
    return n


def _check_complete(s: Session, counts: Counter[str]) -> None:
    """Refuse an export that would leave rows of the database out."""
    for table in TABLES:
        if table == "ballots":  # counted, not kept: no table holds ballots
            continue
        held = s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        if held != counts[table]:
            raise CounterplanError(
                f"table {table} holds {held} rows but the archive would hold {counts[table]}: "
                "the database has rows that belong to no plan; nothing was written. Please "
                "report this as a bug")
