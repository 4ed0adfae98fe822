"""streams: one bookmark and health per stream of a source; quarantined items

Revision ID: streams_1
Revises: ops_1

Existing bookmarks (one JSON object per source, stream -> value) are split into one row per
stream; `source.bookmark` is cleared for those sources (the connectors read per-stream
bookmarks now). A bookmark that is not a JSON object stays where it was.
"""
import json

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'streams_1'
down_revision = 'ops_1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sourcestream',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('stream', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('bookmark', sa.Text(), nullable=True),
    sa.Column('last_poll_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_success_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('items_collected', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'stream', name='uq_sourcestream_source_stream')
    )
    with op.batch_alter_table('sourcestream', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sourcestream_source_id'), ['source_id'], unique=False)

    op.create_table('quarantineditem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stream', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('payload_bytes', sa.Integer(), nullable=False),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('seen_count', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'digest', name='uq_quarantineditem_source_digest')
    )
    with op.batch_alter_table('quarantineditem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantineditem_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quarantineditem_state'), ['state'], unique=False)

    _split_bookmarks()


def _split_bookmarks() -> None:
    """Every stream of a source's JSON-object bookmark becomes its own row (value as JSON text)."""
    connection = op.get_bind()
    source = sa.table('source', sa.column('id', sa.Integer), sa.column('bookmark', sa.Text))
    stream = sa.table('sourcestream', sa.column('source_id', sa.Integer), sa.column('stream', sa.String),
                      sa.column('bookmark', sa.Text), sa.column('error_count', sa.Integer),
                      sa.column('items_collected', sa.Integer))
    for source_id, bookmark in connection.execute(sa.select(source.c.id, source.c.bookmark)).all():
        try:
            value = json.loads(bookmark) if bookmark else None
        except ValueError:
            continue
        if not isinstance(value, dict):
            continue
        rows = [{"source_id": source_id, "stream": str(name), "bookmark": json.dumps(part),
                 "error_count": 0, "items_collected": 0} for name, part in value.items()]
        if rows:
            connection.execute(sa.insert(stream), rows)
        connection.execute(sa.update(source).where(source.c.id == source_id).values(bookmark=None))


def downgrade() -> None:
    _join_bookmarks()
    with op.batch_alter_table('quarantineditem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantineditem_state'))
        batch_op.drop_index(batch_op.f('ix_quarantineditem_source_id'))
    op.drop_table('quarantineditem')
    with op.batch_alter_table('sourcestream', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sourcestream_source_id'))
    op.drop_table('sourcestream')


def _join_bookmarks() -> None:
    """Back to one bookmark per source: the streams' bookmarks as one JSON object."""
    connection = op.get_bind()
    source = sa.table('source', sa.column('id', sa.Integer), sa.column('bookmark', sa.Text))
    stream = sa.table('sourcestream', sa.column('source_id', sa.Integer), sa.column('stream', sa.String),
                      sa.column('bookmark', sa.Text))
    joined: dict = {}
    for source_id, name, bookmark in connection.execute(
            sa.select(stream.c.source_id, stream.c.stream, stream.c.bookmark)).all():
        try:
            joined.setdefault(source_id, {})[name] = json.loads(bookmark) if bookmark else None
        except ValueError:
            continue
    for source_id, value in joined.items():
        connection.execute(sa.update(source).where(source.c.id == source_id).values(
            bookmark=json.dumps(value, sort_keys=True, separators=(",", ":"))))
