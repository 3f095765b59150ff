"""BYOC offers: the connector's own offers to reps and the routings it deleted

``byoc_offers`` records every ``POST v1/agentWork`` offer and every ``DELETE v1/route``
with its reason. ``byoc_conversations.offer_open_at`` marks an offer of the connector's
own that waits for an answer (the only thing the stale-routing sweep may delete), and
``transfer_event_id`` the RoutingRequested event last answered with a routingResult.

Revision ID: 0008_byoc_offers
Revises: 0007_account_sources
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = "0008_byoc_offers"
down_revision = "0007_account_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("byoc_conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offer_open_at",
                                      connector.store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("transfer_event_id", sa.String(length=64),
                                      nullable=True))
        batch_op.create_index("ix_byoc_conversations_offer_open_at", ["offer_open_at"])
    op.create_table(
        "byoc_offers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("rep_id", sa.String(length=36), nullable=True),
        sa.Column("salesforce_user_id", sa.String(length=40), nullable=True),
        sa.Column("agent_work_id", sa.String(length=40), nullable=True),
        sa.Column("psr_id", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", connector.store.models.UTCDateTime(), nullable=False),
        sa.Column("ended_at", connector.store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["byoc_conversations.id"],
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_byoc_offers_conversation_id", "byoc_offers", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_byoc_offers_conversation_id", table_name="byoc_offers")
    op.drop_table("byoc_offers")
    with op.batch_alter_table("byoc_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_byoc_conversations_offer_open_at")
        batch_op.drop_column("transfer_event_id")
        batch_op.drop_column("offer_open_at")
