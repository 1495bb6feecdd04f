"""Governing the plan from below: delegates and the office elected and
recallable, and the plan's next version chosen among variants by every member.

Every vote here is a secret ballot of the app's one design (services/votes.py):
a ballot claims the vote's row, records that its caster voted, and rewrites
the yes and no counts of *every* option in order, whatever was chosen.  The
ballots are approval ballots: approve any number of options (a recall has one
option, answered yes or no).  Every vote closes itself at its closing time,
the next time anyone looks at the plan's votes or acts on them (``settle``);
only then are turnout and tallies shown and the outcome applied at once:
the winner takes the seat, a recalled holder loses it, the chosen variant
becomes the plan's next draft version.  docs/web.md, "Governing the plan",
says the rules in words."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from counterplan.web.models import (
    Election,
    ElectionOption,
    ElectionVoter,
    Membership,
    Petition,
    Plan,
    Signature,
    Term,
    User,
    Version,
    now,
)
from counterplan.web.rights import Actor, Refused
from counterplan.web.services import votes
from counterplan.web.services.limits import check_text
from counterplan.web.services.rules import PETITION_DAYS, rules_dict, rules_of, vote_closes
from counterplan.web.services.versions import (
    Solved,
    new_version,
)

#: Most candidates of an election, and most variants of a plan vote.
MOST_OPTIONS = 20
MOST_VARIANTS = 6
#: Most characters of a variant's name (its version's label adds a few) and of a
#: petition's reason.
LABEL_CHARS = 150
REASON_CHARS = 2000


def seat_name(role: str, unit: str) -> str:
    return f"the delegate of unit {unit!r}" if role == "delegate" else "the planning office"


# -- who may vote ---------------------------------------------------------------------

def _users_with(db: Session, plan_id: int, role: str, unit: str | None = None) -> set[int]:
    query = select(Membership.user_id).where(Membership.plan_id == plan_id,
                                             Membership.role == role)
    if unit is not None:
        query = query.where(Membership.unit_id == unit)
    return set(db.scalars(query))


def electorate(db: Session, plan_id: int, role: str, unit: str) -> set[int]:
    """Who elects and recalls a seat; with role "" (the plan's variants),
    every member of the plan."""
    if role == "delegate":
        return _users_with(db, plan_id, "member", unit)
    if role == "office" and rules_of(db, plan_id).office_electorate == "delegates":
        return _users_with(db, plan_id, "delegate")
    return _users_with(db, plan_id, "member")


def _electorate_of(db: Session, e: Election) -> set[int]:
    return electorate(db, e.plan_id, e.role, e.unit_id)


def _who_votes(role: str, unit: str, office_electorate: str) -> str:
    if role == "delegate":
        return f"the members of unit {unit!r}"
    if role == "office" and office_electorate == "delegates":
        return "the delegates of the plan's units"
    return "the members of the plan"


# -- seats and terms ------------------------------------------------------------------

def _running_terms(db: Session, plan_id: int, role: str, unit: str) -> list[Term]:
    return list(db.scalars(select(Term).where(
        Term.plan_id == plan_id, Term.role == role, Term.unit_id == unit,
        Term.ended_at.is_(None)).order_by(Term.id)))


def _end_terms(db: Session, plan_id: int, role: str, unit: str, user_id: int | None,
               how: str) -> None:
    for term in _running_terms(db, plan_id, role, unit):
        if user_id is None or term.user_id == user_id:
            term.ended_at, term.end = now(), how


def elected_until(db: Session, plan_id: int, role: str, unit: str) -> dt.datetime | None:
    """The end of the running elected term of the seat, if one is running."""
    ends = [t.ends_at for t in _running_terms(db, plan_id, role, unit) if t.ends_at > now()]
    return max(ends) if ends else None


def _unseat(db: Session, plan_id: int, role: str, unit: str, user_id: int | None,
            how: str) -> None:
    """Take the seat from ``user_id`` (everyone holding it, when None) at once."""
    query = select(Membership).where(Membership.plan_id == plan_id, Membership.role == role,
                                     Membership.unit_id == unit)
    if user_id is not None:
        query = query.where(Membership.user_id == user_id)
    for m in db.scalars(query):
        db.delete(m)
    _end_terms(db, plan_id, role, unit, user_id, how)


def _seat(db: Session, e: Election, user_id: int) -> None:
    """The winner of ``e`` takes the seat at once, for the plan's term;
    whoever held it before leaves it."""
    _unseat(db, e.plan_id, e.role, e.unit_id, None, "replaced")
    db.flush()
    db.add(Membership(plan_id=e.plan_id, user_id=user_id, role=e.role, unit_id=e.unit_id))
    term_days = rules_of(db, e.plan_id).term_days
    db.add(Term(plan_id=e.plan_id, role=e.role, unit_id=e.unit_id, user_id=user_id,
                election_id=e.id, started_at=now(),
                ends_at=now() + dt.timedelta(days=term_days)))


def seats(db: Session, a: Actor) -> list[dict[str, Any]]:
    """Who holds the office and each unit's delegate seat, and until when."""
    rows = db.execute(select(Membership.role, Membership.unit_id, User.name, User.id)
                      .join(User, User.id == Membership.user_id)
                      .where(Membership.plan_id == a.plan.id,
                             Membership.role.in_(("office", "delegate")))
                      .order_by(Membership.role.desc(), Membership.unit_id, User.name)).all()
    units = sorted(set(db.scalars(select(Membership.unit_id).where(
        Membership.plan_id == a.plan.id, Membership.unit_id != ""))))
    terms = {(t.role, t.unit_id, t.user_id): t for t in db.scalars(select(Term).where(
        Term.plan_id == a.plan.id, Term.ended_at.is_(None)))}
    out = []
    for role, unit in [("office", ""), *(("delegate", u) for u in units)]:
        holders = []
        for r, u, name, uid in rows:
            if (r, u) == (role, unit):
                term = terms.get((role, unit, uid))
                holders.append({"user": name, "elected": term is not None,
                                "until": None if term is None
                                else term.ends_at.isoformat(timespec="minutes")})
        out.append({"role": role, "unit": unit, "holders": holders,
                    "name": seat_name(role, unit)})
    return out


def history(db: Session, a: Actor) -> list[dict[str, Any]]:
    """Every elected term, newest first: who, which seat, when, how it ended."""
    rows = db.execute(select(Term, User.name).outerjoin(User, User.id == Term.user_id)
                      .where(Term.plan_id == a.plan.id).order_by(Term.id.desc())).all()
    return [{"user": name, "role": t.role, "unit": t.unit_id,
             "started_at": t.started_at.isoformat(timespec="minutes"),
             "ends_at": t.ends_at.isoformat(timespec="minutes"),
             "ended_at": None if t.ended_at is None else t.ended_at.isoformat(timespec="minutes"),
             "end": t.end, "election": t.election_id} for t, name in rows]


# -- elections ------------------------------------------------------------------------

def _in_plan(db: Session, a: Actor, names: list[str]) -> list[User]:
    found = {u.name: u for u in db.scalars(select(User).where(User.name.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise Refused(422, f"no user called {', '.join(map(repr, missing))}; name people who "
                           "have an account")
    return [found[n] for n in names]


def open_election(db: Session, a: Actor, role: str, unit: str, candidates: list[str]
                  ) -> dict[str, Any]:
    """Open the election of a seat: any member of its electorate (or the
    office) may, once the seat has no running elected term."""
    settle(db, a.plan.id)
    if role not in ("delegate", "office"):
        raise Refused(422, f"no seat called {role!r}: elect a delegate or the office")
    if role == "delegate" and not unit:
        raise Refused(422, "choose the unit whose delegate is to be elected")
    unit = unit if role == "delegate" else ""
    voters = electorate(db, a.plan.id, role, unit)
    if a.user.id not in voters and not a.office:
        who = _who_votes(role, unit, rules_of(db, a.plan.id).office_electorate)
        raise Refused(403, f"only {who} (or the office) may open the election of "
                           f"{seat_name(role, unit)}")
    if not voters:
        raise Refused(409, f"{seat_name(role, unit)} has nobody to elect it")
    until = elected_until(db, a.plan.id, role, unit)
    if until is not None:
        raise Refused(409, f"{seat_name(role, unit)} was elected until "
                           f"{until.isoformat(timespec='minutes')} UTC: the next election "
                           "opens when that term ends, or after a recall")
    names = list(dict.fromkeys(n.strip() for n in candidates if n.strip()))
    if not 1 <= len(names) <= MOST_OPTIONS:
        raise Refused(422, f"name 1 to {MOST_OPTIONS} candidates (one name a line)")
    people = _in_plan(db, a, names)
    eligible = voters if role == "delegate" else _everyone_in(db, a.plan.id)
    outside = [u.name for u in people if u.id not in eligible]
    if outside:
        raise Refused(422, f"{', '.join(outside)} cannot stand for {seat_name(role, unit)}: "
                           + ("a delegate is one of the unit's members" if role == "delegate"
                              else "the office is elected from the plan's people"))
    e = _open(db, a, Election(plan_id=a.plan.id, kind=role, role=role, unit_id=unit,
                              electorate=len(voters), opened_by=a.user.id,
                              closes_at=vote_closes(db, a.plan.id)),
              [(u.name, u.id, None) for u in people])
    return election_dict(db, e, a)


def _everyone_in(db: Session, plan_id: int) -> set[int]:
    return set(db.scalars(select(Membership.user_id).where(Membership.plan_id == plan_id)))


def _open(db: Session, a: Actor, e: Election,
          options: list[tuple[str, int | None, int | None]]) -> Election:
    """Keep ``e`` with its options (label, user, version), all counts zero;
    refuse a second open vote on the same seat."""
    try:
        with db.begin_nested():
            db.add(e)
            db.flush()
    except IntegrityError:
        raise Refused(409, f"a vote on {_subject(e)} is already open; wait for it to close"
                      ) from None
    for k, (label, user_id, version_id) in enumerate(options, start=1):
        db.add(ElectionOption(election_id=e.id, position=k, label=label, user_id=user_id,
                              version_id=version_id, yes=0, no=0))
    db.flush()
    return e


def _subject(e: Election) -> str:
    if e.kind == "variants":
        return "the plan's variants"
    return ("the recall of " if e.kind == "recall" else "") + seat_name(e.role, e.unit_id)


def the_election(db: Session, a: Actor, election_id: int) -> Election:
    e = db.get(Election, election_id)
    if e is None or e.plan_id != a.plan.id:
        raise Refused(404, f"plan {a.plan.name!r} has no vote {election_id} of its "
                           "self-government")
    return e


def _options(db: Session, e: Election) -> list[ElectionOption]:
    return list(db.scalars(select(ElectionOption).where(ElectionOption.election_id == e.id)
                           .order_by(ElectionOption.position)))


def cast(db: Session, a: Actor, election_id: int, choices: dict[int, bool]
         ) -> dict[str, Any]:
    """One secret ballot: options (by position) approved (true) or not.  A
    recall's ballot answers its one option; an election's approves at least
    one.  Every count of the vote is rewritten, in order, whatever the
    choice."""
    e = the_election(db, a, election_id)
    if a.user.id not in _electorate_of(db, e):
        who = _who_votes(e.role, e.unit_id, rules_of(db, a.plan.id).office_electorate)
        raise Refused(403, f"only {who} vote on {_subject(e)}")
    options = _options(db, e)
    positions = [o.position for o in options]
    unknown = sorted(set(choices) - set(positions))
    if unknown:
        raise Refused(422, f"option(s) {unknown} are not on vote {election_id}; its options "
                           f"are {positions}")
    if e.kind == "recall" and set(choices) != set(positions):
        raise Refused(422, "the ballot is empty: answer the recall yes or no")
    if e.kind != "recall" and not any(choices.values()):
        raise Refused(422, "the ballot approves nothing: approve at least one option")
    if not votes.claim(db, e, Election.closes_at > now()):
        raise Refused(409, f"vote {election_id} is closed")
    votes.add_voter(db, ElectionVoter(election_id=e.id, user_id=a.user.id))
    counts = {o.position: (o.yes, o.no) for o in db.execute(
        select(ElectionOption.position, ElectionOption.yes, ElectionOption.no)
        .where(ElectionOption.election_id == e.id))}
    for position in positions:  # every option, in order, answered or not
        yes, no = counts[position]
        approved = choices.get(position, False)
        db.execute(update(ElectionOption)
                   .where(ElectionOption.election_id == e.id,
                          ElectionOption.position == position)
                   .values(yes=yes + approved, no=no + (not approved))
                   .execution_options(synchronize_session=False))
    votes.checkpoint_after_commit(db)
    return {"vote": e.id, "counted": True}


def settle(db: Session, plan_id: int) -> None:
    """Close every vote of the plan whose closing time has passed (the
    units' votes too) and apply each outcome at once."""
    votes.close_due(db, plan_id)
    due = db.scalars(select(Election).where(
        Election.plan_id == plan_id, Election.state == "open", Election.closes_at <= now())
        .order_by(Election.id)).all()
    for e in due:
        if votes.claim(db, e, Election.closes_at <= now(), state="closed", closed_at=now()):
            _decide(db, e)
    db.flush()


def _winners(options: list[ElectionOption]) -> list[ElectionOption]:
    top = max((o.yes for o in options), default=0)
    return [o for o in options if o.yes == top] if top > 0 else []


def _decide(db: Session, e: Election) -> None:
    """Apply the outcome of the closed vote ``e`` and say it in words."""
    options = _options(db, e)
    voted = _turnout(db, e)
    if e.kind == "recall":
        o = options[0]
        if o.yes > o.no:
            _unseat(db, e.plan_id, e.role, e.unit_id, e.subject_id, "recalled")
            who = o.label.removeprefix("recall ")
            e.outcome = (f"recalled: {o.yes} yes against {o.no} no; {who} no longer holds "
                         f"{seat_name(e.role, e.unit_id)}")
        else:
            e.outcome = f"not recalled: {o.yes} yes against {o.no} no"
        return
    best = _winners(options)
    if voted == 0 or not best:
        e.outcome = "nobody voted: nothing changes" if voted == 0 else \
            "no option was approved: nothing changes"
        return
    if len(best) > 1:
        e.outcome = (f"a tie between {', '.join(o.label for o in best)} with {best[0].yes} "
                     "approvals each: nothing changes; open a new vote between them")
        return
    win = best[0]
    if e.kind == "variants":
        assert win.version_id is not None
        chosen = db.get_one(Version, win.version_id)
        row = db.execute(select(Version.economy_zip, Version.plan_zip)
                         .where(Version.id == chosen.id)).one()
        copy = Solved(row[0], row[1], chosen.objective, chosen.input_hash)
        made = new_version(db, db.get_one(Plan, chosen.plan_id), copy,
                           f"chosen by the members: {win.label}", None,
                           parent=db.get(Version, e.base_version_id or chosen.id))
        e.outcome = (f"{win.label} is chosen with {_count(win.yes, 'approval')} of "
                     f"{_count(voted, 'ballot')}; it is now draft version {made.number}")
        return
    assert win.user_id is not None
    _seat(db, e, win.user_id)
    e.outcome = (f"{win.label} is elected with {_count(win.yes, 'approval')} of "
                 f"{_count(voted, 'ballot')} and holds the seat from now")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _turnout(db: Session, e: Election) -> int:
    return db.scalar(select(func.count()).select_from(ElectionVoter)
                     .where(ElectionVoter.election_id == e.id)) or 0


def election_dict(db: Session, e: Election, a: Actor) -> dict[str, Any]:
    """A vote as everyone in the plan sees it: turnout and tallies only once
    it is closed."""
    closed = e.state == "closed"
    options = _options(db, e)
    numbers = {v.id: v.number for v in db.scalars(select(Version).where(
        Version.id.in_([o.version_id for o in options if o.version_id is not None])))}
    subject = None if e.subject_id is None else db.get(User, e.subject_id)
    voted = db.scalar(select(ElectionVoter.id).where(
        ElectionVoter.election_id == e.id, ElectionVoter.user_id == a.user.id)) is not None
    return {"id": e.id, "kind": e.kind, "role": e.role, "unit": e.unit_id,
            "what": _subject(e), "state": e.state,
            "subject": None if subject is None else subject.name,
            "opened_at": e.opened_at.isoformat(timespec="minutes"),
            "closes_at": e.closes_at.isoformat(timespec="minutes"),
            "closed_at": None if e.closed_at is None else e.closed_at.isoformat(timespec="minutes"),
            "electorate": e.electorate, "turnout": _turnout(db, e) if closed else None,
            "outcome": e.outcome, "you_voted": voted,
            "you_may_vote": e.state == "open" and not voted
            and a.user.id in _electorate_of(db, e),
            "options": [{"position": o.position, "label": o.label,
                         "version": numbers.get(o.version_id or -1),
                         **({"approve": o.yes, "against": o.no} if closed else {})}
                        for o in options]}


def elections(db: Session, a: Actor) -> list[dict[str, Any]]:
    settle(db, a.plan.id)
    return [election_dict(db, e, a) for e in db.scalars(
        select(Election).where(Election.plan_id == a.plan.id)
        .order_by(Election.id.desc()).limit(50))]


def show(db: Session, a: Actor, election_id: int) -> dict[str, Any]:
    settle(db, a.plan.id)
    return election_dict(db, the_election(db, a, election_id), a)


# -- recalls --------------------------------------------------------------------------

def start_petition(db: Session, a: Actor, role: str, unit: str, user_name: str,
                   reason: str) -> dict[str, Any]:
    """A petition to recall ``user_name`` from a seat, signed at once by
    whoever starts it.  The recall vote opens when the plan's share of the
    electorate has signed; not before."""
    settle(db, a.plan.id)
    if role not in ("delegate", "office"):
        raise Refused(422, f"no seat called {role!r}: recall a delegate or the office")
    if role == "delegate" and not unit:
        raise Refused(422, "choose the unit whose delegate is to be recalled")
    unit = unit if role == "delegate" else ""
    check_text("the reason", reason, REASON_CHARS)
    rules = rules_of(db, a.plan.id)
    voters = electorate(db, a.plan.id, role, unit)
    if a.user.id not in voters:
        raise Refused(403, f"only {_who_votes(role, unit, rules.office_electorate)} may "
                           f"petition to recall {seat_name(role, unit)}")
    subject = db.scalar(select(User).where(User.name == user_name.strip()))
    if subject is None or subject.id not in _users_with(db, a.plan.id, role, unit):
        raise Refused(422, f"{user_name.strip()!r} does not hold the seat of "
                           f"{seat_name(role, unit)}: recall someone who does")
    if db.scalar(select(Petition).where(
            Petition.plan_id == a.plan.id, Petition.role == role, Petition.unit_id == unit,
            Petition.subject_id == subject.id, Petition.state == "open",
            Petition.closes_at > now())) is not None:
        raise Refused(409, f"a petition to recall {subject.name} is already collecting "
                           "signatures: sign it instead")
    p = Petition(plan_id=a.plan.id, role=role, unit_id=unit, subject_id=subject.id,
                 reason=reason.strip(), needed=max(1, math.ceil(rules.recall_share
                                                                * len(voters) - 1e-9)),
                 closes_at=now() + dt.timedelta(days=PETITION_DAYS))
    db.add(p)
    db.flush()
    return _sign(db, a, p)


def sign(db: Session, a: Actor, petition_id: int) -> dict[str, Any]:
    settle(db, a.plan.id)
    p = db.get(Petition, petition_id)
    if p is None or p.plan_id != a.plan.id:
        raise Refused(404, f"plan {a.plan.name!r} has no petition {petition_id}")
    if a.user.id not in electorate(db, a.plan.id, p.role, p.unit_id):
        who = _who_votes(p.role, p.unit_id, rules_of(db, a.plan.id).office_electorate)
        raise Refused(403, f"only {who} may sign this petition")
    if p.state != "open" or p.closes_at <= now():
        raise Refused(409, f"petition {petition_id} no longer collects signatures ("
                           + ("its recall vote is open or over)" if p.state == "vote"
                              else "its 30 days are over)"))
    return _sign(db, a, p)


def _sign(db: Session, a: Actor, p: Petition) -> dict[str, Any]:
    try:
        with db.begin_nested():
            db.add(Signature(petition_id=p.id, user_id=a.user.id))
            db.flush()
    except IntegrityError:
        raise Refused(409, "you have already signed this petition") from None
    if _signatures(db, p) >= p.needed and votes.claim(db, p, state="vote"):
        subject = db.get(User, p.subject_id) if p.subject_id is not None else None
        label = f"recall {subject.name if subject else 'the holder'}"
        e = _open(db, a, Election(plan_id=p.plan_id, kind="recall", role=p.role,
                                  unit_id=p.unit_id, subject_id=p.subject_id,
                                  electorate=len(electorate(db, p.plan_id, p.role, p.unit_id)),
                                  opened_by=None, closes_at=vote_closes(db, p.plan_id)),
                  [(label, p.subject_id, None)])
        p.election_id = e.id
        db.flush()
    return petition_dict(db, p)


def _signatures(db: Session, p: Petition) -> int:
    return db.scalar(select(func.count()).select_from(Signature)
                     .where(Signature.petition_id == p.id)) or 0


def petition_dict(db: Session, p: Petition, a: Actor | None = None) -> dict[str, Any]:
    subject = None if p.subject_id is None else db.get(User, p.subject_id)
    lapsed = p.state == "open" and p.closes_at <= now()
    signed = a is not None and db.scalar(select(Signature.id).where(
        Signature.petition_id == p.id, Signature.user_id == a.user.id)) is not None
    return {"id": p.id, "role": p.role, "unit": p.unit_id, "what": seat_name(p.role, p.unit_id),
            "subject": None if subject is None else subject.name, "reason": p.reason,
            "signatures": _signatures(db, p), "needed": p.needed,
            "state": "lapsed" if lapsed else p.state, "vote": p.election_id,
            "closes_at": p.closes_at.isoformat(timespec="minutes"), "you_signed": signed,
            "you_may_sign": a is not None and p.state == "open" and not lapsed and not signed
            and a.user.id in electorate(db, p.plan_id, p.role, p.unit_id)}


def petitions(db: Session, a: Actor) -> list[dict[str, Any]]:
    return [petition_dict(db, p, a) for p in db.scalars(
        select(Petition).where(Petition.plan_id == a.plan.id)
        .order_by(Petition.id.desc()).limit(50))]


def overview(db: Session, a: Actor) -> dict[str, Any]:
    """Everything of the plan's self-government that everyone in it reads."""
    all_votes = elections(db, a)
    rules = rules_of(db, a.plan.id)
    return {"rules": rules_dict(rules),
            "office_electorate": _who_votes("office", "", rules.office_electorate),
            "seats": seats(db, a), "votes": all_votes, "petitions": petitions(db, a),
            "terms": history(db, a)}
