"""Image search read model: the subject's, visit's and scanner's values the API filters images
by, copied onto image with one composite index, and filled in for the images already stored.

Revision ID: b3d5e8f1a2c4
Revises: b3c9d41e7f20
Create Date: 2026-12-01 15:55:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3d5e8f1a2c4'
down_revision = 'b3c9d41e7f20'
branch_labels = None
depends_on = None

SEXES = ('female', 'male', 'other', 'unknown')

# The same rules as app/models/search.py, written out: a migration must not follow later
# changes of the models.
FILL = """
UPDATE image SET
  search_condition_id = COALESCE(
    (SELECT visit.condition_id FROM visit WHERE visit.id = image.visit_id),
    (SELECT subject.condition_id FROM subject WHERE subject.id = image.subject_id)),
  search_sex = (SELECT subject.sex FROM subject WHERE subject.id = image.subject_id),
  search_age_at_scan = (SELECT subject.age_at_baseline FROM subject
                        WHERE subject.id = image.subject_id)
    + CAST(COALESCE(image.days_since_baseline,
                    (SELECT visit.days_since_baseline FROM visit WHERE visit.id = image.visit_id))
           AS FLOAT) / 365.25,
  search_field_strength = (SELECT scanner.field_strength FROM scanner
                           WHERE scanner.id = image.scanner_id),
  search_manufacturer = (SELECT lower(scanner.manufacturer) FROM scanner
                         WHERE scanner.id = image.scanner_id)
"""


def upgrade():
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_condition_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('search_sex', sa.Enum(
            *SEXES, name='search_sex', native_enum=False, create_constraint=True, length=32),
            nullable=True))
        batch_op.add_column(sa.Column('search_age_at_scan', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('search_field_strength', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('search_manufacturer', sa.String(length=128),
                                      nullable=True))
        batch_op.create_index('ix_image_search', ['dataset_id', 'type', 'search_condition_id',
                                                  'search_sex', 'search_age_at_scan', 'qc_state',
                                                  'deleted_at', 'subject_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_image_search_field_strength'),
                              ['search_field_strength'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_search_manufacturer'),
                              ['search_manufacturer'], unique=False)
    op.execute(FILL)


def downgrade():
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_search_manufacturer'))
        batch_op.drop_index(batch_op.f('ix_image_search_field_strength'))
        batch_op.drop_index('ix_image_search')
        batch_op.drop_column('search_manufacturer')
        batch_op.drop_column('search_field_strength')
        batch_op.drop_column('search_age_at_scan')
        batch_op.drop_constraint('search_sex', type_='check')
        batch_op.drop_column('search_sex')
        batch_op.drop_column('search_condition_id')
