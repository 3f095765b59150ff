"""/v1 API: API keys, rep presence and capacity, rulesets and their versions, leads,
activities

Revision ID: 0011_v1_api
Revises: 0010_hubspot_journal
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0011_v1_api'
down_revision = "0010_hubspot_journal"
branch_labels = None
depends_on = None

_TS = connector.store.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('prefix', sa.String(length=32), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.Column('last_used_at', _TS(timezone=True), nullable=True),
        sa.Column('revoked_at', _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
    )
    op.create_index('ix_api_keys_account_id', 'api_keys', ['account_id'])
    op.create_table(
        'rep_profiles',
        sa.Column('rep_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rep_id'),
    )
    op.create_index('ix_rep_profiles_account_id', 'rep_profiles', ['account_id'])
    op.create_table(
        'rulesets',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=False),
        sa.Column('default_rule', sa.JSON(), nullable=False),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.Column('updated_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rulesets_account_id', 'rulesets', ['account_id'])
    op.create_table(
        'ruleset_versions',
        sa.Column('ruleset_id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=False),
        sa.Column('default_rule', sa.JSON(), nullable=False),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ruleset_id'], ['rulesets.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ruleset_id', 'version'),
    )
    op.create_table(
        'leads',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('contact_id', sa.String(length=36), nullable=True),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('owner_rep_id', sa.String(length=36), nullable=True),
        sa.Column('ruleset_id', sa.String(length=36), nullable=True),
        sa.Column('ruleset_version', sa.Integer(), nullable=True),
        sa.Column('rule_id', sa.String(length=40), nullable=True),
        sa.Column('decision_id', sa.String(length=36), nullable=True),
        sa.Column('reason', sa.JSON(), nullable=False),
        sa.Column('duplicate_of', sa.String(length=36), nullable=True),
        sa.Column('idempotency_key', sa.String(length=200), nullable=True),
        sa.Column('request_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'idempotency_key', name='uq_leads_idempotency'),
    )
    op.create_index('ix_leads_email', 'leads', ['account_id', 'email', 'created_at'])
    op.create_index('ix_leads_list', 'leads', ['account_id', 'created_at', 'id'])
    op.create_table(
        'activities',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('contact_id', sa.String(length=36), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('occurred_at', _TS(timezone=True), nullable=False),
        sa.Column('rep_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['contact_id'], ['objects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_activities_contact', 'activities',
                    ['account_id', 'contact_id', 'occurred_at'])


def downgrade() -> None:
    op.drop_index('ix_activities_contact', table_name='activities')
    op.drop_table('activities')
    op.drop_index('ix_leads_list', table_name='leads')
    op.drop_index('ix_leads_email', table_name='leads')
    op.drop_table('leads')
    op.drop_table('ruleset_versions')
    op.drop_index('ix_rulesets_account_id', table_name='rulesets')
    op.drop_table('rulesets')
    op.drop_index('ix_rep_profiles_account_id', table_name='rep_profiles')
    op.drop_table('rep_profiles')
    op.drop_index('ix_api_keys_account_id', table_name='api_keys')
    op.drop_table('api_keys')
