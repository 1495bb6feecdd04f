"""Secret ballots: a unit's members vote on which of its proposals it submits.

One member, one vote per poll.  No ballot is kept: casting one records that
the member voted (``voters``) and rewrites the yes and no counts of every
proposal of the poll, in one transaction, in the same order and at the same
width whatever was chosen; the counts are shown only once the poll is closed.
Closing submits every proposal with more yes than no.  Every vote has a
closing time (the plan's ``vote_days`` after it opens): the delegate may close
it earlier; past that time no ballot is taken and the vote closes itself the
next time anyone looks at it or acts on it (``close_due``).

The pieces of a secret ballot (``claim``, ``add_voter``,
``checkpoint_after_commit``) serve every vote of the app: the self-government's
elections, recalls and plan variants use them too (services/governance.py).

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
from sqlalchemy.orm import DeclarativeBase, Session

from counterplan.web.models import Poll, PollItem, Proposal, Round, Voter, now
from counterplan.web.rights import Actor, Refused, need_delegate, need_member, need_unit_private
from counterplan.web.services.rounds import _submit, open_round_or_refuse, proposal_dict
from counterplan.web.services.rules import vote_closes

#: How long a ballot waits for readers before it leaves the checkpoint to
#: SQLite (ms), and the busy timeout the app's connections run with.
CHECKPOINT_WAIT_MS = 2000
BUSY_TIMEOUT_MS = 30000


def open_poll(db: Session, a: Actor, unit: str) -> dict[str, Any]:
    need_delegate(a, unit, "open a vote")
    r = open_round_or_refuse(db, a)
    close_due(db, a.plan.id)
    if db.scalar(select(Poll).where(Poll.round_id == r.id, Poll.unit_id == unit,
                                    Poll.state == "open")) is not None:
        raise Refused(409, f"unit {unit!r} already has an open vote; close it first")
    candidates = db.scalars(select(Proposal).where(
        Proposal.round_id == r.id, Proposal.unit_id == unit, Proposal.state == "proposed")
        .order_by(Proposal.id)).all()
    if not candidates:
        raise Refused(409, f"unit {unit!r} has no proposal waiting to be voted on")
    poll = Poll(round_id=r.id, unit_id=unit, closes_at=vote_closes(db, a.plan.id))
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
            "closes_at": poll.closes_at.isoformat(timespec="seconds"),
            "you_voted": voted,
            "items": [{**proposal_dict(p), **({"tally": counts[p.id]} if counts else {})}
                      for p in _items(db, poll)]}


def polls(db: Session, a: Actor, unit: str) -> list[dict[str, Any]]:
    need_unit_private(a, unit, "see the unit's votes")
    close_due(db, a.plan.id)
    rounds_ = select(Round.id).where(Round.plan_id == a.plan.id)
    return [poll_dict(db, p, a) for p in db.scalars(
        select(Poll).where(Poll.unit_id == unit, Poll.round_id.in_(rounds_))
        .order_by(Poll.id.desc()))]


def show_poll(db: Session, a: Actor, poll_id: int) -> dict[str, Any]:
    poll = the_poll(db, a, poll_id)
    need_unit_private(a, poll.unit_id, "see the unit's votes")
    close_due(db, a.plan.id)
    return poll_dict(db, poll, a)


def claim(db: Session, row: Any, *when: Any, **values: Any) -> bool:
    """Lock a vote's row (a poll or an election) if it is still open and
    ``when`` holds (setting ``values``); False otherwise.  Every ballot and
    close passes here first, so they run one after the other."""
    model = type(row)
    done = db.execute(update(model).where(model.id == row.id, model.state == "open", *when)
                      .values(**(values or {"state": model.state}))
                      .execution_options(synchronize_session=False))
    db.refresh(row)
    return bool(getattr(done, "rowcount", 0))


def add_voter(db: Session, voter: DeclarativeBase) -> None:
    """Record that someone voted (who, never how); refuse a second ballot."""
    try:
        with db.begin_nested():
            db.add(voter)
            db.flush()
    except IntegrityError:
        raise Refused(409, "you have already voted in this vote: one member, one vote"
                      ) from None


def close_due(db: Session, plan_id: int) -> None:
    """Close the plan's unit votes whose closing time has passed, each as
    its delegate would: every proposal with more yes than no is submitted
    (while its round is open)."""
    due = db.scalars(select(Poll).join(Round, Round.id == Poll.round_id).where(
        Round.plan_id == plan_id, Poll.state == "open", Poll.closes_at <= now())
        .order_by(Poll.id)).all()
    for poll in due:
        if not claim(db, poll, Poll.closes_at <= now(), state="closed", closed_at=now()):
            continue
        _submit_majority(db, poll, None)


def _submit_majority(db: Session, poll: Poll, a: Actor | None) -> None:
    counts = tallies(db, poll.id)
    round_open = db.get_one(Round, poll.round_id).state == "open"
    for p in _items(db, poll):
        if counts[p.id]["yes"] > counts[p.id]["no"] and p.state == "proposed" and round_open:
            if a is None:
                p.state, p.submitted_at = "submitted", now()
            else:
                _submit(db, a, p)
    db.flush()


def cast(db: Session, a: Actor, poll_id: int, choices: dict[int, bool]) -> dict[str, Any]:
    """One member's ballot: yes or no on some or all proposals of the poll.

    Every count of the poll is rewritten, answered or not, so the writes
    of one ballot look like those of any other; nothing else is written but
    the row that says the member voted."""
    poll = the_poll(db, a, poll_id)
    need_member(a, poll.unit_id, "vote")
    if not choices:
        raise Refused(422, "the ballot is empty: say yes or no to at least one proposal")
    if not claim(db, poll, Poll.closes_at > now()):
        raise Refused(409, f"vote {poll_id} is closed (it closed at "
                           f"{poll.closes_at.isoformat(timespec='minutes')} UTC at the latest)")
    if db.get_one(Round, poll.round_id).state != "open":
        raise Refused(409, f"vote {poll_id} belongs to a round that is already reconciled")
    counts = tallies(db, poll.id)
    unknown = set(choices) - set(counts)
    if unknown:
        raise Refused(422, f"proposal(s) {sorted(unknown)} are not on vote {poll_id}; vote on "
                           f"{sorted(counts)}")
    add_voter(db, Voter(poll_id=poll.id, user_id=a.user.id))
    for proposal_id, count in counts.items():  # in proposal order, every one of them
        choice = choices.get(proposal_id)
        db.execute(update(PollItem)
                   .where(PollItem.poll_id == poll.id, PollItem.proposal_id == proposal_id)
                   .values(yes=count["yes"] + (choice is True),
                           no=count["no"] + (choice is False))
                   .execution_options(synchronize_session=False))
    checkpoint_after_commit(db)
    return {"poll": poll.id, "counted": len(choices)}


def checkpoint_after_commit(db: Session) -> None:
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
    close_due(db, a.plan.id)
    if not claim(db, poll, state="closed", closed_at=now()):
        raise Refused(409, f"vote {poll_id} is already closed")
    _submit_majority(db, poll, a)
    return poll_dict(db, poll, a)
