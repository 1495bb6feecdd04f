"""The demo: the bundled Brazil five-year example as a plan with an office,
a delegate and two members for each of its twelve units, version 1
published and round 1 open, so that a new user sees the whole flow at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from counterplan.web.auth import add_user
from counterplan.web.models import Membership, Plan, User
from counterplan.web.rights import actor
from counterplan.web.services import rounds, versions

PLAN = "brazil"
EXAMPLE = "brazil-five-year"
PASSWORD = "counterplan-demo"


def accounts(units: list[str]) -> list[tuple[str, str, str]]:
    """(user, role, unit) of every demo account."""
    out = [("office", "office", "")]
    for unit in units:
        out += [(f"{unit}-delegate", "delegate", unit), (f"{unit}-delegate", "member", unit),
                (f"{unit}-member1", "member", unit), (f"{unit}-member2", "member", unit)]
    return out


def seed(db: Session) -> list[tuple[str, str, str]]:
    """Create the demo plan and accounts unless they exist; return the accounts."""
    economy = versions.economy_of_example(EXAMPLE)
    units = [str(u) for u in economy.units.index]
    wanted = accounts(units)
    if db.scalar(select(Plan).where(Plan.name == PLAN)) is not None:
        return wanted
    users: dict[str, User] = {}
    for name, _, _ in wanted:
        if name not in users:
            users[name] = db.scalar(select(User).where(User.name == name)) or \
                add_user(db, name, PASSWORD)
    plan = versions.create_plan(db, users["office"], PLAN,
                                "Brazil 2026-2030 (demo)", economy)
    for name, role, unit in wanted[1:]:
        db.add(Membership(plan_id=plan.id, user_id=users[name].id, role=role, unit_id=unit))
    db.flush()
    office = actor(db, users["office"], PLAN)
    versions.publish(db, office, 1)
    rounds.open_round(db, office)
    return wanted
