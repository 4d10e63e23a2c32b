"""Saved cohorts: a frozen /images query (cohort) and its manifest rows (cohort_image).

Revision ID: e4c1b7a90f21
Revises: a7e30fd0ae64
Create Date: 2026-12-01 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'e4c1b7a90f21'
down_revision = 'a7e30fd0ae64'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('key_name', sa.String(length=128), nullable=False),
    sa.Column('query', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('image_count', sa.Integer(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort'))
    )
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_key_name'), ['key_name'], unique=False)

    op.create_table('cohort_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('subject_external_id', sa.String(length=64), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('checksum', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_cohort_image_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_cohort_image_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_image')),
    sa.UniqueConstraint('cohort_id', 'position', name=op.f('uq_cohort_image_cohort_id_position'))
    )
    with op.batch_alter_table('cohort_image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_image_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_image_image_id'), ['image_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cohort_image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_image_image_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_image_dataset_id'))
    op.drop_table('cohort_image')
    with op.batch_alter_table('cohort', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_key_name'))
    op.drop_table('cohort')
