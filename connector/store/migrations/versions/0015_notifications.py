"""Notification channels (secrets encrypted) and reps' notification preferences

Revision ID: 0015_notifications
Revises: 0014_lead_crm
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0015_notifications'
down_revision = "0014_lead_crm"
branch_labels = None
depends_on = None

_TS = connector.store.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'notification_channels',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notification_channels_account', 'notification_channels',
                    ['account_id'])
    op.create_table(
        'notification_preferences',
        sa.Column('rep_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('channel_ids', sa.JSON(), nullable=True),
        sa.Column('muted_kinds', sa.JSON(), nullable=False),
        sa.Column('updated_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rep_id'),
    )


def downgrade() -> None:
    op.drop_table('notification_preferences')
    op.drop_index('ix_notification_channels_account', table_name='notification_channels')
    op.drop_table('notification_channels')
