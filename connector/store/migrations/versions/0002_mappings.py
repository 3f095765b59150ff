"""mapping versions

Revision ID: 0002_mappings (before: 0003)
Revises: 0001_initial_schema
Create Date: 2026-11-23 08:00:00
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0002_mappings'
down_revision = '0001_initial_schema'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mapping_versions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('object', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('yaml_text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.Column('created_at', connector.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'object', 'version', name='uq_mapping_versions')
    )


def downgrade() -> None:
    op.drop_table('mapping_versions')
