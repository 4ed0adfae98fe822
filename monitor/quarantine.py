"""Quarantine: items a connector could not read, kept raw for a person instead of stopping their
stream (or being lost). Held in the transaction of the page they came with; listed, shown,
retried (the connector reads the stored payload again, e.g. after a parser fix) or dropped.

The payload is stored as JSON with secrets scrubbed and cut at `MAX_PAYLOAD_CHARS`; a cut
payload cannot be re-read (retry says so). The same payload from the same source is held once:
handing it over again only counts it (`seen_count`), also after it was dropped.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from sqlalchemy import func
from sqlmodel import Session, col, select

from connectors._scrub import scrub
from connectors._paging import checked
from connectors.base import CollectedItem, Connector, ConnectorError, Unreadable
from models import Post, QuarantinedItem, QuarantineState, Source, utcnow
from monitor import audit
from monitor.db import Database
from monitor.errors import Conflict, NotFound
from monitor.store import storable, store_items

log = logging.getLogger(__name__)

MAX_PAYLOAD_CHARS = 64_000
MAX_ERROR_CHARS = 2_000


def _serialise(payload: Any) -> str:
    try:
        return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=repr)
    except (TypeError, ValueError, RecursionError):  # e.g. a circular structure: keep its text
        return json.dumps(repr(payload)[: MAX_PAYLOAD_CHARS * 2], ensure_ascii=False)


def hold(session: Session, source: Source, stream: Optional[str], items: Iterable[Unreadable]) -> int:
    """Keep unreadable items in the caller's transaction; returns how many are new to quarantine."""
    new = 0
    now = utcnow()
    for item in items:
        text = scrub(_serialise(item.payload))
        digest = hashlib.sha256(f"{stream}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()[:40]
        row = session.exec(select(QuarantinedItem).where(QuarantinedItem.source_id == source.id,
                                                         QuarantinedItem.digest == digest)).first()
        if row is not None:
            row.seen_count += 1
            row.last_seen_at = now
            session.add(row)
            continue
        external_id = storable(scrub(item.external_id), 200) if item.external_id else None
        row = QuarantinedItem(
            source_id=source.id, platform=source.platform, stream=stream, external_id=external_id,
            error=storable(scrub(item.error), MAX_ERROR_CHARS), payload=storable(text, MAX_PAYLOAD_CHARS),
            payload_bytes=len(text.encode("utf-8", "surrogatepass")), truncated=len(text) > MAX_PAYLOAD_CHARS,
            digest=digest, first_seen_at=now, last_seen_at=now)
        session.add(row)
        session.flush()
        new += 1
        log.warning("source %s: an unreadable item%s of %s is held in quarantine as #%s: %s", source.name,
                    f" ({external_id})" if external_id else "", stream or "the source", row.id, row.error)
    return new


def waiting_counts(session: Session) -> dict[int, int]:
    """source id -> items waiting in quarantine."""
    rows = session.exec(select(QuarantinedItem.source_id, func.count()).where(
        QuarantinedItem.state == QuarantineState.waiting).group_by(QuarantinedItem.source_id))
    return {source_id: count for source_id, count in rows}


def _plain(row: QuarantinedItem, source_name: str, *, with_payload: bool) -> dict[str, Any]:
    out = row.model_dump(exclude={"payload", "digest"} if not with_payload else {"digest"})
    out["source"] = source_name
    return out


def list_items(db: Database, states: tuple[str, ...] = (QuarantineState.waiting,),
               source: Optional[str] = None, limit: int = 200) -> list[dict[str, Any]]:
    with db.session() as session:
        query = select(QuarantinedItem, Source.name).join(Source, col(Source.id) == QuarantinedItem.source_id)
        if states:
            query = query.where(col(QuarantinedItem.state).in_(states))
        if source:
            query = query.where(Source.name == source)
        rows = session.exec(query.order_by(col(QuarantinedItem.id).desc()).limit(limit)).all()
        return [_plain(row, name, with_payload=False) for row, name in rows]


def show(db: Database, item_id: int) -> dict[str, Any]:
    with db.session() as session:
        row, name = _get(session, item_id)
        return _plain(row, name, with_payload=True)


def _get(session: Session, item_id: int) -> tuple[QuarantinedItem, str]:
    row = session.get(QuarantinedItem, item_id)
    if row is None:
        raise NotFound(f"no quarantined item with id {item_id}")
    source = session.get(Source, row.source_id)
    return row, source.name if source else "?"


@dataclass
class RetryResult:
    item_id: int
    stored: bool                 # the item was read and stored (or had nothing to store)
    post_id: Optional[int] = None
    error: Optional[str] = None  # why it still cannot be read


def retry(db: Database, item_id: int, actor: str, connector_for: Callable[[str], Connector],
          due: Callable[[CollectedItem], Any]) -> RetryResult:
    """Read the stored payload again with the source's connector; store the post on success (in
    one transaction with the item's new state), otherwise record the new error and keep waiting."""
    with db.session() as session:
        row, source_name = _get(session, item_id)
        if row.state != QuarantineState.waiting:
            raise Conflict(f"quarantined item {item_id} is {row.state}; only waiting items can be retried")
        stream, payload_text, truncated = row.stream, row.payload, row.truncated
    if truncated:
        return _still_unreadable(db, item_id, actor, "the payload was cut when it was quarantined "
                                 f"(over {MAX_PAYLOAD_CHARS} characters) and cannot be read again; drop it")
    connector = connector_for(source_name)  # a source no longer configured: a settings error
    try:
        items = [checked(item) for item in connector.read_item(stream, json.loads(payload_text))]
    except ConnectorError as exc:
        return _still_unreadable(db, item_id, actor, str(exc))
    except Exception as exc:  # a parser bug: scrubbed, never a traceback
        return _still_unreadable(db, item_id, actor, f"unexpected {type(exc).__name__}: {exc}")
    with db.session() as session:
        row = session.get(QuarantinedItem, item_id, with_for_update=True)
        if row.state != QuarantineState.waiting:
            raise Conflict(f"quarantined item {item_id} was {row.state} meanwhile")
        source = session.get(Source, row.source_id)
        post_id = None
        if items:
            stored = store_items(session, source.platform, source.id, items, due)
            source.items_collected += stored.new
            session.add(source)
            post_id = session.exec(select(Post.id).where(Post.platform == source.platform,
                                                         Post.external_id == items[0].external_id)).one()
        row.state, row.resolved_at, row.resolved_by, row.post_id = QuarantineState.stored, utcnow(), actor, post_id
        session.add(row)
        audit.record(session, actor, "quarantine.stored", post_id=post_id, item=item_id, source=source.name)
    return RetryResult(item_id, True, post_id)


def _still_unreadable(db: Database, item_id: int, actor: str, error: str) -> RetryResult:
    error = storable(scrub(error), MAX_ERROR_CHARS)
    with db.session() as session:
        row = session.get(QuarantinedItem, item_id)
        row.error = error
        session.add(row)
        audit.record(session, actor, "quarantine.retry_failed", item=item_id, error=error[:500])
    return RetryResult(item_id, False, error=error)


def drop(db: Database, item_id: int, actor: str, reason: str) -> None:
    with db.session() as session:
        row, source_name = _get(session, item_id)
        if row.state != QuarantineState.waiting:
            raise Conflict(f"quarantined item {item_id} is {row.state}; only waiting items can be dropped")
        row.state, row.resolved_at, row.resolved_by = QuarantineState.dropped, utcnow(), actor
        session.add(row)
        audit.record(session, actor, "quarantine.dropped", item=item_id, source=source_name, reason=reason[:500])
