"""Every database access goes through `Database`: engine set-up, sessions, migrations.

SQLite (WAL, busy timeout, foreign keys) is the embedded default; PostgreSQL is the
multi-worker deployment. Both run the same Alembic migrations.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_MS = 10_000


class DatabaseError(Exception):
    """The database cannot be used (unreachable, locked, not writable); message names the cause."""


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def _normalise(url: str) -> str:
    # Plain postgresql:// means psycopg 3 here (the driver we pin).
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Database:
    def __init__(self, url: str):
        self.url = _normalise(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise DatabaseError(f"database URL is not valid: {describe(url)}") from None
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        if not (self.is_sqlite or self.is_postgres):
            raise DatabaseError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
        if self.is_sqlite:
            _create_private(parsed.database)
            self.engine = create_engine(self.url, connect_args={"timeout": SQLITE_BUSY_MS / 1000,
                                                                "check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                                        connect_args={"connect_timeout": 10})

    def __repr__(self) -> str:
        return f"Database({describe(self.url)})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise DatabaseError(_explain(exc, self.url)) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent; serialised across workers)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                if self.is_postgres:  # two daemons starting at once must not both migrate
                    connection.execute(text("SELECT pg_advisory_xact_lock(742001)"))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise DatabaseError(_explain(exc, self.url)) from None
        except SQLAlchemyError as exc:
            raise DatabaseError(f"migrating {describe(self.url)} failed: {type(exc).__name__}: {exc.orig if hasattr(exc, 'orig') else exc}") from None

    def dispose(self) -> None:
        self.engine.dispose()


def _create_private(database: Optional[str]) -> None:
    """Create a new SQLite file readable by its owner only (0600): it holds posts, people's
    names and password hashes. SQLite gives its -wal and -shm files the database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseError(f"cannot create the database file {path}: {exc.strerror}") from None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _explain(exc: OperationalError, url: str) -> str:
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() else type(exc).__name__
    if "locked" in detail:
        return f"the database {describe(url)} is locked by another process (tried for {SQLITE_BUSY_MS // 1000} s); nothing was changed, try again"
    return f"cannot use the database {describe(url)}: {detail}"
