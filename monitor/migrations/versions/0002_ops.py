"""post.erased_at: a post erased on request or by retention keeps its row (platform id: dedup)

Revision ID: ops_1
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'ops_1'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
