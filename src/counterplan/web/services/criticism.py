"""Criticism that must be answered: anyone in a unit may address a
criticism to the unit's delegate or to the planning office; everyone in the
plan reads it; the addressed must answer in public within the plan's
``answer_days``, else it is marked overdue on the plan page.

A criticism is never removed.  The office may hide the text of one only on
a ground of GROUNDS, saying why; the hiding is shown in its place, with who
hid it and when, and the answer is still owed.

A criticism sent without a name keeps no link to its author: no author
column, no row elsewhere, and only its day, not its time (docs/web.md,
"Criticism"; tests/web/test_govern_secrecy.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from counterplan.web.models import Criticism, User, now
from counterplan.web.rights import Actor, Refused, need_delegate, need_office
from counterplan.web.services import votes
from counterplan.web.services.limits import NOTE_CHARS, check_text
from counterplan.web.services.rules import rules_of

#: The only grounds on which the office may hide a criticism's text.
GROUNDS = {
    "personal-data": "it gives private details of a person (an address, a telephone "
                     "number, health, family)",
    "threat": "it threatens someone with violence",
    "not-about-the-plan": "it is advertising or has nothing to do with the plan or its "
                          "people's work",
}


def _text(what: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise Refused(422, f"{what} is empty: write it out")
    check_text(what, text, NOTE_CHARS)
    return text


def criticise(db: Session, a: Actor, role: str, unit: str, text: str, anonymous: bool
              ) -> dict[str, Any]:
    """A criticism of the unit's delegate (by someone in the unit) or of
    the office (by anyone in a unit of the plan)."""
    if role == "delegate":
        if not a.in_unit(unit):
            raise Refused(403, f"only the people of unit {unit!r} may criticise its delegate")
    elif role == "office":
        unit = ""
        if not a.units:
            raise Refused(403, "only the people of the plan's units may criticise the office "
                               "(the office answers criticism; it does not address it)")
    else:
        raise Refused(422, f"criticism goes to 'delegate' (of your unit) or 'office', not "
                           f"{role!r}")
    text = _text("the criticism", text)
    today = now().replace(hour=0, minute=0, second=0, microsecond=0)
    days = rules_of(db, a.plan.id).answer_days
    c = Criticism(plan_id=a.plan.id, role=role, unit_id=unit,
                  author_id=None if anonymous else a.user.id, text=text, written_on=today,
                  due_at=today + dt.timedelta(days=days + 1), answer="", hidden_ground="",
                  hidden_note="")
    db.add(c)
    db.flush()
    if anonymous:  # nothing of the order of the writes stays in SQLite's log
        votes.checkpoint_after_commit(db)
    return criticism_dict(db, c)


def the_criticism(db: Session, a: Actor, criticism_id: int) -> Criticism:
    c = db.get(Criticism, criticism_id)
    if c is None or c.plan_id != a.plan.id:
        raise Refused(404, f"plan {a.plan.name!r} has no criticism {criticism_id}")
    return c


def answer(db: Session, a: Actor, criticism_id: int, text: str) -> dict[str, Any]:
    """The addressed answers, once, in public."""
    c = the_criticism(db, a, criticism_id)
    if c.role == "delegate":
        need_delegate(a, c.unit_id, "answer criticism of the unit's delegate")
    else:
        need_office(a, "answer criticism of the office")
    text = _text("the answer", text)
    if c.answered_at is not None:
        raise Refused(409, f"criticism {criticism_id} is already answered")
    c.answer, c.answered_at, c.answered_by = text, now(), a.user.id
    db.flush()
    return criticism_dict(db, c)


def hide(db: Session, a: Actor, criticism_id: int, ground: str, note: str) -> dict[str, Any]:
    """The office hides a criticism's text on one of GROUNDS, saying why;
    the hiding is public and the answer still owed."""
    need_office(a, "hide a criticism")
    c = the_criticism(db, a, criticism_id)
    if ground not in GROUNDS:
        raise Refused(422, f"no ground called {ground!r}: the office may hide a criticism "
                           f"only when {'; or when '.join(GROUNDS.values())} "
                           f"({', '.join(GROUNDS)})")
    note = _text("why it is hidden", note)
    if c.hidden_at is not None:
        raise Refused(409, f"criticism {criticism_id} is already hidden")
    c.hidden_ground, c.hidden_note, c.hidden_at, c.hidden_by = ground, note, now(), a.user.id
    db.flush()
    return criticism_dict(db, c)


def _name(db: Session, user_id: int | None) -> str | None:
    user = None if user_id is None else db.get(User, user_id)
    return None if user is None else user.name


def criticism_dict(db: Session, c: Criticism) -> dict[str, Any]:
    hidden = c.hidden_at is not None
    answered_at = c.answered_at
    answered = answered_at is not None
    return {"id": c.id, "to": c.role, "unit": c.unit_id,
            "addressed": f"the delegate of unit {c.unit_id!r}" if c.role == "delegate"
            else "the planning office",
            "author": _name(db, c.author_id), "text": None if hidden else c.text,
            "written_on": c.written_on.date().isoformat(),
            "due_at": c.due_at.isoformat(timespec="minutes"),
            "answer": c.answer if answered else None,
            "answered_at": None if answered_at is None
            else answered_at.isoformat(timespec="minutes"),
            "answered_by": _name(db, c.answered_by),
            "answered_late": answered_at is not None and answered_at > c.due_at,
            "overdue": not answered and now() > c.due_at,
            "hidden": None if not hidden else {
                "ground": c.hidden_ground, "rule": GROUNDS.get(c.hidden_ground, ""),
                "note": c.hidden_note, "by": _name(db, c.hidden_by),
                "at": c.hidden_at.isoformat(timespec="minutes") if c.hidden_at else None}}


def criticisms(db: Session, a: Actor) -> list[dict[str, Any]]:
    """Every criticism of the plan, newest first (everyone in the plan reads them)."""
    return [criticism_dict(db, c) for c in db.scalars(
        select(Criticism).where(Criticism.plan_id == a.plan.id).order_by(Criticism.id.desc()))]
