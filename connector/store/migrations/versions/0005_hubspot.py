"""hubspot portals and owner writes

Revision ID: 0005_hubspot (before: 0002)
Revises: 0004_salesforce
Create Date: 2026-11-23 07:50:00
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0005_hubspot'
down_revision = '0004_salesforce'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hubspot_portals',
    sa.Column('portal_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('access_token_enc', sa.Text(), nullable=True),
    sa.Column('refresh_token_enc', sa.Text(), nullable=True),
    sa.Column('expires_at', connector.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', connector.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', connector.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('portal_id')
    )
    with op.batch_alter_table('hubspot_portals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hubspot_portals_account_id'), ['account_id'], unique=False)

    op.create_table('hubspot_owner_writes',
    sa.Column('portal_id', sa.String(length=32), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=100), nullable=False),
    sa.Column('owner_id', sa.String(length=100), nullable=False),
    sa.Column('written_at', connector.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('portal_id', 'object_type', 'record_id')
    )


def downgrade() -> None:
    op.drop_table('hubspot_owner_writes')
    with op.batch_alter_table('hubspot_portals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hubspot_portals_account_id'))
    op.drop_table('hubspot_portals')
