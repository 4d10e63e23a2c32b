"""Quality control: the series inventory of visits (series_tag), the tags a study expects
(study_tag), QC reviews (qc_review) and each image's QC state (image.qc_state, default new).

Revision ID: ef8cfc6fc7b2
Revises: e4c1b7a90f21
Create Date: 2026-12-01 15:09:07.381664

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'ef8cfc6fc7b2'
down_revision = 'e4c1b7a90f21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('study_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=64), server_default='', nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('expected_count', sa.Integer(), nullable=False),
    sa.Column('image_type', sa.String(length=32), nullable=True),
    sa.Column('qc_kind', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_study_tag_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_tag')),
    sa.UniqueConstraint('dataset_id', 'site', 'tag', name=op.f('uq_study_tag_dataset_id_site_tag'))
    )
    with op.batch_alter_table('study_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_tag_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('qc_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('new', 'signed_off', 'flagged', 'blacklisted', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_qc_review_image_id_image'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qc_review'))
    )
    with op.batch_alter_table('qc_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qc_review_image_id'), ['image_id'], unique=False)

    op.create_table('series_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.Column('session', sa.String(length=128), nullable=False),
    sa.Column('site', sa.String(length=64), server_default='', nullable=False),
    sa.Column('phantom', sa.Boolean(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('series_number', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=256), server_default='', nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_series_tag_dataset_id_dataset')),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_series_tag_image_id_image'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_series_tag_visit_id_visit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_tag')),
    sa.UniqueConstraint('dataset_id', 'path', name=op.f('uq_series_tag_dataset_id_path'))
    )
    with op.batch_alter_table('series_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_tag_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_tag_image_id'), ['image_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_tag_session'), ['session'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_tag_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qc_state', sa.Enum('new', 'signed_off', 'flagged', 'blacklisted', name='qc_state', native_enum=False, create_constraint=True, length=32), server_default='new', nullable=False))
        batch_op.create_index(batch_op.f('ix_image_qc_state'), ['qc_state'], unique=False)



def downgrade():
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_qc_state'))
        # The CHECK of the allowed states goes first: SQLite's table copy would keep it.
        batch_op.drop_constraint(batch_op.f('ck_image_qc_state'), type_='check')
        batch_op.drop_column('qc_state')

    with op.batch_alter_table('series_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_tag_visit_id'))
        batch_op.drop_index(batch_op.f('ix_series_tag_session'))
        batch_op.drop_index(batch_op.f('ix_series_tag_image_id'))
        batch_op.drop_index(batch_op.f('ix_series_tag_dataset_id'))

    op.drop_table('series_tag')
    with op.batch_alter_table('qc_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qc_review_image_id'))

    op.drop_table('qc_review')
    with op.batch_alter_table('study_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_study_tag_dataset_id'))

    op.drop_table('study_tag')
