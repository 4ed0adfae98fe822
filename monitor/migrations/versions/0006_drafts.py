"""approved edits kept against their drafts; saved replies

Revision ID: drafts_1
Revises: flags_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "drafts_1"
down_revision = 'flags_1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draftedit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("strategy", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("draft_text", sa.Text(), nullable=False),
        sa.Column("final_text", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=True),
        sa.Column("added", sa.JSON(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision.id"]),
        sa.ForeignKeyConstraint(["draft_id"], ["draft.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id"),
    )
    with op.batch_alter_table("draftedit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draftedit_language"), ["language"], unique=False)
        batch_op.create_index(batch_op.f("ix_draftedit_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_draftedit_topic"), ["topic"], unique=False)
    op.create_table(
        "savedreply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("savedreply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_savedreply_name"), ["name"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("savedreply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_savedreply_name"))
    op.drop_table("savedreply")
    with op.batch_alter_table("draftedit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draftedit_topic"))
        batch_op.drop_index(batch_op.f("ix_draftedit_post_id"))
        batch_op.drop_index(batch_op.f("ix_draftedit_language"))
    op.drop_table("draftedit")
