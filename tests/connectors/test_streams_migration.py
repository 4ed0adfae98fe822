"""Migration `streams_1`: the tables match the models, and bookmarks stored per source before
streams existed become one bookmark per stream (and back on downgrade)."""
from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import models  # noqa: F401  (the tables)
from monitor.db import MIGRATIONS, Database

BOOKMARK = {"mentions": "1860000000000000003", "search": {"since": "1", "top": "9", "until": "5"}, "empty": None}


def _upgrade(db: Database, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_existing_bookmarks_are_split_per_stream_and_the_schema_matches_the_models(sqlite_url):
    db = Database(sqlite_url)
    _upgrade(db, "0001")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO source (name, platform, bookmark, enabled, error_count, needs_reauth, items_collected, "
            "created_at) VALUES ('x1', 'x', :b, 1, 0, 0, 0, '2026-11-29 10:00:00'), "
            "('legacy', 'memory', '42', 1, 0, 0, 0, '2026-11-29 10:00:00')"), {"b": json.dumps(BOOKMARK)})

    _upgrade(db, "head")

    with db.engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT stream, bookmark FROM sourcestream")).all())
        sources = dict(connection.execute(text("SELECT name, bookmark FROM source")).all())
        assert not schema_differences(connection)
    assert {stream: json.loads(value) for stream, value in rows.items()} == BOOKMARK
    assert sources == {"x1": None, "legacy": "42"}  # a bookmark that is not per stream stays

    _upgrade(db, "0001", down=True)
    with db.engine.connect() as connection:
        restored = dict(connection.execute(text("SELECT name, bookmark FROM source")).all())
    assert json.loads(restored["x1"]) == BOOKMARK and restored["legacy"] == "42"
    db.dispose()


# Indexes over an expression (severity DESC) that Alembic cannot compare: it reports them as
# removed and added again although migration and model agree (the queue's urgency indexes).
EXPRESSION_INDEXES = {"ix_post_queue", "ix_post_queue_platform", "ix_post_rank"}
# SQLite's full-text index (monitor/search.py): a virtual table and its shadow tables, made by the
# migration, kept by triggers, never a model.
SEARCH_TABLES = "post_search"


def schema_differences(connection) -> list:
    """What the migrated database lacks or has beyond the models, less Alembic's blind spot."""
    def blind_spot(diff) -> bool:
        if diff[0] in ("add_index", "remove_index"):
            return diff[1].name in EXPRESSION_INDEXES
        return diff[0] == "remove_table" and diff[1].name.startswith(SEARCH_TABLES)
    return [d for d in compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
            if not (isinstance(d, tuple) and blind_spot(d))]

