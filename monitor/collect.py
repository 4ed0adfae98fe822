"""Poll one source: each page and the bookmark it allows are committed in one transaction
(Singer-style), so a failure half-way keeps what was stored and never skips what was not.
Platform problems become the source's health (rate-limited until, needs re-authorisation,
last error); they never escape as tracebacks.

`SourcePoll` is the same poll taken one page at a time, so that the daemon can interleave
sources (a huge backlog on one never keeps another's new posts waiting) and stop between pages.

A connector with streams (`Connector.has_streams`) gets one bookmark per stream (`SourceStream`
rows) and each stream's health is kept there: a stream that fails is recorded and the others go
on; only when every stream that ran failed (or the whole source is rate-limited or needs a new
token) is the source failing. Unreadable items arrive with their page and are quarantined in its
transaction (`monitor.quarantine`).
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator, Optional

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from connectors._scrub import scrub
from connectors.base import (AuthExpired, CollectedItem, Connector, ConnectorError, Page, RateLimited,
                             split_bookmark)
from models import Source, SourceStream, as_utc, utcnow
from monitor import audit, quarantine
from monitor.db import Database, DatabaseError
from monitor.store import store_items

log = logging.getLogger(__name__)
SYSTEM = "system"


@dataclass
class PollResult:
    source: str
    new: int = 0
    updated: int = 0
    pages: int = 0
    error: Optional[str] = None
    rate_limited_until: Optional[datetime] = None
    needs_reauth: bool = False
    skipped: Optional[str] = None   # why the source was not polled at all
    complete: bool = True           # False: stopped between pages on purpose (more may be waiting)
    quarantined: int = 0            # unreadable items newly held in quarantine
    stream_errors: dict[str, str] = field(default_factory=dict)  # streams that failed (others went on)
    streams_done: list[str] = field(default_factory=list)        # streams read to their end

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None


class LeaseLost(Exception):
    """Another worker holds the source now (ours expired): stop without touching it."""


class SourcePoll:
    """One poll of one source, advanced a page at a time: `start()`, `step()`..., `finish()`.

    With `lease_owner`, every page is stored only while that worker still holds the source's
    lease (checked under a row lock in the page's transaction), so a worker that stalled past
    its lease can never move a bookmark that its successor already moved.
    """

    def __init__(self, db: Database, source_name: str, connector: Connector,
                 due: Callable[[CollectedItem], datetime], *, force: bool = False,
                 now: Optional[datetime] = None, lease_owner: Optional[str] = None):
        self.db, self.connector, self.due, self.force = db, connector, due, force
        self.now = now or utcnow()
        self.lease_owner = lease_owner
        self.result = PollResult(source=source_name)
        self.finished = False
        self._pages: Optional[Iterator[Page]] = None
        self._source_id: Optional[int] = None
        self._platform = ""
        self._busy = 0.0                        # seconds spent on this source (its pages interleave with others')
        self._read: Counter[str] = Counter()   # items read, by kind (comment, reply, review...)

    @property
    def name(self) -> str:
        return self.result.source

    def start(self) -> bool:
        """False when the source must not be asked now (rate-limited): `result.skipped` says why."""
        began = time.monotonic()
        try:
            return self._start()
        finally:
            self._busy += time.monotonic() - began

    def step(self) -> bool:
        """Fetch and store one page; False when the poll is over (done or failed)."""
        began = time.monotonic()
        try:
            return self._step()
        finally:
            self._busy += time.monotonic() - began

    def _start(self) -> bool:
        with self.db.session() as session:
            source = session.exec(select(Source).where(Source.name == self.name)).one()
            if source.rate_limited_until and as_utc(source.rate_limited_until) > self.now and not self.force:
                self.result.skipped = f"rate-limited until {as_utc(source.rate_limited_until):%Y-%m-%d %H:%M} UTC"
                self.result.rate_limited_until = source.rate_limited_until
                self.finished = True
                log.info("poll %s (%s): skipped, %s", self.name, source.platform, self.result.skipped)
                return False
            bookmark, self._source_id, self._platform = source.bookmark, source.id, source.platform
            if self.connector.has_streams:
                bookmarks = _stream_bookmarks(session, source)
        try:
            if self.connector.has_streams:
                self._pages = iter(self.connector.collect_streams(bookmarks))
            else:
                self._pages = iter(self.connector.collect(bookmark))
        except Exception as exc:  # a connector may fail before yielding anything
            self._failed(exc)
        return True

    def _step(self) -> bool:
        if self._pages is None or self.result.error is not None:
            return False
        try:
            page = next(self._pages)
        except StopIteration:
            return False
        except Exception as exc:
            self._failed(exc)
            return False
        try:
            try:
                stored = self._store(page)
            except IntegrityError:  # another source stored the same post at the same moment: once more
                stored = self._store(page)
        except (LeaseLost, DatabaseError):
            raise
        except Exception as exc:  # odd data the store cannot take: recorded, the bookmark not moved
            self._failed(exc)
            return False
        self.result.pages += 1
        self._read.update(item.kind for item in page.items)
        self.result.new += stored.new
        self.result.updated += stored.updated
        if page.error is not None:
            self.result.stream_errors[page.stream or ""] = str(page.error)
            log.warning("polling %s: stream %s failed, the other streams go on: %s", self.name, page.stream,
                        page.error)
        elif page.stream is not None and page.bookmark is not None and page.stream not in self.result.streams_done:
            self.result.streams_done.append(page.stream)
        return True

    def _store(self, page: Page):
        with self.db.session() as session:
            source = session.get(Source, self._source_id, with_for_update=self.lease_owner is not None)
            if self.lease_owner is not None and source.lease_owner != self.lease_owner:
                raise LeaseLost(f"{self.name}: the lease of {self.lease_owner} expired and "
                                f"{'passed to ' + source.lease_owner if source.lease_owner else 'was released'}")
            stored = store_items(session, self._platform, self._source_id, page.items, self.due)
            if page.unreadable:
                self.result.quarantined += quarantine.hold(session, source, page.stream, page.unreadable)
            if page.stream is not None:
                _advance_stream(session, source, page, stored.new, self.now)
            elif page.bookmark is not None:
                source.bookmark = page.bookmark
            source.items_collected += stored.new
            session.add(source)
        return stored

    def _failed(self, exc: BaseException) -> None:
        result = self.result
        if isinstance(exc, RateLimited):
            result.error, result.rate_limited_until = str(exc), as_utc(exc.until)
        elif isinstance(exc, AuthExpired):
            result.error, result.needs_reauth = str(exc), True
        elif isinstance(exc, ConnectorError):
            result.error = str(exc)
        else:  # a connector bug must not stop the other sources; its text may hold a secret
            result.error = scrub(f"unexpected {type(exc).__name__} in the {self._platform} connector: {exc}")
            log.error("connector %s crashed: %s", self.name, result.error)
            log.debug("connector %s traceback", self.name, exc_info=(type(exc), exc, exc.__traceback__))

    def close(self) -> None:
        """Drop the connector's page iterator (its HTTP session state) without recording anything."""
        pages, self._pages = self._pages, None
        if pages is not None and hasattr(pages, "close"):
            try:
                pages.close()
            except Exception:  # closing a broken generator must not hide the poll's outcome
                log.exception("closing the page iterator of %s failed", self.name)

    def finish(self, *, complete: bool = True) -> PollResult:
        """Record the source's health. `complete=False`: stopped between pages on purpose."""
        if self.finished:
            return self.result
        self.finished = True
        self.close()
        result = self.result
        if result.error is None and result.stream_errors and not result.streams_done:
            # Every stream that ran failed: the source is failing (back-off, alerts), not just a stream.
            result.error = "; ".join(f"{stream}: {error}" for stream, error in result.stream_errors.items())
        self.result.complete = complete or self.result.error is not None
        if self._source_id is not None:
            _record_health(self.db, self._source_id, self.result, self.now)
        self._log_line()
        return self.result

    def _log_line(self) -> None:
        """One INFO line per poll: the source, what it read of each kind, what was new, how long."""
        result = self.result
        read = ", ".join(f"{count} {kind}" for kind, count in sorted(self._read.items())) or "nothing new"
        outcome = ("failed (see the warning)" if result.error else
                   "done" if result.complete else "paused between pages; more to read")
        log.info("poll %s (%s): read %s; %d new, %d updated, %d page(s) in %.2f s; %s", self.name,
                 self._platform or "?", read, result.new, result.updated, result.pages,
                 self._busy, outcome)


def _stream_bookmarks(session, source: Source) -> dict[str, Optional[str]]:
    """The source's bookmark per stream. A source still holding one combined bookmark (written
    before its connector had streams) has it split into stream rows here, once."""
    rows = list(session.exec(select(SourceStream).where(SourceStream.source_id == source.id)))
    if not rows and source.bookmark:
        for stream, value in split_bookmark(source.bookmark).items():
            row = SourceStream(source_id=source.id, stream=stream, bookmark=value)
            session.add(row)
            rows.append(row)
        source.bookmark = None
        session.add(source)
    return {row.stream: row.bookmark for row in rows}


def _advance_stream(session, source: Source, page: Page, new: int, now: datetime) -> None:
    """A stream's page: its bookmark and health move in the page's transaction."""
    row = session.exec(select(SourceStream).where(SourceStream.source_id == source.id,
                                                  SourceStream.stream == page.stream)).first()
    if row is None:
        row = SourceStream(source_id=source.id, stream=page.stream)
    row.items_collected += new
    if page.error is not None:
        row.last_poll_at, row.last_error, row.error_count = now, str(page.error)[:2000], row.error_count + 1
    elif page.bookmark is not None:
        row.bookmark = page.bookmark
        row.last_poll_at, row.last_success_at, row.last_error, row.error_count = now, now, None, 0
    session.add(row)


def poll_source(db: Database, source_name: str, connector: Connector,
                due: Callable[[CollectedItem], datetime], *, force: bool = False,
                now: Optional[datetime] = None) -> PollResult:
    """Collect everything new from one source. `force` ignores a recorded rate-limit window."""
    poll = SourcePoll(db, source_name, connector, due, force=force, now=now)
    if not poll.start():
        return poll.result
    while poll.step():
        pass
    return poll.finish()


def _record_health(db: Database, source_id: int, result: PollResult, now: datetime) -> None:
    with db.session() as session:
        source = session.get(Source, source_id)
        source.last_poll_at = now
        if result.error is None:
            source.last_success_at, source.last_error, source.error_count = now, None, 0
            source.rate_limited_until, source.needs_reauth = None, False
        else:
            source.last_error = result.error[:2000]
            source.error_count += 1
            if result.rate_limited_until:
                source.rate_limited_until = result.rate_limited_until
            if result.needs_reauth:
                source.needs_reauth = True
            audit.record(session, SYSTEM, "source.poll_failed", source=source.name, error=result.error[:500],
                         needs_reauth=result.needs_reauth)
            log.warning("polling %s failed: %s", source.name, result.error)
        session.add(source)
