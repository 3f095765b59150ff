"""/v1 leads: the CRM record each lead was found or created as, and that sync's state

Revision ID: 0014_lead_crm
Revises: 0013_routing_version
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_lead_crm"
down_revision = "0013_routing_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("crm", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("crm_record_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("crm_sync_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("crm_sync_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        for column in ("crm_sync_error", "crm_sync_status", "crm_record_id", "crm"):
            batch.drop_column(column)
