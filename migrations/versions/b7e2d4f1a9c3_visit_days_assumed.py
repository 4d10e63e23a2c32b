"""visit.days_assumed: a visit whose day 0 is assumed (no session date), so that an image's age
at scan can say it is the participant's age rather than one dated by its session.

Revision ID: b7e2d4f1a9c3
Revises: 5e1f0a2b7c93
Create Date: 2026-12-07 16:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e2d4f1a9c3'
down_revision = '5e1f0a2b7c93'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('days_assumed', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('days_assumed')
