"""The measure read model: image_measure, the value of each measure that counts for each image
under the default window (app/models/image_measure.py), filled from the stored assessments; and
the image id at the end of ix_image_search, so that a measure filter joins the search index's
candidates to image_measure without reading the image table.

Revision ID: c5d8e2a4b6f1
Revises: a7c3e9f1d2b4
Create Date: 2026-12-07 21:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c5d8e2a4b6f1'
down_revision = 'a7c3e9f1d2b4'
branch_labels = None
depends_on = None

SEARCH = ['dataset_id', 'type', 'search_condition_id', 'search_sex', 'search_age_at_scan',
          'qc_state', 'deleted_at', 'subject_id']


def upgrade():
    op.drop_index('ix_image_search', table_name='image')
    op.create_index('ix_image_search', 'image', [*SEARCH, 'id'], unique=False)
    op.create_table(
        'image_measure',
        sa.Column('image_id', sa.Integer(), nullable=False),
        sa.Column('measure_id', sa.Integer(), nullable=False),
        sa.Column('value_number', sa.Double(), nullable=True),
        sa.Column('value_text', sa.String(length=64), nullable=True),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['image_id'], ['image.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('image_id', 'measure_id'),
    )
    op.create_index('ix_image_measure_number', 'image_measure',
                    ['measure_id', 'value_number', 'image_id'], unique=False)
    op.create_index('ix_image_measure_text', 'image_measure',
                    ['measure_id', 'value_text', 'image_id'], unique=False)
    # The assessments already stored get their rows now; loads and writes keep them right.
    from app.models.image_measure import COLUMNS, ImageMeasure, image_measure_source
    op.get_bind().execute(sa.insert(ImageMeasure).from_select(list(COLUMNS),
                                                              image_measure_source()))


def downgrade():
    op.drop_index('ix_image_measure_text', table_name='image_measure')
    op.drop_index('ix_image_measure_number', table_name='image_measure')
    op.drop_table('image_measure')
    op.drop_index('ix_image_search', table_name='image')
    op.create_index('ix_image_search', 'image', SEARCH, unique=False)
