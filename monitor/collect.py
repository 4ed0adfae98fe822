"""Poll one source: each page and the bookmark it allows are committed in one transaction
(Singer-style), so a failure half-way keeps what was stored and never skips what was not.
Platform problems become the source's health (rate-limited until, needs re-authorisation,
last error); they never escape as tracebacks."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from sqlmodel import select

from connectors.base import AuthExpired, CollectedItem, Connector, ConnectorError, RateLimited
from models import Source, as_utc, utcnow
from monitor import audit
from monitor.db import Database
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

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None


def poll_source(db: Database, source_name: str, connector: Connector,
                due: Callable[[CollectedItem], datetime], *, force: bool = False,
                now: Optional[datetime] = None) -> PollResult:
    """Collect everything new from one source. `force` ignores a recorded rate-limit window."""
    now = now or utcnow()
    result = PollResult(source=source_name)
    with db.session() as session:
        source = session.exec(select(Source).where(Source.name == source_name)).one()
        if source.rate_limited_until and as_utc(source.rate_limited_until) > now and not force:
            result.skipped = f"rate-limited until {as_utc(source.rate_limited_until):%Y-%m-%d %H:%M} UTC"
            result.rate_limited_until = source.rate_limited_until
            return result
        bookmark, source_id, platform = source.bookmark, source.id, source.platform
    try:
        for page in connector.collect(bookmark):
            with db.session() as session:
                stored = store_items(session, platform, source_id, page.items, due)
                source = session.get(Source, source_id)
                if page.bookmark is not None:
                    source.bookmark = page.bookmark
                source.items_collected += stored.new
                session.add(source)
            result.pages += 1
            result.new += stored.new
            result.updated += stored.updated
    except RateLimited as exc:
        result.error, result.rate_limited_until = str(exc), as_utc(exc.until)
    except AuthExpired as exc:
        result.error, result.needs_reauth = str(exc), True
    except ConnectorError as exc:
        result.error = str(exc)
    except Exception as exc:  # a connector bug must not stop the other sources
        log.exception("connector %s crashed", source_name)
        result.error = f"unexpected {type(exc).__name__} in the {platform} connector: {exc}"
    _record_health(db, source_id, result, now)
    return result


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
