"""web: team inbox columns on post (tags, proposed_by, changed_at) and full-text search over a
post's text and author (SQLite FTS5 table kept by triggers; PostgreSQL GIN expression index)

Revision ID: web_1
Revises: drafts_1
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'web_1'
down_revision = 'drafts_1'
branch_labels = None
depends_on = None

# Kept in step with monitor/search.py (the same expression is what PostgreSQL's index covers).
PG_DOCUMENT = "to_tsvector('simple', coalesce(text, '') || ' ' || coalesce(author_handle, ''))"
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE post_search USING fts5(text, author_handle, content='post', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER post_search_insert AFTER INSERT ON post BEGIN "
    "INSERT INTO post_search(rowid, text, author_handle) VALUES (new.id, new.text, new.author_handle); END",
    "CREATE TRIGGER post_search_delete AFTER DELETE ON post BEGIN "
    "INSERT INTO post_search(post_search, rowid, text, author_handle) VALUES ('delete', old.id, old.text, old.author_handle); END",
    "CREATE TRIGGER post_search_update AFTER UPDATE OF text, author_handle ON post BEGIN "
    "INSERT INTO post_search(post_search, rowid, text, author_handle) VALUES ('delete', old.id, old.text, old.author_handle); "
    "INSERT INTO post_search(rowid, text, author_handle) VALUES (new.id, new.text, new.author_handle); END",
    "INSERT INTO post_search(post_search) VALUES ('rebuild')",
)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): a table rebuild would drop the search triggers.
    op.add_column('post', sa.Column('tags', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
    op.add_column('post', sa.Column('proposed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('post', sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_index(op.f('ix_post_proposed_by'), 'post', ['proposed_by'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"CREATE INDEX ix_post_search ON post USING gin ({PG_DOCUMENT})")
    else:
        for statement in SQLITE_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_post_search")
    else:
        for name in ('post_search_insert', 'post_search_delete', 'post_search_update'):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS post_search")
    op.drop_index(op.f('ix_post_proposed_by'), table_name='post')
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_column('changed_at')
        batch_op.drop_column('proposed_by')
        batch_op.drop_column('tags')
