"""Routing depth: companies to match leads against, territory tables, fairness ledgers and
their calibration audit, rep calendar feeds

Revision ID: 0017_routing_depth
Revises: 0016_sla_monitors
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0017_routing_depth'
down_revision = "0016_sla_monitors"
branch_labels = None
depends_on = None

_TS = connector.store.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'companies',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('domain', sa.String(length=255), nullable=True),
        sa.Column('website', sa.String(length=2048), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('owner_rep_id', sa.String(length=36), nullable=True),
        sa.Column('account_team', sa.JSON(), nullable=False),
        sa.Column('last_activity_at', _TS(timezone=True), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('external_id', sa.String(length=255), nullable=False),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.Column('updated_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'source', 'external_id',
                            name='uq_companies_external'),
    )
    op.create_index('ix_companies_account', 'companies', ['account_id', 'created_at', 'id'])
    op.create_table(
        'territories',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('assign_to', sa.String(length=80), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('countries', sa.JSON(), nullable=False),
        sa.Column('regions', sa.JSON(), nullable=False),
        sa.Column('postcodes', sa.JSON(), nullable=False),
        sa.Column('industries', sa.JSON(), nullable=False),
        sa.Column('min_employees', sa.Integer(), nullable=True),
        sa.Column('max_employees', sa.Integer(), nullable=True),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_territories_account', 'territories', ['account_id', 'position'])
    op.create_table(
        'fairness_ledgers',
        sa.Column('router_id', sa.String(length=36), nullable=False),
        sa.Column('rep_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('credits', sa.Integer(), nullable=False),
        sa.Column('calibration', sa.Integer(), nullable=False),
        sa.Column('updated_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['router_id'], ['routers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('router_id', 'rep_id'),
    )
    op.create_index('ix_fairness_ledgers_account_id', 'fairness_ledgers', ['account_id'])
    op.create_table(
        'fairness_calibrations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('router_id', sa.String(length=36), nullable=False),
        sa.Column('rep_id', sa.String(length=36), nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.Column('by', sa.String(length=320), nullable=False),
        sa.Column('why', sa.Text(), nullable=False),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['router_id'], ['routers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_fairness_calibrations_router', 'fairness_calibrations',
                    ['router_id', 'created_at'])
    op.create_table(
        'calendar_feeds',
        sa.Column('rep_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('url_encrypted', sa.Text(), nullable=False),
        sa.Column('etag', sa.String(length=500), nullable=True),
        sa.Column('last_modified', sa.String(length=100), nullable=True),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('fetched_at', _TS(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('failed_at', _TS(timezone=True), nullable=True),
        sa.Column('absences', sa.JSON(), nullable=False),
        sa.Column('created_at', _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rep_id'], ['reps.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('rep_id'),
    )
    op.create_index('ix_calendar_feeds_account_id', 'calendar_feeds', ['account_id'])


def downgrade() -> None:
    for table in ('calendar_feeds', 'fairness_calibrations', 'fairness_ledgers',
                  'territories', 'companies'):
        op.drop_table(table)
