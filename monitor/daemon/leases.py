"""Who may work on what. On SQLite exactly one daemon runs (a file lock next to the database,
released by the operating system when the process dies, even by SIGKILL). On PostgreSQL any
number run: each source is claimed with a lease (`SELECT ... FOR UPDATE SKIP LOCKED`, then
lease_owner/lease_until), renewed while it is polled, and free again when it expires, so a dead
worker's sources are taken over. While a worker works (a long poll, a big analysis batch, a
200-reply posting turn) a heartbeat renews every lease it holds; a taken-over source is logged
with what happened to its previous worker.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Iterable, Optional

from sqlalchemy import and_, not_, or_, true, update
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from models import Source, as_utc, utcnow
from monitor.db import Database
from monitor.errors import Conflict
from monitor.outbox import worker_gone

log = logging.getLogger(__name__)


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
    gone: list[str] = []
    with db.session() as session:
        if not exclusive:
            owners = set(session.exec(select(Source.lease_owner).where(
                col(Source.lease_owner).is_not(None), col(Source.lease_until) >= now)))
            gone = sorted(owner for owner in owners if owner != worker and worker_gone(owner))
            free = or_(col(Source.lease_until).is_(None), col(Source.lease_until) < now,
                       col(Source.lease_owner) == worker, col(Source.lease_owner).in_(gone))
        else:
            free = true()
        query = (select(Source.id, Source.name, Source.lease_owner, Source.lease_until)
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
        for row in rows:
            if row.lease_owner and row.lease_owner != worker:
                log.warning("%s", _handover(row.name, row.lease_owner, row.lease_until, worker, now, lease_seconds,
                                            gone=row.lease_owner in gone))
        if rows:
            session.execute(update(Source).where(col(Source.id).in_([row.id for row in rows]))
                            .values(lease_owner=worker, lease_until=now + timedelta(seconds=lease_seconds)))
        return [row.name for row in rows]


def _handover(name: str, owner: str, until: Optional[datetime], worker: str, now: datetime, lease_seconds: float,
              *, gone: bool) -> str:
    """What happened to a source's previous worker, for the log of the one taking it over."""
    if gone:
        return f"{name}: worker {owner} has ended (its process is gone); taken over by {worker}"
    if until is None:
        return f"{name}: left leased by {owner}; taken over by {worker}"
    silent = (now - as_utc(until)).total_seconds() + lease_seconds   # it renewed `lease_seconds` ahead
    return (f"lease of {name} expired: worker {owner} last seen {silent:.0f} s ago; taken over by {worker}")


def _lock_in_order(session, where, *, skip_locked: bool = False) -> list[int]:
    """Lock the matching source rows in id order, as every multi-row writer does: two workers
    (or a worker and its heartbeat) then wait for each other, never in a circle (deadlock)."""
    query = select(Source.id).where(*where).order_by(col(Source.id)).with_for_update(skip_locked=skip_locked)
    return list(session.exec(query))


def renew(db: Database, worker: str, names: Iterable[str], *, lease_seconds: float,
          now: Optional[datetime] = None) -> set[str]:
    """Extend this worker's leases; returns the names it still holds (a lost one must be dropped)."""
    now = now or utcnow()
    names = list(names)
    if not names:
        return set()
    with db.session() as session:
        ids = _lock_in_order(session, [col(Source.name).in_(names), col(Source.lease_owner) == worker])
        if ids:
            session.execute(update(Source).where(col(Source.id).in_(ids))
                            .values(lease_until=now + timedelta(seconds=lease_seconds)))
        return set(session.exec(select(Source.name).where(col(Source.id).in_(ids))))


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
        ids = _lock_in_order(session, [col(Source.lease_owner) == worker])
        if not ids:
            return 0
        changed = session.execute(update(Source).where(col(Source.id).in_(ids), col(Source.lease_owner) == worker)
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


def renew_all(db: Database, worker: str, *, lease_seconds: float, now: Optional[datetime] = None) -> int:
    """Extend every lease this worker holds (the heartbeat). A row busy in another transaction
    (this worker storing a page, say) is skipped, never waited for: the next beat renews it,
    well before the lease runs out. Returns how many were renewed."""
    now = now or utcnow()
    with db.session() as session:
        ids = _lock_in_order(session, [col(Source.lease_owner) == worker], skip_locked=True)
        if ids:
            session.execute(update(Source).where(col(Source.id).in_(ids))
                            .values(lease_until=now + timedelta(seconds=lease_seconds)))
        return len(ids)


class Heartbeat:
    """Renews a worker's leases every `lease_seconds / 3` from a thread while the worker works,
    so a long turn (a slow poll, a big analysis batch, 200 replies to post) keeps its sources.

    A worker that is alive but stuck must not hold its sources forever: the loop marks
    `progress()` at every unit of work, and with none for `stall_seconds` the heartbeat stops
    renewing and lets the leases expire (another worker takes them over).
    """

    def __init__(self, db: Database, worker: str, *, lease_seconds: float, stall_seconds: Optional[float] = None):
        self.db, self.worker, self.lease_seconds = db, worker, lease_seconds
        self.interval = lease_seconds / 3
        self.stall_seconds = stall_seconds if stall_seconds is not None else max(10 * lease_seconds, 600.0)
        self.beats = 0                    # successful renewals (tests wait for them)
        self._progress = time.monotonic()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._stalled = False

    def start(self) -> None:
        self.progress()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"lease heartbeat of {self.worker}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def progress(self) -> None:
        self._progress = time.monotonic()

    def beat(self) -> None:
        silent = time.monotonic() - self._progress
        if silent >= self.stall_seconds:
            if not self._stalled:
                log.error("worker %s has made no progress for %.0f s; no longer renewing its leases so that "
                          "another worker takes its sources over", self.worker, silent)
            self._stalled = True
            return
        self._stalled = False
        try:
            renew_all(self.db, self.worker, lease_seconds=self.lease_seconds)
            self.beats += 1
        except Exception as exc:  # the database away: the next beat tries again; leases last a while
            log.error("could not renew the leases of %s: %s", self.worker, exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()
