"""admin console: admin users and the CRM portals/orgs of each account

Revision ID: 0003_admin (before: 0005)
Revises: 0002_mappings
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0003_admin'
down_revision = '0002_mappings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_users',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', connector.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', connector.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_index('ix_admin_users_account_id', 'admin_users', ['account_id'], unique=False)
    op.create_table('account_sources',
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('account_key', sa.String(length=100), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source', 'account_key')
    )
    op.create_index('ix_account_sources_account_id', 'account_sources', ['account_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_account_sources_account_id', table_name='account_sources')
    op.drop_table('account_sources')
    op.drop_index('ix_admin_users_account_id', table_name='admin_users')
    op.drop_table('admin_users')
