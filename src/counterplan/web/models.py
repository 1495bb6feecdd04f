"""The web application's tables (SQLAlchemy 2.0).

The state of a federation's planning: accounts and their sessions, plans and
their immutable versions, who holds which role for which unit, rounds of
counter-planning, proposals with their verdicts, secret ballots, the
reconciliation's outcome for each proposal, and the units' reports.

Two rules shape the tables:

- a version is never changed once written (economy and solved plan are kept
  as zipped plan folders); publishing a version is a row of its own;
- a ballot cannot be linked to a voter because no ballot is kept: casting
  one adds a row to ``voters`` (who has voted, never how) and rewrites the
  yes and no counts of *every* proposal of the vote, in one transaction.
  The counts are written at a fixed width, so every rewrite has the same
  size and the same place whatever was chosen (docs/web.md, "Secret
  ballots", says what this does and does not protect against).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("office", "delegate", "member")
#: Most characters of a note (of a proposal or a report), on every path in.
MAX_NOTE = 2000
#: Most characters of any other cell of a counter-plan (ids, periods, values).
MAX_CELL = 200


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class AuthSession(Base):
    """A logged-in browser or client: the cookie holds the token, the table
    only its SHA-256."""

    __tablename__ = "auth_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class LoginThrottle(Base):
    """Recent failed logins under one key: ``name:<user name>``,
    ``addr:<client address>`` or ``device:<device cookie hash>``.
    ``next_at`` is when the key may try again; rows are pruned once their
    last failure is older than the throttling window."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    next_at: Mapped[dt.datetime] = mapped_column(DateTime)


class LoginDevice(Base):
    """A browser or client where a user logged in: its cookie's SHA-256.
    Failed logins from it are throttled per device, not per name, so that
    strangers failing on a name do not lock its owner out."""

    __tablename__ = "login_devices"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Membership(Base):
    """A role a user holds in a plan: office (unit_id empty), or delegate or
    member of one unit."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("plan_id", "user_id", "role", "unit_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str] = mapped_column(String(128), default="")


class Version(Base):
    """One immutable version of a plan: the economy and its solved plan, each
    a zipped plan folder."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    round_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    economy_zip: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    plan_zip: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    objective: Mapped[float] = mapped_column(Float)
    input_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True)


class Publication(Base):
    """The office published a version; the latest publication is the plan in force."""

    __tablename__ = "publications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True)


class Round(Base):
    """A round of counter-planning on a published version: open (units
    propose, vote and submit), then reconciled into a new version."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    state: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Proposal(Base):
    """A counter-plan of one unit in one round, with the verdict it got the
    moment it was made.  ``rows`` is the counter-plan in the CSV's columns,
    as JSON."""

    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                          index=True)
    unit_id: Mapped[str] = mapped_column(String(128), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    rows: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[str] = mapped_column(String(16))
    share: Mapped[float] = mapped_column(Float)
    objective_before: Mapped[float] = mapped_column(Float)
    objective_after: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True)


class Outcome(Base):
    """What the reconciliation made of a submitted proposal."""

    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("version_id", "proposal_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    verdict: Mapped[str] = mapped_column(String(16))
    share: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)


class Poll(Base):
    """A unit's vote on which of its proposals it submits.  A unit has at
    most one open vote in a round (a unique partial index), so a proposal,
    which belongs to one unit, is in at most one open vote."""

    __tablename__ = "polls"
    __table_args__ = (Index("one_open_poll_per_unit", "round_id", "unit_id", unique=True,
                            sqlite_where=text("state = 'open'"),
                            postgresql_where=text("state = 'open'")),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                          index=True)
    unit_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    #: When the vote closes itself (docs/web.md, "Every vote has a closing time").
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


COUNT_DIGITS = 12


class Count(TypeDecorator[int]):
    """A whole number >= 0 kept as text of COUNT_DIGITS digits: every value
    takes the same room, so rewriting a count never moves its row on the
    page (SQLite stores small integers in fewer bytes than large ones)."""

    impl = String(COUNT_DIGITS)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str:
        return f"{int(value):0{COUNT_DIGITS}d}"

    def process_result_value(self, value: Any, dialect: Dialect) -> int:
        return int(value)


class PollItem(Base):
    """A proposal on a vote, with its running yes and no counts: the only
    trace of the ballots (there is no table of ballots)."""

    __tablename__ = "poll_items"
    __table_args__ = (UniqueConstraint("poll_id", "proposal_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    yes: Mapped[int] = mapped_column(Count, default=0)
    no: Mapped[int] = mapped_column(Count, default=0)


class Voter(Base):
    """That a member has voted in a poll, and nothing about how."""

    __tablename__ = "voters"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class Report(Base):
    """A unit's actual activity of one technique in one period, against the
    version in force; the latest report of a cell counts, none is deleted."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(128), index=True)
    technique: Mapped[str] = mapped_column(String(128))
    period: Mapped[str] = mapped_column(String(64))
    activity: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    #: the day the activity runs to, from the period's first day (cumulative);
    #: None for a report of the whole period (docs/cycle.md, "In the web application")
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


# -- the plan cycle: exceptions raised by the monitor, and where they go --------------

#: Where an exception is: with the unit, acknowledged by it, escalated to the
#: office's board, or closed because the index recovered.
EXCEPTION_STATES = ("unit", "acknowledged", "escalated", "recovered")
#: Reports of an index after an exception, unacknowledged and not recovered,
#: before it goes to the office's board (a plan's default).
ESCALATE_AFTER = 3


class CycleSettings(Base):
    """A plan's settings of the plan cycle, when the office changed a default."""

    __tablename__ = "cycle_settings"
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"),
                                         primary_key=True)
    escalate_after: Mapped[int] = mapped_column(Integer, default=ESCALATE_AFTER)


