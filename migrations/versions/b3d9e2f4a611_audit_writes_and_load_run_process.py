"""Audit of writes, previews and cohort diffs (new audit_event actions); load_run records the
process (pid, host) that runs a load, so a killed one is seen as interrupted.

Revision ID: b3d9e2f4a611
Revises: b7e2d4f1a9c3
Create Date: 2026-12-07 16:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3d9e2f4a611'
down_revision = 'b7e2d4f1a9c3'
branch_labels = None
depends_on = None

BEFORE = ('download', 'download_urls', 'export', 'key_create', 'key_revoke', 'key_grant',
          'key_revoke_grant')
ADDED = ('preview', 'cohort_create', 'cohort_delete', 'cohort_diff', 'qc_review', 'claim',
         'claim_renew', 'claim_upload', 'claim_complete', 'claim_fail', 'dataset_register',
         'dataset_delete')
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
    with op.batch_alter_table('load_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('host', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('load_run', schema=None) as batch_op:
        batch_op.drop_column('host')
        batch_op.drop_column('pid')
    added = ", ".join(f"'{action}'" for action in ADDED)
    op.execute(f"DELETE FROM audit_event_dataset WHERE audit_event_id IN "
               f"(SELECT id FROM audit_event WHERE action IN ({added}))")
    op.execute(f"DELETE FROM audit_event WHERE action IN ({added})")
    _actions(BEFORE, AFTER)
