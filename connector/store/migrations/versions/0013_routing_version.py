"""accounts.routing_version: the version a router's cached settings and reps are valid at

Revision ID: 0013_routing_version
Revises: 0012_account_mappings
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_routing_version'
down_revision = "0012_account_mappings"
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
