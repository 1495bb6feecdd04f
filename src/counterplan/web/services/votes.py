"""Secret ballots: a unit's members vote on which of its proposals it submits.

One member, one vote per poll: ``voters`` records that a member voted, the
ballots carry no voter and no time, and the tallies are shown only once the
delegate closes the poll.  Closing submits every proposal with more yes than
no."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from counterplan.web.models import Ballot, Poll, PollItem, Proposal, Round, Voter, now
from counterplan.web.rights import Actor, Refused, need_delegate, need_member, need_unit_private
from counterplan.web.services.rounds import _submit, open_round_or_refuse, proposal_dict


def open_poll(db: Session, a: Actor, unit: str) -> dict[str, Any]:
    need_delegate(a, unit, "open a vote")
    r = open_round_or_refuse(db, a)
    if db.scalar(select(Poll).where(Poll.round_id == r.id, Poll.unit_id == unit,
                                    Poll.state == "open")) is not None:
        raise Refused(409, f"unit {unit!r} already has an open vote; close it first")
    candidates = db.scalars(select(Proposal).where(
        Proposal.round_id == r.id, Proposal.unit_id == unit, Proposal.state == "proposed")
        .order_by(Proposal.id)).all()
    if not candidates:
        raise Refused(409, f"unit {unit!r} has no proposal waiting to be voted on")
    poll = Poll(round_id=r.id, unit_id=unit)
    db.add(poll)
    db.flush()
    for p in candidates:
        db.add(PollItem(poll_id=poll.id, proposal_id=p.id))
    db.flush()
    return poll_dict(db, poll)


def the_poll(db: Session, a: Actor, poll_id: int) -> Poll:
    poll = db.get(Poll, poll_id)
    r = None if poll is None else db.get(Round, poll.round_id)
    if poll is None or r is None or r.plan_id != a.plan.id:
        raise Refused(404, f"plan {a.plan.name!r} has no vote {poll_id}")
    return poll


def _items(db: Session, poll: Poll) -> list[Proposal]:
    return list(db.scalars(select(Proposal).join(PollItem, PollItem.proposal_id == Proposal.id)
                           .where(PollItem.poll_id == poll.id).order_by(Proposal.id)))


def tallies(db: Session, poll: Poll) -> dict[int, dict[str, int]]:
    counts = {p.id: {"yes": 0, "no": 0} for p in _items(db, poll)}
    for proposal_id, yes, n in db.execute(
            select(Ballot.proposal_id, Ballot.yes, func.count()).where(Ballot.poll_id == poll.id)
            .group_by(Ballot.proposal_id, Ballot.yes)):
        counts[proposal_id]["yes" if yes else "no"] += n
    return counts


def poll_dict(db: Session, poll: Poll, a: Actor | None = None) -> dict[str, Any]:
    voters = db.scalar(select(func.count()).select_from(Voter)
                       .where(Voter.poll_id == poll.id)) or 0
    counts = tallies(db, poll) if poll.state == "closed" else None
    voted = a is not None and db.scalar(select(Voter).where(
        Voter.poll_id == poll.id, Voter.user_id == a.user.id)) is not None
    return {"id": poll.id, "unit": poll.unit_id, "state": poll.state, "voters": voters,
            "you_voted": voted,
            "items": [{**proposal_dict(p), **({"tally": counts[p.id]} if counts else {})}
                      for p in _items(db, poll)]}


def polls(db: Session, a: Actor, unit: str) -> list[dict[str, Any]]:
    need_unit_private(a, unit, "see the unit's votes")
    rounds_ = select(Round.id).where(Round.plan_id == a.plan.id)
    return [poll_dict(db, p, a) for p in db.scalars(
        select(Poll).where(Poll.unit_id == unit, Poll.round_id.in_(rounds_))
        .order_by(Poll.id.desc()))]


def show_poll(db: Session, a: Actor, poll_id: int) -> dict[str, Any]:
    poll = the_poll(db, a, poll_id)
    need_unit_private(a, poll.unit_id, "see the unit's votes")
    return poll_dict(db, poll, a)


def cast(db: Session, a: Actor, poll_id: int, choices: dict[int, bool]) -> dict[str, Any]:
    """One member's ballot: yes or no on each proposal of the poll."""
    poll = the_poll(db, a, poll_id)
    need_member(a, poll.unit_id, "vote")
    if poll.state != "open":
        raise Refused(409, f"vote {poll_id} is closed")
    items = {p.id for p in _items(db, poll)}
    unknown = set(choices) - items
    if unknown:
        raise Refused(422, f"proposal(s) {sorted(unknown)} are not on vote {poll_id}; vote on "
                           f"{sorted(items)}")
    if not choices:
        raise Refused(422, "the ballot is empty: say yes or no to at least one proposal")
    try:
        with db.begin_nested():
            db.add(Voter(poll_id=poll.id, user_id=a.user.id))
            db.flush()
    except IntegrityError:
        raise Refused(409, "you have already voted in this vote: one member, one vote"
                      ) from None
    for proposal_id, yes in sorted(choices.items()):
        db.add(Ballot(poll_id=poll.id, proposal_id=proposal_id, yes=bool(yes)))
    db.flush()
    return {"poll": poll.id, "counted": len(choices)}


def close_poll(db: Session, a: Actor, poll_id: int) -> dict[str, Any]:
    """Close the vote; submit each proposal with more yes than no."""
    poll = the_poll(db, a, poll_id)
    need_delegate(a, poll.unit_id, "close a vote")
    if poll.state != "open":
        raise Refused(409, f"vote {poll_id} is already closed")
    poll.state, poll.closed_at = "closed", now()
    db.flush()
    counts = tallies(db, poll)
    for p in _items(db, poll):
        if counts[p.id]["yes"] > counts[p.id]["no"] and p.state == "proposed":
            _submit(db, a, p)
    db.flush()
    return poll_dict(db, poll, a)
