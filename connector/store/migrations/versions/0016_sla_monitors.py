"""SLA monitors and the stored clocks of the records they watch

Revision ID: 0016_sla_monitors
Revises: 0015_notifications
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = "0016_sla_monitors"
down_revision = "0015_notifications"
branch_labels = None
depends_on = None

_TS = connector.store.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "sla_monitors",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("router_id", sa.String(length=36), nullable=True),
        sa.Column("ruleset_id", sa.String(length=36), nullable=True),
        sa.Column("condition", sa.String(length=20), nullable=False),
        sa.Column("duration", sa.String(length=40), nullable=False),
        sa.Column("clock", sa.String(length=10), nullable=False),
        sa.Column("reminders", sa.JSON(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("manager_emails", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("updated_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sla_monitors_account_id", "sla_monitors", ["account_id"])
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("monitor_id", sa.String(length=36), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("router_id", sa.String(length=36), nullable=True),
        sa.Column("decision_id", sa.String(length=36), nullable=True),
        sa.Column("rep_id", sa.String(length=36), nullable=True),
        sa.Column("reps", sa.JSON(), nullable=False),
        sa.Column("started_at", _TS(timezone=True), nullable=False),
        sa.Column("deadline_at", _TS(timezone=True), nullable=False),
        sa.Column("next_check_at", _TS(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("stages_done", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("stopped_at", _TS(timezone=True), nullable=True),
        sa.Column("stopped_by", sa.JSON(), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("updated_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["monitor_id"], ["sla_monitors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["object_id"], ["objects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sla_clocks_monitor_id", "sla_clocks", ["monitor_id"])
    op.create_index("ix_sla_clocks_due", "sla_clocks", ["state", "next_check_at"])
    op.create_index("ix_sla_clocks_object", "sla_clocks", ["account_id", "object_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_object", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_due", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_monitor_id", table_name="sla_clocks")
    op.drop_table("sla_clocks")
    op.drop_index("ix_sla_monitors_account_id", table_name="sla_monitors")
    op.drop_table("sla_monitors")
