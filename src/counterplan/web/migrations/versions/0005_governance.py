"""governing the plan from below: elected and recallable delegates and office, criticism
that must be answered, plan variants chosen by every member; every vote has a closing time

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 21:54:23

- ``plan_rules``, ``terms``, ``elections`` with ``election_options`` (fixed-width yes
  and no counts, as ``poll_items``) and ``election_voters``, ``petitions`` with
  ``petition_signatures``, and ``criticisms``.
- ``polls.closes_at``: a vote open now closes itself seven days from the upgrade; a
  closed one gets the time it closed.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('criticisms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=128), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('written_on', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('hidden_ground', sa.String(length=32), nullable=False),
    sa.Column('hidden_note', sa.Text(), nullable=False),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['hidden_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('criticisms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criticisms_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_rules',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('term_days', sa.Integer(), nullable=False),
    sa.Column('recall_share', sa.Float(), nullable=False),
    sa.Column('answer_days', sa.Integer(), nullable=False),
    sa.Column('vote_days', sa.Integer(), nullable=False),
    sa.Column('office_electorate', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id')
    )
    op.create_table('elections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=128), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('base_version_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('electorate', sa.Integer(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['base_version_id'], ['versions.id'], ),
    sa.ForeignKeyConstraint(['opened_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('elections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_elections_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index('one_open_election_per_seat', ['plan_id', 'kind', 'role', 'unit_id'],
                unique=True, sqlite_where=sa.text("state = 'open'"),
                postgresql_where=sa.text("state = 'open'"))

    op.create_table('election_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('yes', sa.String(length=12), nullable=False),
    sa.Column('no', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'position')
    )
    with op.batch_alter_table('election_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_election_options_election_id'), ['election_id'],
                unique=False)

    op.create_table('election_voters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('election_id', 'user_id')
    )
    with op.batch_alter_table('election_voters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_election_voters_election_id'), ['election_id'],
                unique=False)

    op.create_table('petitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=128), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('needed', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petitions_plan_id'), ['plan_id'], unique=False)

    op.create_table('terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('election_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_terms_plan_id'), ['plan_id'], unique=False)

    op.create_table('petition_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('petition_id', 'user_id')
    )
    with op.batch_alter_table('petition_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_signatures_petition_id'), ['petition_id'],
                unique=False)

    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closes_at', sa.DateTime(), nullable=True))
    upgraded = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE polls SET closes_at = :at WHERE state = 'open'"),
                 {"at": upgraded + dt.timedelta(days=7)})
    bind.execute(sa.text("UPDATE polls SET closes_at = coalesce(closed_at, opened_at) "
                         "WHERE state <> 'open'"))
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.alter_column('closes_at', existing_type=sa.DateTime(), nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.drop_column('closes_at')

    with op.batch_alter_table('petition_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_signatures_petition_id'))

    op.drop_table('petition_signatures')
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_terms_plan_id'))

    op.drop_table('terms')
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petitions_plan_id'))

    op.drop_table('petitions')
    with op.batch_alter_table('election_voters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_election_voters_election_id'))

    op.drop_table('election_voters')
    with op.batch_alter_table('election_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_election_options_election_id'))

    op.drop_table('election_options')
    with op.batch_alter_table('elections', schema=None) as batch_op:
        batch_op.drop_index('one_open_election_per_seat', sqlite_where=sa.text("state = 'open'"),
                postgresql_where=sa.text("state = 'open'"))
        batch_op.drop_index(batch_op.f('ix_elections_plan_id'))

    op.drop_table('elections')
    op.drop_table('plan_rules')
    with op.batch_alter_table('criticisms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criticisms_plan_id'))

    op.drop_table('criticisms')
