"""A partial index of withdrawn subjects: every image count leaves them out, and without the
index each count scanned the whole subject table.

Revision ID: c5f0a9d2e7b1
Revises: b3d5e8f1a2c4
Create Date: 2026-12-01 18:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c5f0a9d2e7b1'
down_revision = 'b3d5e8f1a2c4'
branch_labels = None
depends_on = None

WITHDRAWN = sa.text('deleted_at IS NOT NULL')


def upgrade():
    op.create_index('ix_subject_withdrawn', 'subject', ['id'], unique=False,
                    postgresql_where=WITHDRAWN, sqlite_where=WITHDRAWN)


def downgrade():
    op.drop_index('ix_subject_withdrawn', table_name='subject')
