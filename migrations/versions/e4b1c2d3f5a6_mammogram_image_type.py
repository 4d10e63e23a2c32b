"""Image type Mammogram: image.type's CHECK constraint accepts it.

Revision ID: e4b1c2d3f5a6
Revises: 318aa87e258e
Create Date: 2026-12-01 15:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4b1c2d3f5a6'
down_revision = '318aa87e258e'
branch_labels = None
depends_on = None

BEFORE = ('T1', 'DWI', 'rsfMRI', 'FieldMap')
AFTER = (*BEFORE, 'Mammogram')


def _allow(types, previous):
    # Batch mode: SQLite cannot alter a constraint, so the table is rebuilt with the new CHECK;
    # PostgreSQL drops and recreates the constraint in place.
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.alter_column(
            'type',
            existing_type=sa.Enum(*previous, name='type', native_enum=False,
                                  create_constraint=True, length=32),
            type_=sa.Enum(*types, name='type', native_enum=False, create_constraint=True,
                          length=32),
            existing_nullable=False)


def upgrade():
    _allow(AFTER, BEFORE)


def downgrade():
    op.execute("DELETE FROM image WHERE type = 'Mammogram'")
    _allow(BEFORE, AFTER)
