"""load_manifest: what the last load of a dataset from one source read, per file, so that the
next load re-reads only the files that changed.

Revision ID: 5e1f0a2b7c93
Revises: c5f0a9d2e7b1
Create Date: 2026-12-01 17:20:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '5e1f0a2b7c93'
down_revision = 'c5f0a9d2e7b1'
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('load_manifest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('reader', sa.String(length=255), nullable=False),
    sa.Column('files', JSON, nullable=False),
    sa.Column('row_counts', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_load_manifest_dataset_id_dataset'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_load_manifest')),
    sa.UniqueConstraint('dataset_id', 'source', name=op.f('uq_load_manifest_dataset_id_source'))
    )
    with op.batch_alter_table('load_manifest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_load_manifest_dataset_id'), ['dataset_id'], unique=False)


def downgrade():
    with op.batch_alter_table('load_manifest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_load_manifest_dataset_id'))

    op.drop_table('load_manifest')