class PlanException(Base):
    """An exception the monitor raised on one index (a unit's, technique ''
    for the unit's own): first the unit's, which may acknowledge it with a
    note; escalated to the office's board when it is neither acknowledged nor
    recovered after the plan's number of reports of the index."""

    __tablename__ = "plan_exceptions"
    __table_args__ = (UniqueConstraint("plan_id", "unit_id", "technique", "date", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"),
                                         index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    unit_id: Mapped[str] = mapped_column(String(128))
    technique: Mapped[str] = mapped_column(String(128))
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    probability: Mapped[float] = mapped_column(Float)
    forecast: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="unit")
    reports_since: Mapped[int] = mapped_column(Integer, default=0)
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    acknowledged_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


# -- competition between units (issue 14) ----------------------------------------------

#: What units may compete on: their fulfilment, their norms, a product's delivery.
MEASURES = ("fulfilment", "norms", "delivery")
CHALLENGE_STATES = ("proposed", "accepted", "declined")


class Challenge(Base):
    """One unit's open challenge to another on a measure of the plan over a
    span of periods, public within the plan.  Its standings are never stored:
    they are computed from the units' reports and the versions each time.
    ``version_id`` is the version in force when it was made (the norms'
    starting point); ``item`` the product of a delivery challenge."""

    __tablename__ = "challenges"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    challenger: Mapped[str] = mapped_column(String(128))
    challenged: Mapped[str] = mapped_column(String(128))
    measure: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(128), default="")
    first_period: Mapped[str] = mapped_column(String(64), default="")
    last_period: Mapped[str] = mapped_column(String(64), default="")
    rules: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


# -- governing the plan from below: elections and recalls, criticism, plan
# variants (docs/web.md, "Governing the plan").  Every vote here is a secret
# ballot of the same design as ``polls``: counts per option rewritten whole by
# every ballot (``election_options``), who voted (``election_voters``), never
# how. ------------------------------------------------------------------------------

#: The seats that are elected and may be recalled.
SEATS = ("delegate", "office")
#: What an election decides: a seat, a recall, or the plan's next version.
ELECTION_KINDS = ("delegate", "office", "recall", "variants")


class PlanRules(Base):
    """The rules of a plan's self-government, set by its office within
    fixed bounds (so that no rule makes a recall impossible)."""

    __tablename__ = "plan_rules"
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"),
                                         primary_key=True)
    term_days: Mapped[int] = mapped_column(Integer, default=365)
    recall_share: Mapped[float] = mapped_column(Float, default=1 / 3)
    answer_days: Mapped[int] = mapped_column(Integer, default=14)
    vote_days: Mapped[int] = mapped_column(Integer, default=7)
    #: Who elects and recalls the office: "members" or "delegates".
    office_electorate: Mapped[str] = mapped_column(String(16), default="members")


class Term(Base):
    """A seat held by election (``election_id``), or by the office's
    appointment before any election; ``ended_at`` and ``end`` say when and
    how it ended (recalled, replaced by an election)."""

    __tablename__ = "terms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str] = mapped_column(String(128), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                nullable=True)
    election_id: Mapped[int | None] = mapped_column(ForeignKey("elections.id"), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    end: Mapped[str] = mapped_column(String(16), default="")


class Election(Base):
    """A secret vote of the plan's self-government: who holds a seat, a
    recall (``subject_id`` is the holder), or which variant becomes the next
    version.  It closes itself at ``closes_at``."""

    __tablename__ = "elections"
    __table_args__ = (Index("one_open_election_per_seat", "plan_id", "kind", "role", "unit_id",
                            unique=True, sqlite_where=text("state = 'open'"),
                            postgresql_where=text("state = 'open'")),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16), default="")
    unit_id: Mapped[str] = mapped_column(String(128), default="")
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                   nullable=True)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"),
                                                        nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    electorate: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                  nullable=True)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(Text, default="")


class ElectionOption(Base):
    """A candidate, the recall itself, or a variant, with its running yes
    and no counts: the only trace of the ballots."""

    __tablename__ = "election_options"
    __table_args__ = (UniqueConstraint("election_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"),
                                             index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                nullable=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    yes: Mapped[int] = mapped_column(Count, default=0)
    no: Mapped[int] = mapped_column(Count, default=0)


class ElectionVoter(Base):
    """That someone has voted in an election, and nothing about how."""

    __tablename__ = "election_voters"
    __table_args__ = (UniqueConstraint("election_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class Petition(Base):
    """A petition to recall the holder of a seat: once ``needed`` people
    of the electorate have signed, the recall vote opens (``election_id``)."""

    __tablename__ = "petitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str] = mapped_column(String(128), default="")
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                   nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    needed: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime)
    election_id: Mapped[int | None] = mapped_column(ForeignKey("elections.id"), nullable=True)


class Signature(Base):
    """Who signed a petition (shown as a number, never as names)."""

    __tablename__ = "petition_signatures"
    __table_args__ = (UniqueConstraint("petition_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class Criticism(Base):
    """A criticism addressed to a unit's delegate or to the office, to be
    answered in public by ``due_at``.  ``author_id`` is empty when it was
    sent without a name: then nothing in the database links it to its
    author, and its day (``written_on``, midnight) is kept, not its time."""

    __tablename__ = "criticisms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[str] = mapped_column(String(128), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                  nullable=True)
    text: Mapped[str] = mapped_column(Text)
    written_on: Mapped[dt.datetime] = mapped_column(DateTime)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                    nullable=True)
    hidden_ground: Mapped[str] = mapped_column(String(32), default="")
    hidden_note: Mapped[str] = mapped_column(Text, default="")
    hidden_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                  nullable=True)
