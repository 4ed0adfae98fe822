"""scale: queue and report indexes, the latest flag codes on posts, draft authors, server-side
web sessions and the sign-in throttle

Revision ID: scale_1
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'scale_1'
down_revision = 'ops_1'  # chained after ops on branch web so one head exists; the lead re-chains
branch_labels = None
depends_on = None

POST_INDEXES = (
    ("ix_post_queue", ["status", sa.text("severity DESC"), "created_at", "id"]),
    ("ix_post_queue_platform", ["status", "platform", sa.text("severity DESC"), "created_at", "id"]),
    ("ix_post_rank", [sa.text("severity DESC"), "created_at", "id", "status", "due_at"]),
    ("ix_post_status_due", ["status", "due_at"]),
    ("ix_post_filters", ["status", "platform", "language", "flagged"]),
    ("ix_post_thread", ["platform", "thread_id", "created_at"]),
    ("ix_post_window", ["created_at", "platform", "status", "flagged", "flag_codes", "answer_minutes", "answered_late",
                        "answered_at", "due_at"]),
    ("ix_post_channel", ["status", "platform", "flagged", "due_at", "created_at", "answered_late"]),
    ("ix_post_answer", ["platform", "answer_minutes", "answered_late"]),
)


def upgrade() -> None:
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_codes', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('answer_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answered_late', sa.Boolean(), nullable=True))
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    _backfill_flag_codes()
    _backfill_answer_minutes()
    for name, columns in POST_INDEXES:
        op.create_index(name, 'post', columns, unique=False)
    op.create_index(op.f('ix_decision_created_at'), 'decision', ['created_at'], unique=False)

    op.create_table('websession',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_why', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_websession_user_id'), 'websession', ['user_id'], unique=False)
    op.create_table('loginthrottle',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )


def _backfill_flag_codes() -> None:
    """Copy each flagged post's newest flag codes (as monitor/assess.py now does when it assesses)."""
    bind = op.get_bind()
    assessment = sa.table('assessment', sa.column('id'), sa.column('post_id'), sa.column('flags', sa.JSON))
    post = sa.table('post', sa.column('id'), sa.column('flag_codes'), sa.column('flagged'))
    newest = sa.select(sa.func.max(assessment.c.id)).group_by(assessment.c.post_id).scalar_subquery()
    rows = bind.execute(sa.select(assessment.c.post_id, assessment.c.flags).where(assessment.c.id.in_(newest)))
    for post_id, flags in rows.fetchall():
        codes = sorted({str(f.get("code") or "other") for f in flags or [] if isinstance(f, dict)})
        if codes:
            bind.execute(post.update().where(post.c.id == post_id).values(flag_codes=" " + " ".join(codes) + " "))


def _backfill_answer_minutes() -> None:
    bind = op.get_bind()
    post = sa.table('post', sa.column('id'), sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()),
                    sa.column('due_at', sqlmodel.sql.sqltypes.UTCDateTime()),
                    sa.column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime()), sa.column('answer_minutes'),
                    sa.column('answered_late'))
    rows = bind.execute(sa.select(post.c.id, post.c.created_at, post.c.due_at, post.c.answered_at)
                        .where(post.c.answered_at.is_not(None))).fetchall()
    for post_id, created, due, answered in rows:
        bind.execute(post.update().where(post.c.id == post_id).values(
            answer_minutes=round((answered - created).total_seconds() / 60),
            answered_late=due is not None and answered > due))


def downgrade() -> None:
    op.drop_table('loginthrottle')
    op.drop_index(op.f('ix_websession_user_id'), table_name='websession')
    op.drop_table('websession')
    op.drop_index(op.f('ix_decision_created_at'), table_name='decision')
    for name, _ in POST_INDEXES:
        op.drop_index(name, table_name='post')
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('author')
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_column('answered_late')
        batch_op.drop_column('answer_minutes')
        batch_op.drop_column('flag_codes')
