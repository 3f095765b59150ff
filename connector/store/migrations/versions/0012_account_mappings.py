"""per-account field mappings: mapping_versions.account_id

A saved mapping version belonged to everyone. From now on a version belongs to one
account (its own edits), or to nobody: a version of the defaults, which only the
operator saves. Existing versions were made for every account at once, so they stay
defaults (account_id NULL) and nothing any account routes with changes.

Version numbers count per account and per the defaults, so the single unique constraint
becomes two: one over accounts' versions, one (partial) over the defaults', since a plain
constraint treats NULL account ids as all different.

Revision ID: 0012_account_mappings
Revises: 0011_v1_api
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_account_mappings'
down_revision = "0011_v1_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mapping_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.String(length=36), nullable=True))
        batch_op.drop_constraint('uq_mapping_versions', type_='unique')
        batch_op.create_unique_constraint('uq_mapping_versions_account',
                                          ['account_id', 'source', 'object', 'version'])
        batch_op.create_foreign_key('fk_mapping_versions_account_id', 'accounts',
                                    ['account_id'], ['id'], ondelete='CASCADE')
    op.create_index('uq_mapping_versions_default', 'mapping_versions',
                    ['source', 'object', 'version'], unique=True,
                    sqlite_where=sa.text('account_id IS NULL'),
                    postgresql_where=sa.text('account_id IS NULL'))


def downgrade() -> None:
    op.execute(sa.text('DELETE FROM mapping_versions WHERE account_id IS NOT NULL'))
    op.drop_index('uq_mapping_versions_default', table_name='mapping_versions')
    with op.batch_alter_table('mapping_versions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_mapping_versions_account_id', type_='foreignkey')
        batch_op.drop_constraint('uq_mapping_versions_account', type_='unique')
        batch_op.create_unique_constraint('uq_mapping_versions',
                                          ['source', 'object', 'version'])
        batch_op.drop_column('account_id')
