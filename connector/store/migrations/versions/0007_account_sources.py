"""one mapping of CRM portals/orgs to accounts: account_sources

HubSpot portals were mapped to accounts in hubspot_portals.account_id, the console's
links in account_sources. The portals' mapping moves into account_sources (a portal
connected through OAuth or ``hubspot connect`` wins over a console link of the same
portal: it was proved by an install or set by an operator for routing), and
hubspot_portals keeps only the tokens. account_sources gets ``created_at`` so an
account's first connected portal stays its default one.

Revision ID: 0007_account_sources (before: 0008)
Revises: 0006_integrity
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0007_account_sources'
down_revision = '0006_integrity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    now = datetime.now(UTC)
    with op.batch_alter_table('account_sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at',
                                      connector.store.models.UTCDateTime(timezone=True),
                                      nullable=True))
    sources = sa.table('account_sources', sa.column('source'), sa.column('account_key'),
                       sa.column('account_id'),
                       sa.column('created_at', connector.store.models.UTCDateTime()))
    portals = sa.table('hubspot_portals', sa.column('portal_id'), sa.column('account_id'),
                       sa.column('created_at', connector.store.models.UTCDateTime()))
    conn = op.get_bind()
    linked = {(s, k): a for s, k, a in conn.execute(
        sa.select(sources.c.source, sources.c.account_key, sources.c.account_id))}
    for portal_id, account_id, created_at in conn.execute(
            sa.select(portals.c.portal_id, portals.c.account_id, portals.c.created_at)).all():
        key = ('hubspot', portal_id)
        if key not in linked:
            conn.execute(sources.insert().values(source='hubspot', account_key=portal_id,
                                                 account_id=account_id,
                                                 created_at=created_at or now))
        elif linked[key] != account_id:
            conn.execute(sources.update().where(sources.c.source == 'hubspot',
                                                sources.c.account_key == portal_id)
                         .values(account_id=account_id, created_at=created_at or now))
    conn.execute(sources.update().where(sources.c.created_at.is_(None)).values(created_at=now))
    with op.batch_alter_table('account_sources', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=connector.store.models.UTCDateTime(
            timezone=True), nullable=False)
    with op.batch_alter_table('hubspot_portals', schema=None) as batch_op:
        batch_op.drop_index('ix_hubspot_portals_account_id')
        batch_op.drop_column('account_id')


def downgrade() -> None:
    with op.batch_alter_table('hubspot_portals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.String(length=36), nullable=True))
    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE hubspot_portals SET account_id = (SELECT s.account_id FROM account_sources s "
        "WHERE s.source = 'hubspot' AND s.account_key = hubspot_portals.portal_id)"))
    conn.execute(sa.text("DELETE FROM hubspot_portals WHERE account_id IS NULL"))
    conn.execute(sa.text(
        "INSERT INTO hubspot_portals (portal_id, account_id, created_at, updated_at) "
        "SELECT s.account_key, s.account_id, s.created_at, s.created_at "
        "FROM account_sources s WHERE s.source = 'hubspot' AND s.account_key NOT IN "
        "(SELECT portal_id FROM hubspot_portals)"))
    with op.batch_alter_table('hubspot_portals', schema=None) as batch_op:
        batch_op.alter_column('account_id', existing_type=sa.String(length=36),
                              nullable=False)
        batch_op.create_foreign_key('fk_hubspot_portals_account_id', 'accounts',
                                    ['account_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_hubspot_portals_account_id', ['account_id'], unique=False)
    with op.batch_alter_table('account_sources', schema=None) as batch_op:
        batch_op.drop_column('created_at')
