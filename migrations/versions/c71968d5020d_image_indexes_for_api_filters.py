"""Image indexes for the API filters: (dataset_id, type) and (subject_id, type).

Revision ID: c71968d5020d
Revises: 5ca207fbe79e
Create Date: 2026-11-21 11:34:23.224876

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c71968d5020d'
down_revision = '5ca207fbe79e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.create_index('ix_image_dataset_id_type', ['dataset_id', 'type'], unique=False)
        batch_op.create_index('ix_image_subject_id_type', ['subject_id', 'type'], unique=False)


def downgrade():
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.drop_index('ix_image_subject_id_type')
        batch_op.drop_index('ix_image_dataset_id_type')
