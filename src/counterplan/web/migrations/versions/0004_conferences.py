"""competition between units: challenges on a measure of the plan

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 22:20:00

- ``challenges``: one unit's public challenge to another on fulfilment, norm
  improvement or a product's delivery over a span of periods; its standings
  are computed from the reports and versions, never stored.  (Production
  conferences need no table: they are read from the published versions.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'challenges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('challenger', sa.String(length=128), nullable=False),
        sa.Column('challenged', sa.String(length=128), nullable=False),
        sa.Column('measure', sa.String(length=16), nullable=False),
        sa.Column('item', sa.String(length=128), nullable=False),
        sa.Column('first_period', sa.String(length=64), nullable=False),
        sa.Column('last_period', sa.String(length=64), nullable=False),
        sa.Column('rules', sa.Text(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_id', 'number'),
    )
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenges_plan_id'), ['plan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenges_plan_id'))
    op.drop_table('challenges')
