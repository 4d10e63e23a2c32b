"""Access control: key scopes, expiry and per-dataset grants; the append-only audit log.

Keys made before this revision keep working as before: read and download on every dataset.

Revision ID: a7e30fd0ae64
Revises: c71968d5020d
Create Date: 2026-12-01 14:30:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'a7e30fd0ae64'
down_revision = 'c71968d5020d'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
AUDIT_ACTIONS = ('download', 'download_urls', 'export', 'key_create', 'key_revoke', 'key_grant',
                 'key_revoke_grant')


def upgrade():
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('all_datasets', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    # Keys made before scopes existed have none: they keep what they could do. A key whose
    # scopes survived a downgrade lost its grants with it, so it sees no dataset until granted
    # again (never more than before).
    api_key = sa.table('api_key', sa.column('scopes', JSON), sa.column('all_datasets'))
    op.execute(api_key.update().where(api_key.c.scopes.is_(None))
               .values(scopes=['read', 'download'], all_datasets=True))
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=JSON, nullable=False)

    op.create_table('api_key_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_api_key_grant_api_key_id_api_key'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_api_key_grant_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key_grant')),
    sa.UniqueConstraint('api_key_id', 'dataset_id', name=op.f('uq_api_key_grant_api_key_id_dataset_id'))
    )
    with op.batch_alter_table('api_key_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_grant_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key_name', sa.String(length=128), nullable=False),
    sa.Column('action', sa.Enum(*AUDIT_ACTIONS, name='action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('image_ids', JSON, nullable=True),
    sa.Column('details', JSON, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_key_name'), ['key_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)

    op.create_table('audit_event_dataset',
    sa.Column('audit_event_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['audit_event_id'], ['audit_event.id'], name=op.f('fk_audit_event_dataset_audit_event_id_audit_event')),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_audit_event_dataset_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('audit_event_id', 'dataset_id', name=op.f('pk_audit_event_dataset'))
    )
    with op.batch_alter_table('audit_event_dataset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_dataset_dataset_id'), ['dataset_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event_dataset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_dataset_dataset_id'))
    op.drop_table('audit_event_dataset')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_key_name'))
    op.drop_table('audit_event')
    with op.batch_alter_table('api_key_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_grant_dataset_id'))
    op.drop_table('api_key_grant')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=JSON, nullable=True)
        batch_op.drop_column('expires_at')
        batch_op.drop_column('all_datasets')
