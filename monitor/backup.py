"""`monitor backup PATH` and `monitor restore PATH`.

SQLite: SQLite's online backup API copies the database page by page while the daemon and the web
app go on writing; the copy is one consistent state (a transaction committed during the copy
makes it start over), then checked (`PRAGMA integrity_check`) and renamed into place, so PATH is
either a whole backup or absent. Restoring refuses while a daemon holds the database, refuses a
backup whose schema revision this version does not know (taken by a newer version), copies it
back the same way and then upgrades the schema.

PostgreSQL: `pg_dump --format=custom` of the monitor's schema, and `pg_restore --clean
--single-transaction` (run for you when the PostgreSQL client is installed, else printed to run
elsewhere). The dump carries the schema revision (its `alembic_version` table); restore reads it
first and refuses one it does not know, then upgrades.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from sqlalchemy import text
from sqlalchemy.engine import make_url

from monitor.db import MIGRATIONS, Database, DatabaseError, describe
from monitor.errors import Conflict, MonitorError, NotFound

PAGES_PER_STEP = 256       # pages copied per step; other connections write between steps


class BackupError(MonitorError):
    exit_code = 1


@dataclass
class BackupReport:
    path: str
    revision: Optional[str]
    size_bytes: int
    how: str


def known_revisions() -> dict[str, Optional[str]]:
    """Every schema revision this version ships -> its parent (the chain in migrations/versions)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return {rev.revision: rev.down_revision for rev in ScriptDirectory.from_config(config).walk_revisions()}


def schema_revision(db: Database) -> Optional[str]:
    with db.engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception as exc:
            raise DatabaseError(f"{describe(db.url)} has no schema version (not a monitor database?): "
                                f"{type(exc).__name__}") from None


def sqlite_path(db: Database) -> Path:
    database = make_url(db.url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database).expanduser().resolve()


def backup(db: Database, target: str | Path, *, overwrite: bool = False) -> BackupReport:
    target = Path(target).expanduser()
    if target.exists() and not overwrite:
        raise Conflict(f"{target} exists; choose a new file (or --overwrite)")
    if not target.parent.is_dir():
        raise NotFound(f"folder {target.parent} does not exist")
    revision = schema_revision(db)
    if db.is_postgres:
        return _pg_dump(db, target, revision)
    source = sqlite_path(db)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with sqlite3.connect(source, timeout=10) as live, \
                sqlite3.connect(partial) as copy:
            live.backup(copy, pages=PAGES_PER_STEP)
            copy.execute("PRAGMA journal_mode=DELETE")        # a single self-contained file
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            copied = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        live.close()
        copy.close()
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check ({check}); nothing was written")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"backing up {source} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(str(target), copied, target.stat().st_size, "sqlite online backup")


def _pg_client(db: Database, program: str, command: str) -> tuple[str, list[str], dict[str, str]]:
    """The client program, its connection arguments and environment (password and options such as
    a search_path travel in the environment, never on the command line)."""
    found = shutil.which(program)
    url = make_url(db.url).set(drivername="postgresql")
    if found is None:
        raise BackupError(f"{program} is not installed here; on a machine with the PostgreSQL client run:\n"
                          f"  {command.format(url=url.render_as_string(hide_password=True))}")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    options = url.query.get("options")
    if options:
        env["PGOPTIONS"] = options if isinstance(options, str) else " ".join(options)
    dsn = url.set(password=None, query={}).render_as_string(hide_password=False)
    return found, [f"--dbname={dsn}"], env


def _pg_dump(db: Database, target: Path, revision: Optional[str]) -> BackupReport:
    with db.engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar()
    program, connect, env = _pg_client(db, "pg_dump", f"pg_dump --format=custom --schema={schema} --file {target} '{{url}}'")
    done = subprocess.run([program, "--format=custom", f"--schema={schema}", "--file", str(target), *connect],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {_last_line(done.stderr)}")
    return BackupReport(str(target), revision, target.stat().st_size, f"pg_dump --format=custom --schema={schema}")


def _last_line(value: Optional[str]) -> str:
    lines = (value or "").strip().splitlines()
    return lines[-1] if lines else "no message"


def _pg_dump_revision(path: Path) -> Optional[str]:
    """The schema revision inside a custom-format dump (its alembic_version table's row)."""
    program = shutil.which("pg_restore")
    if program is None:
        raise BackupError("pg_restore is not installed here")
    done = subprocess.run([program, "--data-only", "--table=alembic_version", "--file=-", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{path} is not a PostgreSQL custom-format dump ({_last_line(done.stderr)})")
    lines = done.stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and index + 1 < len(lines):
            return lines[index + 1].strip() or None
    return None


def _pg_restore(db: Database, source: Path) -> Optional[str]:
    revision = _pg_dump_revision(source)
    _check_revision(source, revision)
    program, connect, env = _pg_client(db, "pg_restore", f"pg_restore --clean --if-exists --no-owner --dbname '{{url}}' {source}")
    db.dispose()
    done = subprocess.run([program, "--clean", "--if-exists", "--no-owner", "--single-transaction", *connect,
                           str(source)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {_last_line(done.stderr)}")
    return revision


def _check_revision(source: Path, revision: Optional[str]) -> None:
    if revision not in known_revisions():
        raise Conflict(f"{source} has schema revision {revision!r}, which this version does not know "
                       "(taken by a newer version?); upgrade the monitor first")


def restore(db: Database, source: str | Path) -> BackupReport:
    """Replace the database's content with a backup (SQLite), then bring the schema up to date."""
    source = Path(source).expanduser()
    if not source.is_file():
        raise NotFound(f"no backup at {source}")
    if db.is_postgres:          # stop the daemons first: pg_restore replaces the tables under them
        revision = _pg_restore(db, source)
        db.migrate()
        return BackupReport(str(source), revision, source.stat().st_size, "pg_restore")
    revision = _backup_revision(source)
    _check_revision(source, revision)
    from monitor.daemon.leases import DaemonLock
    with DaemonLock(db):                               # refuses while a daemon runs on this database
        target = sqlite_path(db)
        db.dispose()
        try:
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup_copy, \
                    sqlite3.connect(target, timeout=10) as live:
                backup_copy.backup(live, pages=PAGES_PER_STEP)
            backup_copy.close()
            live.close()
        except sqlite3.Error as exc:
            raise BackupError(f"restoring {source} failed: {exc}; the database was not changed") from None
        db.migrate()
    return BackupReport(str(source), revision, source.stat().st_size, "sqlite online backup")


def _backup_revision(path: Path) -> Optional[str]:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a monitor SQLite backup ({exc})") from None
    return row[0] if row else None
