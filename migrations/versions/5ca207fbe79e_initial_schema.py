"""Initial schema: datasets, subjects, visits, images, conditions, scanners, processing, API keys, load runs.

Revision ID: 5ca207fbe79e
Revises: 
Create Date: 2026-11-21 11:27:04.312515

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '5ca207fbe79e'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=16), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('name', name=op.f('uq_api_key_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_key_token_hash'))
    )
    op.create_table('condition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('designation', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_condition')),
    sa.UniqueConstraint('designation', name=op.f('uq_condition_designation'))
    )
    op.create_table('dataset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('designation', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('storage_prefix', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset')),
    sa.UniqueConstraint('designation', name=op.f('uq_dataset_designation'))
    )
    op.create_table('file_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('designation', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_type')),
    sa.UniqueConstraint('designation', name=op.f('uq_file_type_designation'))
    )
    op.create_table('preprocess_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=255), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preprocess_task'))
    )
    with op.batch_alter_table('preprocess_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preprocess_task_module'), ['module'], unique=False)

    op.create_table('dataset_condition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('source_label', sa.String(length=255), nullable=False),
    sa.Column('condition_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['condition_id'], ['condition.id'], name=op.f('fk_dataset_condition_condition_id_condition')),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_dataset_condition_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_condition')),
    sa.UniqueConstraint('dataset_id', 'source_label', name=op.f('uq_dataset_condition_dataset_id_source_label'))
    )
    with op.batch_alter_table('dataset_condition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataset_condition_condition_id'), ['condition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dataset_condition_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('load_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('loader', sa.String(length=128), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('running', 'succeeded', 'failed', 'dry_run', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_load_run_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_load_run'))
    )
    with op.batch_alter_table('load_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_load_run_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('scanner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('manufacturer', sa.String(length=128), server_default='', nullable=False),
    sa.Column('model', sa.String(length=128), server_default='', nullable=False),
    sa.Column('serial', sa.String(length=128), server_default='', nullable=False),
    sa.Column('field_strength', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_scanner_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scanner')),
    sa.UniqueConstraint('dataset_id', 'manufacturer', 'model', 'serial', name=op.f('uq_scanner_dataset_id_manufacturer_model_serial'))
    )
    with op.batch_alter_table('scanner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scanner_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scanner_field_strength'), ['field_strength'], unique=False)
        batch_op.create_index(batch_op.f('ix_scanner_manufacturer'), ['manufacturer'], unique=False)

    op.create_table('subject',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('sex', sa.Enum('female', 'male', 'other', 'unknown', name='sex', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('handedness', sa.Enum('left', 'right', 'ambidextrous', 'unknown', name='handedness', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('race', sa.Enum('white_non_latino', 'white_latino', 'black', 'asian_or_pacific', 'american_indian', 'multiple', 'undefined', name='race', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('education_years', sa.Double(), nullable=True),
    sa.Column('age_at_baseline', sa.Double(), nullable=True),
    sa.Column('condition_id', sa.Integer(), nullable=True),
    sa.Column('metadata_json', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['condition_id'], ['condition.id'], name=op.f('fk_subject_condition_id_condition')),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_subject_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject')),
    sa.UniqueConstraint('dataset_id', 'external_id', name=op.f('uq_subject_dataset_id_external_id'))
    )
    with op.batch_alter_table('subject', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_age_at_baseline'), ['age_at_baseline'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_condition_id'), ['condition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_sex'), ['sex'], unique=False)

    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('days_since_baseline', sa.Integer(), nullable=True),
    sa.Column('condition_id', sa.Integer(), nullable=True),
    sa.Column('symptoms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('bmi', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['condition_id'], ['condition.id'], name=op.f('fk_visit_condition_id_condition')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_visit_subject_id_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('subject_id', 'external_id', name=op.f('uq_visit_subject_id_external_id'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_condition_id'), ['condition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('ix_visit_subject_id_days_since_baseline', ['subject_id', 'days_since_baseline'], unique=False)

    op.create_table('image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('scanner_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.Enum('T1', 'DWI', 'rsfMRI', 'FieldMap', name='type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('checksum', sa.String(length=128), nullable=True),
    sa.Column('days_since_baseline', sa.Integer(), nullable=True),
    sa.Column('preprocessed', sa.Enum('none', 'minimal', 'locked', 'failed', 'warping', name='preprocessed', native_enum=False, create_constraint=True, length=32), server_default='none', nullable=False),
    sa.Column('metadata_json', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_image_dataset_id_dataset')),
    sa.ForeignKeyConstraint(['scanner_id'], ['scanner.id'], name=op.f('fk_image_scanner_id_scanner')),
    sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_image_subject_id_subject')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_image_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_image')),
    sa.UniqueConstraint('dataset_id', 'path', name=op.f('uq_image_dataset_id_path'))
    )
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_days_since_baseline'), ['days_since_baseline'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_scanner_id'), ['scanner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_type'), ['type'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_visit_id'), ['visit_id'], unique=False)

    op.create_table('preprocess_task_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('preprocess_task_id', sa.Integer(), nullable=False),
    sa.Column('file_type_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('checksum', sa.String(length=128), nullable=True),
    sa.Column('qa_passed', sa.Boolean(), nullable=True),
    sa.Column('qa_metrics', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('provenance', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['file_type_id'], ['file_type.id'], name=op.f('fk_preprocess_task_file_file_type_id_file_type')),
    sa.ForeignKeyConstraint(['image_id'], ['image.id'], name=op.f('fk_preprocess_task_file_image_id_image')),
    sa.ForeignKeyConstraint(['preprocess_task_id'], ['preprocess_task.id'], name=op.f('fk_preprocess_task_file_preprocess_task_id_preprocess_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preprocess_task_file')),
    sa.UniqueConstraint('image_id', 'preprocess_task_id', 'file_type_id', name=op.f('uq_preprocess_task_file_image_id_preprocess_task_id_file_type_id'))
    )
    with op.batch_alter_table('preprocess_task_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preprocess_task_file_file_type_id'), ['file_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_preprocess_task_file_image_id'), ['image_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_preprocess_task_file_preprocess_task_id'), ['preprocess_task_id'], unique=False)



def downgrade():
    with op.batch_alter_table('preprocess_task_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preprocess_task_file_preprocess_task_id'))
        batch_op.drop_index(batch_op.f('ix_preprocess_task_file_image_id'))
        batch_op.drop_index(batch_op.f('ix_preprocess_task_file_file_type_id'))

    op.drop_table('preprocess_task_file')
    with op.batch_alter_table('image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_visit_id'))
        batch_op.drop_index(batch_op.f('ix_image_type'))
        batch_op.drop_index(batch_op.f('ix_image_subject_id'))
        batch_op.drop_index(batch_op.f('ix_image_scanner_id'))
        batch_op.drop_index(batch_op.f('ix_image_days_since_baseline'))
        batch_op.drop_index(batch_op.f('ix_image_dataset_id'))

    op.drop_table('image')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_subject_id_days_since_baseline')
        batch_op.drop_index(batch_op.f('ix_visit_subject_id'))
        batch_op.drop_index(batch_op.f('ix_visit_condition_id'))

    op.drop_table('visit')
    with op.batch_alter_table('subject', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_sex'))
        batch_op.drop_index(batch_op.f('ix_subject_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_subject_condition_id'))
        batch_op.drop_index(batch_op.f('ix_subject_age_at_baseline'))

    op.drop_table('subject')
    with op.batch_alter_table('scanner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scanner_manufacturer'))
        batch_op.drop_index(batch_op.f('ix_scanner_field_strength'))
        batch_op.drop_index(batch_op.f('ix_scanner_dataset_id'))

    op.drop_table('scanner')
    with op.batch_alter_table('load_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_load_run_dataset_id'))

    op.drop_table('load_run')
    with op.batch_alter_table('dataset_condition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataset_condition_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_dataset_condition_condition_id'))

    op.drop_table('dataset_condition')
    with op.batch_alter_table('preprocess_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preprocess_task_module'))

    op.drop_table('preprocess_task')
    op.drop_table('file_type')
    op.drop_table('dataset')
    op.drop_table('condition')
    op.drop_table('api_key')
