"""Store collected items: deduplicated on (platform, external id). Re-collecting an item updates
it in place (text edits, counters) and never creates a second row."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from sqlmodel import Session, select

from connectors.base import CollectedItem
from models import Post, PostStatus, as_utc, utcnow
from monitor import teamwork
from monitor.text import clean_text

MAX_TEXT_CHARS = 20_000   # a post longer than this is stored cut, with a marker (never rejected)
MAX_FIELD_CHARS = 2_000   # ids, handles, links: longer is not a real value, and is stored cut
MAX_COUNT = 2**31 - 1     # counters fit a 32-bit integer column on every database


def storable(value: Any, limit: int = MAX_FIELD_CHARS) -> Any:
    """A platform value every database accepts: strings without NUL or lone surrogates (UTF-8
    cannot hold them; PostgreSQL refuses NUL), nested values alike."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value[:limit]
    if isinstance(value, dict):
        return {storable(str(k)): storable(v, MAX_TEXT_CHARS) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v, MAX_TEXT_CHARS) for v in value]
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return None  # NaN and infinities are not JSON
    return value


def _count(value: Any) -> int:
    return min(MAX_COUNT, max(0, int(value or 0)))


@dataclass
class StoreResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


def content_hash(item: CollectedItem, text: str) -> str:
    payload = json.dumps([text, item.rating, item.kind], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def store_items(session: Session, platform: str, source_id: Optional[int], items: Iterable[CollectedItem],
                due: Callable[[CollectedItem], object]) -> StoreResult:
    """Upsert items in the caller's transaction. `due(item)` gives the SLA due time of a new post."""
    result = StoreResult()
    for item in items:
        text = storable(clean_text(item.text, MAX_TEXT_CHARS), MAX_TEXT_CHARS)
        external_id = storable(item.external_id)
        digest = content_hash(item, text)
        post = session.exec(select(Post).where(Post.platform == platform,
                                               Post.external_id == external_id)).first()
        if post is not None and post.erased_at is not None:
            result.unchanged += 1      # erased on request: never stored again, never "new" again
            continue
        if post is None:
            post = Post(platform=platform, external_id=external_id, source_id=source_id,
                        created_at=as_utc(item.created_at), due_at=due(item))
            result.new += 1
        elif post.content_hash == digest and post.likes == _count(item.likes) and post.shares == _count(item.shares) \
                and post.replies == _count(item.replies) and post.author_reach == _count(item.author_reach):
            result.unchanged += 1
            continue
        else:
            result.updated += 1
            post.updated_at = utcnow()
            if post.content_hash != digest and post.status != PostStatus.open:
                teamwork.mark_changed(session, post)
        post.kind = item.kind
        post.text = text
        post.url = storable(item.url) if isinstance(item.url, str) else None
        post.author_handle = storable(item.author_handle or "")
        post.author_reach = _count(item.author_reach)
        post.rating = item.rating
        post.thread_id = storable(item.thread_id)
        post.parent_id = storable(item.parent_id)
        post.likes, post.shares, post.replies = (_count(v) for v in (item.likes, item.shares, item.replies))
        post.extra = storable(dict(item.extra))
        post.content_hash = digest
        session.add(post)
        session.flush()  # a duplicate inside one page updates the row just added
    return result
