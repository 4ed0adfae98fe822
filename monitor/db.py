"""Every database access goes through `Database`: engine set-up, sessions, migrations.

SQLite (WAL, busy timeout, foreign keys) is the embedded default; PostgreSQL is the
multi-worker deployment. Both run the same Alembic migrations.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine

from monitor.errors import DatabaseError  # defined with the other errors: the CLI catches it without SQLAlchemy

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_MS = 10_000


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
        """Bring the schema to the newest revision (idempotent; serialised across workers).
        A schema already there is seen with one query, without loading Alembic (every CLI
        command starts with this)."""
        if self._at_head():
            return
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

    def _at_head(self) -> bool:
        head = head_revision()
        if head is None:
            return False
        try:
            with self.engine.connect() as connection:
                found = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
        except SQLAlchemyError:  # no such table yet, or the database is away: Alembic says which
            return False
        return found == {head}

    def dispose(self) -> None:
        self.engine.dispose()


def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files' `revision` and
    `down_revision` lines; None when that reading is not conclusive (Alembic then decides)."""
    revisions: dict[str, tuple[str, ...]] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = re.search(r'^revision\s*(?::[^=]*)?=\s*["\']([^"\']+)["\']', source, re.M)
        down = re.search(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", source, re.M)
        if revision is None:
            continue
        if down is None:
            return None
        revisions[revision.group(1)] = tuple(re.findall(r'["\']([^"\']+)["\']', down.group(1)))
    referenced = {parent for parents in revisions.values() for parent in parents}
    heads = [revision for revision in revisions if revision not in referenced]
    return heads[0] if len(heads) == 1 and referenced <= set(revisions) else None


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
