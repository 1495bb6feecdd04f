"""Who may do what.  Every action of the app asks here, on the server.

Roles are held per plan: the *office* runs the plan (versions, rounds,
reconciliation, publication, roles); a unit's *delegate* submits its
counter-plans, opens and closes its votes and reports its activity; a unit's
*member* reads, proposes within the unit and votes.  Everyone in a plan reads
its published versions and, once a round is reconciled, its outcomes.  A unit's
proposals and votes are the unit's own until submitted; draft versions are
the office's.

A user outside a plan is told the plan does not exist (404), so plan names
do not leak; a user inside it is told precisely which right is missing (403).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from counterplan.web.models import Membership, Plan, User


class Refused(Exception):
    """An action refused: an HTTP status and a message that says why and
    what to do instead."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []


@dataclass(frozen=True)
class Actor:
    """A user as seen by one plan: the roles held there."""

    user: User
    plan: Plan
    office: bool
    delegate_of: frozenset[str]
    member_of: frozenset[str]

    @property
    def units(self) -> frozenset[str]:
        return self.delegate_of | self.member_of

    def in_unit(self, unit: str) -> bool:
        return unit in self.units

    def roles(self) -> list[dict[str, str]]:
        out = [{"role": "office", "unit": ""}] if self.office else []
        out += [{"role": "delegate", "unit": u} for u in sorted(self.delegate_of)]
        out += [{"role": "member", "unit": u} for u in sorted(self.member_of)]
        return out


def actor(db: Session, user: User, plan_name: str) -> Actor:
    plan = db.scalar(select(Plan).where(Plan.name == plan_name))
    if plan is None:
        raise Refused(404, f"no plan called {plan_name!r}")
    rows = db.scalars(select(Membership).where(Membership.plan_id == plan.id,
                                               Membership.user_id == user.id)).all()
    if not rows:
        raise Refused(404, f"no plan called {plan_name!r}")
    return Actor(user, plan, any(m.role == "office" for m in rows),
                 frozenset(m.unit_id for m in rows if m.role == "delegate"),
                 frozenset(m.unit_id for m in rows if m.role == "member"))


def need_office(a: Actor, what: str) -> None:
    if not a.office:
        raise Refused(403, f"only the planning office of {a.plan.name!r} may {what}")


def need_unit(a: Actor, unit: str, what: str) -> None:
    """A member or delegate of ``unit`` (reading the unit's own things)."""
    if not a.in_unit(unit) and not a.office:
        raise Refused(403, f"only members of unit {unit!r} may {what}")


def need_unit_private(a: Actor, unit: str, what: str) -> None:
    """A member or delegate of ``unit``: the office included only through a
    role in the unit (drafts and votes are the unit's own)."""
    if not a.in_unit(unit):
        raise Refused(403, f"only members of unit {unit!r} may {what}")


def need_delegate(a: Actor, unit: str, what: str) -> None:
    if unit not in a.delegate_of:
        raise Refused(403, f"only a delegate of unit {unit!r} may {what}")


def need_member(a: Actor, unit: str, what: str) -> None:
    if unit not in a.member_of:
        raise Refused(403, f"only a member of unit {unit!r} may {what}")
