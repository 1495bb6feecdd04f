"""The rules of a plan's self-government: how long a term runs, what share
of the electorate starts a recall, how long criticism may wait for an
answer, how long a vote stays open, and who elects the office.

The office sets them, within bounds that keep every right usable: a recall
never needs more than half of the electorate, a criticism is answered within
90 days, a vote is open at least a day and at most 30 (docs/web.md,
"Governing the plan")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from counterplan.web.models import PlanRules, now
from counterplan.web.rights import Actor, Refused, need_office

#: (least, most) of each number of the rules.
BOUNDS: dict[str, tuple[float, float]] = {
    "term_days": (30, 5 * 366), "recall_share": (0.01, 0.5), "answer_days": (1, 90),
    "vote_days": (1, 30)}
ELECTORATES = ("members", "delegates")
#: How long a recall petition collects signatures.
PETITION_DAYS = 30


def rules_of(db: Session, plan_id: int) -> PlanRules:
    """The plan's rules; the defaults (not yet kept) when the office set none."""
    found = db.get(PlanRules, plan_id)
    if found is None:
        found = PlanRules(plan_id=plan_id, term_days=365, recall_share=1 / 3, answer_days=14,
                          vote_days=7, office_electorate="members")
    return found


def rules_dict(r: PlanRules) -> dict[str, Any]:
    return {"term_days": r.term_days, "recall_share": r.recall_share,
            "answer_days": r.answer_days, "vote_days": r.vote_days,
            "office_electorate": r.office_electorate}


def vote_closes(db: Session, plan_id: int) -> dt.datetime:
    """When a vote opened now closes: the plan's ``vote_days`` from now."""
    return now() + dt.timedelta(days=rules_of(db, plan_id).vote_days)


def set_rules(db: Session, a: Actor, changes: dict[str, Any]) -> dict[str, Any]:
    """The office changes some of the rules; each must lie within BOUNDS."""
    need_office(a, "set the plan's rules")
    current = rules_of(db, a.plan.id)
    problems = []
    for key, value in changes.items():
        if value is None:
            continue
        if key == "office_electorate":
            if value not in ELECTORATES:
                problems.append(f"office_electorate {value!r}: give members or delegates")
            continue
        least, most = BOUNDS[key]
        if not isinstance(value, int | float) or not least <= value <= most:
            problems.append(f"{key} {value!r}: give a number from {least:g} to {most:g}")
    if problems:
        raise Refused(422, "the rules were not changed", problems)
    for key, value in changes.items():
        if value is not None:
            setattr(current, key, int(value) if key.endswith("_days") else value)
    db.merge(current)
    db.flush()
    return rules_dict(current)
