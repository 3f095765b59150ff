"""SLA gaps: a decision taken back by an SLA reassignment is marked ``credited_at``, so a
load-balanced router's window no longer counts it against the rep who lost the record

Revision ID: 0018_sla_gaps
Revises: 0017_routing_depth
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = "0018_sla_gaps"
down_revision = "0017_routing_depth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("credited_at", connector.store.models.UTCDateTime(),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("credited_at")
