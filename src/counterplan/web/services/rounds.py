"""Rounds of counter-planning: the office opens a round on the published
plan; members propose (each proposal judged at once by the library's
evaluator); units vote in secret on what to submit; delegates submit; the
office reconciles every submitted counter-plan into a new version."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from counterplan.counter.proposals import COLUMNS, parse_counterplans
from counterplan.counter.reconcile import reconcile
from counterplan.errors import CounterplanError, SolveFailed
from counterplan.web.models import Outcome, Poll, Proposal, Round, User, Version, now
from counterplan.web.rights import (
    Actor,
    Refused,
    actor,
    need_delegate,
    need_office,
    need_unit_private,
)
from counterplan.web.services.limits import (
    NOTE_CHARS,
    check_counterplans,
    check_rows,
    check_text,
    check_upload_size,
)
from counterplan.web.services.versions import (
    describe,
    in_force,
    loaded,
    new_version,
    published,
    refused_input,
    solved,
)
from counterplan.web.store import VersionCache

#: What the reconciliation's verdicts are called on the pages.
OUTCOME_WORDS = {"accepted": "adopted", "partial": "scaled back", "rejected": "refused"}
#: Which resources a unit may propose capacity for: those its own techniques use
#: (a stock: only one its techniques use or add), docs/web.md "Limits".
RESOURCES = "use"


def open_round(db: Session, a: Actor) -> dict[str, Any]:
    need_office(a, "open a round")
    version = published(db, a.plan)
    if version is None:
        raise Refused(409, "publish a version first: a round answers the published plan")
    if current_round(db, a) is not None:
        raise Refused(409, "a round is already open; reconcile it before opening another")
    number = (db.scalar(select(func.max(Round.number)).where(Round.plan_id == a.plan.id))
              or 0) + 1
    r = Round(plan_id=a.plan.id, number=number, version_id=version.id)
    db.add(r)
    db.flush()
    return round_dict(db, r)


def current_round(db: Session, a: Actor) -> Round | None:
    return db.scalar(select(Round).where(Round.plan_id == a.plan.id, Round.state == "open"))


def the_round(db: Session, a: Actor, number: int) -> Round:
    r = db.scalar(select(Round).where(Round.plan_id == a.plan.id, Round.number == number))
    if r is None:
        raise Refused(404, f"plan {a.plan.name!r} has no round {number}")
    return r


def open_round_or_refuse(db: Session, a: Actor) -> Round:
    r = current_round(db, a)
    if r is None:
        raise Refused(409, "no round is open: counter-plans are made while the office "
                           "holds a round")
    return r


def round_dict(db: Session, r: Round) -> dict[str, Any]:
    version = db.get_one(Version, r.version_id)
    submitted = db.scalar(select(func.count()).select_from(Proposal).where(
        Proposal.round_id == r.id, Proposal.state == "submitted")) or 0
    return {"number": r.number, "state": r.state, "version": version.number,
            "opened_at": r.opened_at.isoformat(timespec="seconds"), "submitted": submitted}


def rounds(db: Session, a: Actor) -> list[dict[str, Any]]:
    return [round_dict(db, r) for r in db.scalars(
        select(Round).where(Round.plan_id == a.plan.id).order_by(Round.number))]


# -- proposals ------------------------------------------------------------------------

def form_rows(unit: str, kind: str, technique: str, item: str, period: str, value: str,
              note: str, flows: str = "") -> pd.DataFrame:
    """The counter-plan table of one proposal made in the form.  A new
    technique's flows come as lines ``item amount``."""
    base = {"id": "proposal", "unit_id": unit, "kind": kind.strip(),
            "technique": technique.strip(), "period": period.strip(), "note": note}
    if kind.strip() != "technique":
        return pd.DataFrame([{**base, "item": item.strip(), "value": value.strip()}],
                            columns=list(COLUMNS))
    rows = []
    for k, line in enumerate(flows.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").split()
        if len(parts) != 2:
            raise Refused(422, f"flows, line {k}: {line.strip()!r} is not 'item amount'; "
                               "give one flow per line, e.g. 'labour -0.5'")
        rows.append({**base, "item": parts[0], "value": parts[1]})
    if not rows:
        raise Refused(422, "a new technique needs its flows: one 'item amount' per line, "
                           "outputs positive, inputs negative")
    return pd.DataFrame(rows, columns=list(COLUMNS))


def upload_rows(data: bytes, filename: str, unit: str) -> pd.DataFrame:
    """The counter-plan table of an uploaded CSV; every row must be the unit's."""
    if b"\x00" in data:
        raise Refused(422, f"{filename}: cannot be read as CSV: it contains a NUL "
                           "character (code 0), which is not text; save it as UTF-8 CSV")
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                            encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise Refused(422, f"{filename}: cannot be read as CSV ({exc}); save it as UTF-8 CSV "
                           f"with the header {','.join(COLUMNS)}") from None
    _check_delimiter(frame, filename)
    ids = frame["id"].astype(str).str.strip().nunique() if "id" in frame.columns else 0
    check_upload_size(len(frame), ids, filename)
    if "unit_id" not in frame.columns:
        frame["unit_id"] = unit
    other = frame["unit_id"].astype(str).str.strip().isin(["", unit])
    if not other.all():
        k = int(np.flatnonzero(~other.to_numpy())[0])
        raise Refused(403, f"{filename}:{k + 2}: unit_id {frame['unit_id'].iloc[k]!r} is not "
                           f"your unit {unit!r}; a unit proposes only for itself")
    frame["unit_id"] = unit
    return frame


def _check_delimiter(frame: pd.DataFrame, filename: str) -> None:
    """A file saved with semicolons (or tabs) reads as one column: say so."""
    if len(frame.columns) != 1:
        return
    header = str(frame.columns[0])
    for mark, name in ((";", "semicolons"), ("\t", "tabs")):
        if mark in header:
            raise Refused(422, f"{filename}: its columns are separated by {name} "
                               f"({header[:60]!r}); save it as CSV with commas "
                               f"(header {','.join(COLUMNS)})")


Transaction = Callable[[], AbstractContextManager[Session]]


def propose(tx: Transaction, cache: VersionCache, user: User, plan_name: str, unit: str,
            frame: pd.DataFrame, file: str = "form") -> list[dict[str, Any]]:
    """Judge each counter-plan of ``frame`` against the round's version and
    keep it with its verdict.

    Judging holds no database connection: the round is read in one
    transaction, the counter-plans judged, then kept in another, which
    refuses them if the round was reconciled meanwhile."""
    with tx() as db:
        a = actor(db, user, plan_name)
        need_unit_private(a, unit, "propose counter-plans for the unit")
        check_rows(frame, file)
        r = open_round_or_refuse(db, a)
        round_id, number = r.id, r.number
        got = loaded(db, cache, db.get_one(Version, r.version_id))
    try:
        plans, problems = parse_counterplans(frame, got.economy, file, RESOURCES)
        problems.raise_if_errors()
    except CounterplanError as exc:
        raise refused_input(exc) from None
    check_counterplans(plans, got.economy, got.tables["activity"])
    for plan in plans:
        check_text(f"the note of counter-plan {plan.id!r} (its rows' notes joined)", plan.note,
                   NOTE_CHARS)
    try:
        with got.evaluator() as judge:
            judged = [judge.judge(p)[0] for p in plans]
    except SolveFailed as exc:  # the solver's limits, not the proposal's fault
        raise Refused(503, f"the counter-plans could not be judged ({exc}); nothing was "
                           "kept") from None
    rows_of = {cid: group for cid, group in frame.groupby(frame["id"].astype(str).str.strip(),
                                                          sort=False)}
    with tx() as db:
        r = db.get_one(Round, round_id)
        if r.state != "open":
            raise Refused(409, f"round {number} was reconciled while the counter-plan was "
                               "judged; nothing was kept: propose again in the next round")
        out = []
        for plan, verdict in zip(plans, judged, strict=True):
            rows = rows_of[plan.id][[c for c in COLUMNS if c in frame.columns]]
            proposal = Proposal(
                round_id=round_id, unit_id=unit, author_id=user.id,
                kind=",".join(sorted(plan.kinds)), rows=rows.to_json(orient="records"),
                note=plan.note, verdict=str(verdict["verdict"]),
                share=_number(verdict["share"]),
                objective_before=_number(verdict["objective_before"]),
                objective_after=_number(verdict["objective_after"]),
                reason=str(verdict["reason"]))
            db.add(proposal)
            db.flush()
            out.append(proposal_dict(proposal))
        return out


def _number(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


def proposal_dict(p: Proposal) -> dict[str, Any]:
    return {"id": p.id, "unit": p.unit_id, "kind": p.kind, "rows": json.loads(p.rows),
            "note": p.note, "verdict": p.verdict, "share": p.share,
            "objective_before": p.objective_before, "objective_after": p.objective_after,
            "reason": p.reason, "state": p.state,
            "created_at": p.created_at.isoformat(timespec="seconds")}


def the_proposal(db: Session, a: Actor, proposal_id: int) -> Proposal:
    p = db.get(Proposal, proposal_id)
    r = None if p is None else db.get(Round, p.round_id)
    if p is None or r is None or r.plan_id != a.plan.id:
        raise Refused(404, f"plan {a.plan.name!r} has no proposal {proposal_id}")
    return p


def unit_proposals(db: Session, a: Actor, unit: str) -> list[dict[str, Any]]:
    need_unit_private(a, unit, "read the unit's proposals")
    rounds_ = select(Round.id).where(Round.plan_id == a.plan.id)
    return [proposal_dict(p) for p in db.scalars(
        select(Proposal).where(Proposal.unit_id == unit, Proposal.round_id.in_(rounds_))
        .order_by(Proposal.id.desc()))]


def submit(db: Session, a: Actor, proposal_id: int) -> dict[str, Any]:
    p = the_proposal(db, a, proposal_id)
    need_delegate(a, p.unit_id, "submit the unit's counter-plans")
    _submit(db, a, p)
    return proposal_dict(p)


def _submit(db: Session, a: Actor, p: Proposal) -> None:
    r = db.get_one(Round, p.round_id)
    if r.state != "open":
        raise Refused(409, f"round {r.number} is {r.state}; submit in an open round")
    if p.state == "submitted":
        raise Refused(409, f"proposal {p.id} is already submitted")
    p.state, p.submitted_at, p.submitted_by = "submitted", now(), a.user.id


def submitted(db: Session, a: Actor, number: int) -> list[dict[str, Any]]:
    """The counter-plans submitted in a round: the office's inbox."""
    need_office(a, "read every unit's submissions")
    r = the_round(db, a, number)
    return [proposal_dict(p) for p in db.scalars(
        select(Proposal).where(Proposal.round_id == r.id, Proposal.state == "submitted")
        .order_by(Proposal.id))]


# -- reconciliation -------------------------------------------------------------------

def counterplans_of(db: Session, r: Round) -> tuple[list[Proposal], pd.DataFrame]:
    """The round's submitted proposals as one counter-plan table, each with
    id ``p<proposal id>``; a new technique proposed twice under one id is
    renamed for the later proposal."""
    chosen = list(db.scalars(select(Proposal).where(
        Proposal.round_id == r.id, Proposal.state == "submitted").order_by(Proposal.id)))
    frames, seen = [], set()
    for p in chosen:
        frame = pd.DataFrame(json.loads(p.rows), dtype=str).fillna("")
        frame["id"] = f"p{p.id}"
        if "technique" in frame.columns:
            new = frame["kind"].astype(str).str.strip() == "technique"
            for tech in frame.loc[new, "technique"].unique():
                if tech in seen:
                    frame.loc[new & (frame["technique"] == tech), "technique"] = f"{tech}-p{p.id}"
                seen.add(tech)
        frames.append(frame)
    # proposals made from files may lack columns others have: absent is empty
    return chosen, (pd.concat(frames, ignore_index=True).fillna("") if frames
                    else pd.DataFrame())


def reconcile_round(db: Session, cache: VersionCache, a: Actor, number: int
                    ) -> dict[str, Any]:
    """Reconcile the round's submitted counter-plans into a new draft version.

    Everything is computed before anything is written, and written in the
    caller's one transaction: a reconciliation that fails leaves the round
    open and the published version as it was."""
    need_office(a, "reconcile a round")
    r = the_round(db, a, number)
    if r.state != "open":
        raise Refused(409, f"round {number} is already {r.state}")
    base = db.get_one(Version, r.version_id)
    got = loaded(db, cache, base)
    chosen, frame = counterplans_of(db, r)
    if not chosen:
        raise Refused(409, f"no counter-plan was submitted in round {number}; nothing to "
                           "reconcile")
    try:
        plans, problems = parse_counterplans(frame, got.economy, f"round {number}",
                                             RESOURCES)
        problems.raise_if_errors()
        result = reconcile(got.economy, plans)
    except CounterplanError as exc:
        raise Refused(422, f"round {number} cannot be reconciled: {exc}") from None
    # the reconciled plan itself, with the pledges it keeps
    version = new_version(db, a.plan, solved(result.economy, result.plan),
                          f"reconciled from round {number}",
                          a.user, parent=base, round_id=r.id)
    by_id = {f"p{p.id}": p for p in chosen}
    for row in result.table.itertuples(index=False):
        db.add(Outcome(version_id=version.id, proposal_id=by_id[str(row.id)].id,
                       verdict=str(row.verdict), share=_number(row.share),
                       reason=str(row.reason)))
    r.state, r.closed_at = "reconciled", now()
    # its votes close with it: after the ballots already cast, before any other
    db.execute(update(Poll).where(Poll.round_id == r.id, Poll.state == "open")
               .values(state="closed", closed_at=now())
               .execution_options(synchronize_session=False))
    db.flush()
    return {"round": round_dict(db, r), "version": describe(db, version),
            "outcomes": outcomes(db, a, number)}


def outcomes(db: Session, a: Actor, number: int) -> list[dict[str, Any]]:
    """What the reconciliation made of each submitted counter-plan: the office
    at once, everyone once the new version is published."""
    r = the_round(db, a, number)
    version = db.scalar(select(Version).where(Version.round_id == r.id))
    if version is None:
        raise Refused(409, f"round {number} is not reconciled yet")
    current = in_force(db, a)
    if not a.office and current.number < version.number:
        raise Refused(403, f"the outcome of round {number} is shown when the office "
                           "publishes its version")
    rows = db.execute(select(Outcome, Proposal).join(Proposal, Outcome.proposal_id == Proposal.id)
                      .where(Outcome.version_id == version.id).order_by(Proposal.id)).all()
    return [{**proposal_dict(p), "outcome": OUTCOME_WORDS.get(o.verdict, o.verdict),
             "outcome_share": o.share, "outcome_reason": o.reason} for o, p in rows]

