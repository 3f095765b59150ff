"""revoked_tokens: API tokens revoked without rotating the secret, used install states

Revision ID: 0009_token_revocation
Revises: 0008_byoc_offers
"""
import sqlalchemy as sa
from alembic import op

import connector.store.models

revision = '0009_token_revocation'
down_revision = '0008_byoc_offers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revoked_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('expires_at', connector.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', connector.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti')
    )
    op.create_index('ix_revoked_tokens_expires_at', 'revoked_tokens', ['expires_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_revoked_tokens_expires_at', table_name='revoked_tokens')
    op.drop_table('revoked_tokens')
