"""flag labels: a person's word on whether a post should have been flagged

Revision ID: flags_1
Revises: scale_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "flags_1"
down_revision = 'scale_1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flaglabel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("should_flag", sa.Boolean(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flaglabel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flaglabel_post_id"), ["post_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flaglabel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flaglabel_post_id"))
    op.drop_table("flaglabel")
