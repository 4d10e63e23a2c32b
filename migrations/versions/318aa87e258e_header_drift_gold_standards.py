"""Header drift: gold-standard headers per dataset, site and tag, in versions (gold_standard),
and each image's differences from its tag's current standard (header_drift).

Revision ID: 318aa87e258e
Revises: ef8cfc6fc7b2
Create Date: 2026-12-01 15:15:39.631857

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '318aa87e258e'
down_revision = 'ef8cfc6fc7b2'
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('gold_standard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=64), server_default='', nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('header', JSON, nullable=False),
    sa.Column('ignore', JSON, nullable=False),
    sa.Column('tolerances', JSON, nullable=False),
    sa.Column('source_image_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_gold_standard_dataset_id_dataset')),
    sa.ForeignKeyConstraint(['source_image_id'], ['image.id'], name=op.f('fk_gold_standard_source_image_id_image'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gold_standard')),
    sa.UniqueConstraint('dataset_id', 'site', 'tag', 'version', name=op.f('uq_gold_standard_dataset_id_site_tag_version'))
    )
    with op.batch_alter_table('gold_standard', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gold_standard_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('header_drift',
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('gold_standard_id', sa.Integer(), nullable=False),
    sa.Column('standard_version', sa.Integer(), nullable=False),
    sa.Column('drifted', sa.Boolean(), nullable=False),
    sa.Column('differences', JSON, nullable=False),
    sa.ForeignKeyConstraint(['gold_standard_id'], ['gold_standard.id'], name=op.f('fk_header_drift_gold_standard_id_gold_standard'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_header_drift_image_id_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', name=op.f('pk_header_drift'))
    )
    with op.batch_alter_table('header_drift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_header_drift_drifted'), ['drifted'], unique=False)
        batch_op.create_index(batch_op.f('ix_header_drift_gold_standard_id'), ['gold_standard_id'], unique=False)



def downgrade():
    with op.batch_alter_table('header_drift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_header_drift_gold_standard_id'))
        batch_op.drop_index(batch_op.f('ix_header_drift_drifted'))

    op.drop_table('header_drift')
    with op.batch_alter_table('gold_standard', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gold_standard_dataset_id'))

    op.drop_table('gold_standard')
