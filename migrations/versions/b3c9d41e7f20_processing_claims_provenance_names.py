"""Processing: the claim queue with leases, derived files' size, QC value and provenance id,
and RADIFOX-style predicted and manual image names.

Revision ID: b3c9d41e7f20
Revises: e4b1c2d3f5a6
Create Date: 2026-12-01 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3c9d41e7f20'
down_revision = 'e4b1c2d3f5a6'
branch_labels = None
depends_on = None

CLAIM_STATES = ('pending', 'leased', 'done', 'failed')


def upgrade():
    op.create_table('claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=128), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum(*CLAIM_STATES, name='state', native_enum=False, create_constraint=True, length=32), server_default='pending', nullable=False),
    sa.Column('worker', sa.String(length=255), nullable=True),
    sa.Column('lease_token', sa.String(length=64), nullable=True),
    sa.Column('leased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_claim_image_id_image')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_claim_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim')),
    sa.UniqueConstraint('task', 'image_id', name=op.f('uq_claim_task_image_id'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index('ix_claim_task_state', ['task', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('uq_claim_task_subject_id', ['task', 'subject_id'], unique=True,
                              sqlite_where=sa.text('image_id IS NULL'),
                              postgresql_where=sa.text('image_id IS NULL'))

    with op.batch_alter_table('preprocess_task_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('qc_value', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('provenance_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_preprocess_task_file_provenance_id'), ['provenance_id'], unique=False)

    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.add_column(sa.Column('predicted_name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('manual_name', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.drop_column('manual_name')
        batch_op.drop_column('predicted_name')

    with op.batch_alter_table('preprocess_task_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preprocess_task_file_provenance_id'))
        batch_op.drop_column('provenance_id')
        batch_op.drop_column('qc_value')
        batch_op.drop_column('file_size')

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('uq_claim_task_subject_id')
        batch_op.drop_index(batch_op.f('ix_claim_subject_id'))
        batch_op.drop_index('ix_claim_task_state')
    op.drop_table('claim')
