"""converted_file: the NIfTI, sidecar, .bval and .bvec dcm2niix made of each DICOM image, with
the provenance of the run.

Revision ID: d2a7c4e9b1f3
Revises: c5d8e2a4b6f1
Create Date: 2026-12-07 22:40:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'd2a7c4e9b1f3'
down_revision = 'c5d8e2a4b6f1'
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('converted_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=1024), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('provenance', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_converted_file_image_id_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_converted_file')),
    sa.UniqueConstraint('image_id', 'role', name=op.f('uq_converted_file_image_id_role'))
    )
    with op.batch_alter_table('converted_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_converted_file_image_id'), ['image_id'], unique=False)


def downgrade():
    with op.batch_alter_table('converted_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_converted_file_image_id'))

    op.drop_table('converted_file')
