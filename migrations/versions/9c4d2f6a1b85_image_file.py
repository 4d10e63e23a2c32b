"""image_file: the files each multi-file image (a DICOM series or part) was built from.

Revision ID: 9c4d2f6a1b85
Revises: b3d9e2f4a611
Create Date: 2026-12-07 16:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c4d2f6a1b85'
down_revision = 'b3d9e2f4a611'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('image_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=1024), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_image_file_image_id_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image_file')),
    sa.UniqueConstraint('image_id', 'key', name=op.f('uq_image_file_image_id_key'))
    )
    with op.batch_alter_table('image_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_file_image_id'), ['image_id'], unique=False)


def downgrade():
    with op.batch_alter_table('image_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_file_image_id'))

    op.drop_table('image_file')
