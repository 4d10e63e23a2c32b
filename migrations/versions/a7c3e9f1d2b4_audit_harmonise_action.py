"""Audit of `flask harmonise` (a dataset's mapping re-applied to its stored rows): the
audit_event action `harmonise`.

Revision ID: a7c3e9f1d2b4
Revises: 87c1fb819fc2
Create Date: 2026-12-07 20:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e9f1d2b4'
down_revision = '87c1fb819fc2'
branch_labels = None
depends_on = None

BEFORE = ('download', 'download_urls', 'export', 'key_create', 'key_revoke', 'key_grant',
          'key_revoke_grant', 'preview', 'cohort_create', 'cohort_delete', 'cohort_diff',
          'qc_review', 'claim', 'claim_renew', 'claim_upload', 'claim_complete', 'claim_fail',
          'dataset_register', 'dataset_delete')
ADDED = ('harmonise',)
AFTER = (*BEFORE, *ADDED)


def _actions(values, previous):
    # Batch mode: SQLite cannot alter a CHECK constraint, so the table is rebuilt with the new
    # one; PostgreSQL drops and recreates the constraint in place.
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column(
            'action',
            existing_type=sa.Enum(*previous, name='action', native_enum=False,
                                  create_constraint=True, length=32),
            type_=sa.Enum(*values, name='action', native_enum=False, create_constraint=True,
                          length=32),
            existing_nullable=False)


def upgrade():
    _actions(AFTER, BEFORE)


def downgrade():
    op.execute("DELETE FROM audit_event_dataset WHERE audit_event_id IN "
               "(SELECT id FROM audit_event WHERE action = 'harmonise')")
    op.execute("DELETE FROM audit_event WHERE action = 'harmonise'")
    _actions(BEFORE, AFTER)
