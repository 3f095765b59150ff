"""decisions remember their inbox event; mirrored objects their CRM tenant

Revision ID: 0006_integrity (before: 0007)
Revises: 0005_hubspot
Create Date: 2026-11-23 08:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_integrity'
down_revision = '0005_hubspot'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inbox_event_id', sa.String(length=36), nullable=True))
        batch_op.create_index('uq_decisions_inbox_event',
                              ['inbox_event_id', 'router_id', 'object_id'], unique=True)
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_account', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.drop_column('source_account')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('uq_decisions_inbox_event')
        batch_op.drop_column('inbox_event_id')
