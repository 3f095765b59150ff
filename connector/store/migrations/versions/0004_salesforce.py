"""BYOC conversations routed for Salesforce

Revision ID: 0004_salesforce (before: 0004)
Revises: 0003_admin
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0004_salesforce'
down_revision = '0003_admin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('byoc_conversations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('conversation_identifier', sa.String(length=255), nullable=False),
    sa.Column('channel_address', sa.String(length=255), nullable=True),
    sa.Column('object_id', sa.String(length=36), nullable=True),
    sa.Column('router_id', sa.String(length=36), nullable=True),
    sa.Column('decision_id', sa.String(length=36), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('routing_type', sa.String(length=20), nullable=False),
    sa.Column('destination', sa.JSON(), nullable=False),
    sa.Column('request_id', sa.String(length=36), nullable=True),
    sa.Column('psr_id', sa.String(length=40), nullable=True),
    sa.Column('work_item_id', sa.String(length=40), nullable=True),
    sa.Column('routing_correlation_id', sa.String(length=255), nullable=True),
    sa.Column('rep_id', sa.String(length=36), nullable=True),
    sa.Column('salesforce_user_id', sa.String(length=40), nullable=True),
    sa.Column('agent_work_id', sa.String(length=40), nullable=True),
    sa.Column('declined_rep_ids', sa.JSON(), nullable=False),
    sa.Column('route_calls', sa.Integer(), nullable=False),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('routed_at', connector.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', connector.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', connector.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'conversation_identifier', name='uq_byoc_conversation')
    )
    op.create_index('ix_byoc_conversations_state', 'byoc_conversations', ['state', 'routed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_byoc_conversations_state', table_name='byoc_conversations')
    op.drop_table('byoc_conversations')
