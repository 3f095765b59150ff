"""hubspot_journal_offsets: how far each app's webhooks journal has been read

Revision ID: 0010_hubspot_journal
Revises: 0009_token_revocation
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = "0010_hubspot_journal"
down_revision = '0009_token_revocation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hubspot_journal_offsets",
        sa.Column("app_key", sa.String(length=100), nullable=False),
        sa.Column("offset", sa.String(length=64), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("read_at", connector.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("gap_at", connector.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("gap_message", sa.Text(), nullable=True),
        sa.Column("updated_at", connector.store.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint("app_key"),
    )


def downgrade() -> None:
    op.drop_table("hubspot_journal_offsets")
