"""the plan cycle: dated reports, exceptions with their escalation, a plan's cycle settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 22:00:00

- ``reports`` gets ``date``: the day a report's cumulative activity runs to
  (empty for the existing reports, each of a whole period).
- ``plan_exceptions``: the exceptions the monitor raised, where each is
  (with the unit, acknowledged, escalated to the office's board, recovered)
  and the unit's note.
- ``cycle_settings``: a plan's number of reports before an exception goes to
  the office's board, when the office changed the default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date', sa.Date(), nullable=True))
    op.create_table('cycle_settings',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('escalate_after', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id')
    )
    op.create_table('plan_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=128), nullable=False),
    sa.Column('technique', sa.String(length=128), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('forecast', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reports_since', sa.Integer(), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'unit_id', 'technique', 'date', 'kind')
    )
    with op.batch_alter_table('plan_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_exceptions_plan_id'), ['plan_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_exceptions_plan_id'))
    op.drop_table('plan_exceptions')
    op.drop_table('cycle_settings')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('date')
