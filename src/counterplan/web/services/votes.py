"""Secret ballots: a unit's members vote on which of its proposals it submits.

One member, one vote per poll.  No ballot is kept: casting one records that
the member voted (``voters``) and rewrites the yes and no counts of every
proposal of the poll, in one transaction, in the same order and at the same
width whatever was chosen; the counts are shown only once the poll is closed.
Closing submits every proposal with more yes than no.

Concurrency: a ballot and a close each first claim the poll's row with an
UPDATE that only matches an open poll, so they run one after the other (a
row lock on PostgreSQL, the one writer on SQLite) and exactly one of a
ballot and a concurrent close wins: the ballot is counted before the close,
or refused after it.  A unique partial index keeps one open poll per unit
and round.  Ballots on SQLite end with a checkpoint that empties the
write-ahead log (docs/web.md, "Secret ballots").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from counterplan.web.models import Poll, PollItem, Proposal, Round, Voter, now
from counterplan.web.rights import Actor, Refused, need_delegate, need_member, need_unit_private
from counterplan.web.services.rounds import _submit, open_round_or_refuse, proposal_dict

#: How long a ballot waits for readers before it leaves the checkpoint to
#: SQLite (ms), and the busy timeout the app's connections run with.
CHECKPOINT_WAIT_MS = 2000
BUSY_TIMEOUT_MS = 30000


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
    try:
        with db.begin_nested():
            db.add(poll)
            db.flush()
    except IntegrityError:  # another request opened one meanwhile
        raise Refused(409, f"unit {unit!r} already has an open vote; close it first"
                      ) from None
    for p in candidates:
        db.add(PollItem(poll_id=poll.id, proposal_id=p.id, yes=0, no=0))
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


def tallies(db: Session, poll_id: int) -> dict[int, dict[str, int]]:
    """The yes and no counts of each proposal of the poll, as committed now."""
    return {proposal_id: {"yes": yes, "no": no} for proposal_id, yes, no in db.execute(
        select(PollItem.proposal_id, PollItem.yes, PollItem.no)
        .where(PollItem.poll_id == poll_id).order_by(PollItem.proposal_id))}


def poll_dict(db: Session, poll: Poll, a: Actor | None = None) -> dict[str, Any]:
    voters = db.scalar(select(func.count()).select_from(Voter)
                       .where(Voter.poll_id == poll.id)) or 0
    counts = tallies(db, poll.id) if poll.state == "closed" else None
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


def _claim(db: Session, poll: Poll, **values: Any) -> bool:
    """Lock the poll's row if it is still open (setting ``values``); False
    when it is closed.  Every ballot and close passes here first."""
    done = db.execute(update(Poll).where(Poll.id == poll.id, Poll.state == "open")
                      .values(**(values or {"state": Poll.state}))
                      .execution_options(synchronize_session=False))
    db.refresh(poll)
    return bool(getattr(done, "rowcount", 0))


def cast(db: Session, a: Actor, poll_id: int, choices: dict[int, bool]) -> dict[str, Any]:
    """One member's ballot: yes or no on some or all proposals of the poll.

    Every count of the poll is rewritten, answered or not, so the writes
    of one ballot look like those of any other; nothing else is written but
    the row that says the member voted."""
    poll = the_poll(db, a, poll_id)
    need_member(a, poll.unit_id, "vote")
    if not choices:
        raise Refused(422, "the ballot is empty: say yes or no to at least one proposal")
    if not _claim(db, poll):
        raise Refused(409, f"vote {poll_id} is closed")
    if db.get_one(Round, poll.round_id).state != "open":
        raise Refused(409, f"vote {poll_id} belongs to a round that is already reconciled")
    counts = tallies(db, poll.id)
    unknown = set(choices) - set(counts)
    if unknown:
        raise Refused(422, f"proposal(s) {sorted(unknown)} are not on vote {poll_id}; vote on "
                           f"{sorted(counts)}")
    try:
        with db.begin_nested():
            db.add(Voter(poll_id=poll.id, user_id=a.user.id))
            db.flush()
    except IntegrityError:
        raise Refused(409, "you have already voted in this vote: one member, one vote"
                      ) from None
    for proposal_id, count in counts.items():  # in proposal order, every one of them
        choice = choices.get(proposal_id)
        db.execute(update(PollItem)
                   .where(PollItem.poll_id == poll.id, PollItem.proposal_id == proposal_id)
                   .values(yes=count["yes"] + (choice is True),
                           no=count["no"] + (choice is False))
                   .execution_options(synchronize_session=False))
    _checkpoint_after_commit(db)
    return {"poll": poll.id, "counted": len(choices)}


def _checkpoint_after_commit(db: Session) -> None:
    """On SQLite, once the ballot is committed, copy the write-ahead log into
    the database and truncate it, so that the log does not keep the order of
    the writes.  A busy database is left to SQLite's next checkpoint."""
    engine = db.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return

    def checkpoint(_session: Session) -> None:
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except OperationalError:
            pass

    event.listen(db, "after_commit", checkpoint, once=True)


def close_poll(db: Session, a: Actor, poll_id: int) -> dict[str, Any]:
    """Close the vote; submit each proposal with more yes than no."""
    poll = the_poll(db, a, poll_id)
    need_delegate(a, poll.unit_id, "close a vote")
    if not _claim(db, poll, state="closed", closed_at=now()):
        raise Refused(409, f"vote {poll_id} is already closed")
    counts = tallies(db, poll.id)
    for p in _items(db, poll):
        if counts[p.id]["yes"] > counts[p.id]["no"] and p.state == "proposed":
            _submit(db, a, p)
    db.flush()
    return poll_dict(db, poll, a)
