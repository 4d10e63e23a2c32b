"""image_measure copies its image's search columns (dataset, type, condition, sex, age at scan)
and indexes them with the measure and its value, so that a measure filter and the form's other
filters are one index range (app/models/image_measure.py); the rows already stored get their
image's values.

Revision ID: d8a4f6c2e9b3
Revises: d2a7c4e9b1f3
Create Date: 2026-12-07 22:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd8a4f6c2e9b3'
down_revision = 'd2a7c4e9b1f3'
branch_labels = None
depends_on = None

COPIED = ['dataset_id', 'type', 'search_condition_id', 'search_sex', 'search_age_at_scan']
INDEX = ['measure_id', 'dataset_id', 'type', 'search_condition_id', 'search_sex',
         'search_age_at_scan', 'value_number', 'image_id']
# Written out, not taken from the models: a migration must not follow their later changes.
# UPDATE ... FROM: PostgreSQL, and SQLite since 3.33.
FILL = f"""
UPDATE image_measure SET {', '.join(f'{name} = image.{name}' for name in COPIED)}
FROM image WHERE image.id = image_measure.image_id
"""


def upgrade():
    with op.batch_alter_table('image_measure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dataset_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('search_condition_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('search_sex', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('search_age_at_scan', sa.Double(), nullable=True))
    op.execute(FILL)
    with op.batch_alter_table('image_measure', schema=None) as batch_op:
        batch_op.alter_column('dataset_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('type', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index('ix_image_measure_search', INDEX, unique=False)


def downgrade():
    with op.batch_alter_table('image_measure', schema=None) as batch_op:
        batch_op.drop_index('ix_image_measure_search')
        for name in reversed(COPIED):
            batch_op.drop_column(name)
