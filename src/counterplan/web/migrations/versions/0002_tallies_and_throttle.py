"""ballots become per-proposal counts; one open vote per unit; login throttling by name,
address and device

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00

- ``poll_items`` gets fixed-width ``yes`` and ``no`` counts, filled from the
  ballots, and ``ballots`` is dropped: nothing is left that could be ordered
  against ``voters``.
- Votes of reconciled rounds are closed, and of several open votes of one
  unit in one round all but the first; then a unique partial index keeps at
  most one open vote per unit and round.
- ``login_failures`` (one row per failure) gives way to ``login_throttle``
  (one counted row per name, address or device) and ``login_devices``.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

DIGITS = 12
ZERO = "0" * DIGITS


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('poll_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('yes', sa.String(length=DIGITS), nullable=True))
        batch_op.add_column(sa.Column('no', sa.String(length=DIGITS), nullable=True))
    counts = bind.execute(sa.text(
        "SELECT poll_id, proposal_id, "
        "SUM(CASE WHEN yes THEN 1 ELSE 0 END), SUM(CASE WHEN yes THEN 0 ELSE 1 END) "
        "FROM ballots GROUP BY poll_id, proposal_id")).all()
    bind.execute(sa.text("UPDATE poll_items SET yes = :zero, no = :zero"), {"zero": ZERO})
    for poll_id, proposal_id, yes, no in counts:
        bind.execute(sa.text("UPDATE poll_items SET yes = :yes, no = :no "
                             "WHERE poll_id = :poll AND proposal_id = :proposal"),
                     {"yes": f"{int(yes):0{DIGITS}d}", "no": f"{int(no):0{DIGITS}d}",
                      "poll": poll_id, "proposal": proposal_id})
    # (on SQLite the table is rebuilt, so no page keeps a trace of the old rows)
    with op.batch_alter_table('poll_items', schema=None) as batch_op:
        batch_op.alter_column('yes', existing_type=sa.String(length=DIGITS), nullable=False)
        batch_op.alter_column('no', existing_type=sa.String(length=DIGITS), nullable=False)
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballots_poll_id'))
    op.drop_table('ballots')

    closed = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    bind.execute(sa.text(
        "UPDATE polls SET state = 'closed', closed_at = :at WHERE state = 'open' AND ("
        "round_id IN (SELECT id FROM rounds WHERE state <> 'open') OR EXISTS ("
        "SELECT 1 FROM polls AS earlier WHERE earlier.round_id = polls.round_id "
        "AND earlier.unit_id = polls.unit_id AND earlier.state = 'open' "
        "AND earlier.id < polls.id))"), {"at": closed})
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.create_index('one_open_poll_per_unit', ['round_id', 'unit_id'], unique=True,
                              sqlite_where=sa.text("state = 'open'"),
                              postgresql_where=sa.text("state = 'open'"))

    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_name'))
    op.drop_table('login_failures')
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.Column('next_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_last_at'), ['last_at'], unique=False)
    op.create_table('login_devices',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('login_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_devices_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('login_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_devices_user_id'))
    op.drop_table('login_devices')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_last_at'))
    op.drop_table('login_throttle')
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_name'), ['name'], unique=False)

    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.drop_index('one_open_poll_per_unit')

    ballots = op.create_table('ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('yes', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_poll_id'), ['poll_id'], unique=False)
    rows = [{"id": uuid.uuid4().hex, "poll_id": poll, "proposal_id": proposal, "yes": vote}
            for poll, proposal, yes, no in bind.execute(sa.text(
                "SELECT poll_id, proposal_id, yes, no FROM poll_items")).all()
            for vote in [True] * int(yes) + [False] * int(no)]
    if rows:
        op.bulk_insert(ballots, rows)
    with op.batch_alter_table('poll_items', schema=None) as batch_op:
        batch_op.drop_column('no')
        batch_op.drop_column('yes')
