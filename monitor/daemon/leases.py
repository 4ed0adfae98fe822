"""Who may work on what. On SQLite exactly one daemon runs (a file lock next to the database,
released by the operating system when the process dies, even by SIGKILL). On PostgreSQL any
number run: each source is claimed with a lease (`SELECT ... FOR UPDATE SKIP LOCKED`, then
lease_owner/lease_until), renewed while it is polled, and free again when it expires, so a dead
worker's sources are taken over. Steps that must not run twice at once (analysis) take a
PostgreSQL advisory lock.
"""
from __future__ import annotations

import os
import zlib
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Iterable, Iterator, Optional

from sqlalchemy import and_, not_, or_, text, true, update
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from models import Source, utcnow
from monitor.db import Database
from monitor.errors import Conflict
from monitor.outbox import worker_gone


class AnotherDaemon(Conflict):
    """A second daemon on a SQLite database (exit code 4)."""


class DaemonLock:
    """The single-daemon rule for SQLite: an exclusive lock on `<database>.daemon.lock`.

    PostgreSQL needs no such lock (leases share the work); an in-memory SQLite database has no
    file to guard and no other process that could see it.
    """

    def __init__(self, db: Database):
        self.path: Optional[Path] = None
        if db.is_sqlite:
            database = make_url(db.url).database
            if database and database != ":memory:" and not database.startswith("file:"):
                self.path = Path(database).expanduser().resolve().with_name(Path(database).name + ".daemon.lock")
        self._file: Optional[IO[str]] = None

    def acquire(self) -> None:
        if self.path is None:
            return
        handle = open(self.path, "a+", encoding="utf-8")
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AnotherDaemon(
                f"another daemon is already running on this SQLite database ({holder}); on SQLite only one "
                f"daemon may run at a time (lock file {self.path}). Stop it first, or use PostgreSQL to run "
                "several workers")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {utcnow():%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock; the file stays (removing it would race)
            self._file = None

    @property
    def exclusive(self) -> bool:
        """True when this process is known to be the only daemon on the database."""
        return self._file is not None

    def __enter__(self) -> "DaemonLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(handle: IO[str]) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def claim_due(db: Database, worker: str, names: Iterable[str], *, lease_seconds: float, limit: int,
              exclusive: bool = False, now: Optional[datetime] = None) -> list[str]:
    """Lease up to `limit` of the named sources that are due, longest-waiting first.

    Due: enabled, next poll time reached (or never polled and not parked), not rate-limited, and
    not leased by a live worker. `exclusive` (the SQLite daemon) ignores other owners' leases:
    they can only be left by a daemon that died.
    """
    now = now or utcnow()
    names = list(names)
    if not names:
        return []
    with db.session() as session:
        if not exclusive:
            owners = set(session.exec(select(Source.lease_owner).where(
                col(Source.lease_owner).is_not(None), col(Source.lease_until) >= now)))
            gone = sorted(owner for owner in owners if owner != worker and worker_gone(owner))
            free = or_(col(Source.lease_until).is_(None), col(Source.lease_until) < now,
                       col(Source.lease_owner) == worker, col(Source.lease_owner).in_(gone))
        else:
            free = true()
        query = (select(Source.id, Source.name)
                 .where(col(Source.enabled), col(Source.name).in_(names),
                        or_(col(Source.next_poll_at) <= now,
                            and_(col(Source.next_poll_at).is_(None), not_(col(Source.needs_reauth)))),
                        or_(col(Source.rate_limited_until).is_(None), col(Source.rate_limited_until) <= now),
                        free)
                 .order_by(col(Source.next_poll_at).asc().nulls_first(), col(Source.id))
                 .limit(limit))
        if db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        rows = list(session.exec(query))
        if rows:
            session.execute(update(Source).where(col(Source.id).in_([row.id for row in rows]))
                            .values(lease_owner=worker, lease_until=now + timedelta(seconds=lease_seconds)))
        return [row.name for row in rows]


def renew(db: Database, worker: str, names: Iterable[str], *, lease_seconds: float,
          now: Optional[datetime] = None) -> set[str]:
    """Extend this worker's leases; returns the names it still holds (a lost one must be dropped)."""
    now = now or utcnow()
    names = list(names)
    if not names:
        return set()
    with db.session() as session:
        session.execute(update(Source).where(col(Source.name).in_(names), col(Source.lease_owner) == worker)
                        .values(lease_until=now + timedelta(seconds=lease_seconds)))
        return set(session.exec(select(Source.name).where(col(Source.name).in_(names),
                                                          col(Source.lease_owner) == worker)))


def release(db: Database, worker: str, name: str, *, next_poll_at: Optional[datetime],
            note: Optional[str] = None) -> bool:
    """Give a source back with its next poll time (None: parked). False if the lease was lost."""
    with db.session() as session:
        source = session.exec(select(Source).where(Source.name == name).with_for_update()).one()
        if source.lease_owner != worker:
            return False
        source.lease_owner, source.lease_until, source.next_poll_at = None, None, next_poll_at
        if note:
            source.last_error = note[:2000]
        session.add(source)
        return True


def release_all(db: Database, worker: str) -> int:
    """Drop every lease this worker holds, keeping each source's next poll time (shutdown)."""
    with db.session() as session:
        changed = session.execute(update(Source).where(col(Source.lease_owner) == worker)
                                  .values(lease_owner=None, lease_until=None))
        return changed.rowcount


def clear_leases(db: Database) -> int:
    """Forget every lease (the SQLite daemon at start: whoever held them is dead)."""
    with db.session() as session:
        changed = session.execute(update(Source).where(col(Source.lease_owner).is_not(None))
                                  .values(lease_owner=None, lease_until=None))
        return changed.rowcount


def unpark(db: Database, names: Iterable[str], now: Optional[datetime] = None) -> list[str]:
    """Give parked sources (needing re-authorisation) one try with this start's credentials."""
    now = now or utcnow()
    with db.session() as session:
        rows = list(session.exec(select(Source).where(col(Source.name).in_(list(names)), col(Source.needs_reauth),
                                                      col(Source.next_poll_at).is_(None))))
        for source in rows:
            source.next_poll_at = now
            session.add(source)
        return [source.name for source in rows]


@contextmanager
def exclusive_step(db: Database, name: str) -> Iterator[bool]:
    """Yields True when this worker may run the step `name` now (always on SQLite, where one
    daemon runs); on PostgreSQL an advisory lock held for the block, False if another has it."""
    if not db.is_postgres:
        yield True
        return
    key = zlib.crc32(f"reply-monitor:{name}".encode())
    with db.engine.connect() as connection:
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        connection.commit()
        try:
            yield bool(got)
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
