"""accounts.routing_version: the version a router's cached settings and reps are valid at

Revision ID: 0016_perf
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0016_perf'
down_revision = '0008'
branch_labels = None
depends_on = None


# plain ALTER TABLE on both databases (SQLite 3.35+ drops columns itself): a batch copy
# of ``accounts`` would drop the old table, and with it, through ON DELETE CASCADE, every
# account's rows in other tables


def upgrade() -> None:
    op.add_column('accounts', sa.Column('routing_version', sa.Integer(), nullable=False,
                                        server_default='0'))


def downgrade() -> None:
    op.drop_column('accounts', 'routing_version')
