"""Store collected items: deduplicated on (platform, external id). Re-collecting an item updates
it in place (text edits, counters) and never creates a second row."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from sqlmodel import Session, select

from connectors.base import CollectedItem
from models import Post, PostStatus, as_utc, utcnow
from monitor import teamwork
from monitor.text import clean_text

MAX_TEXT_CHARS = 20_000   # a post longer than this is stored cut, with a marker (never rejected)


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
        text = clean_text(item.text, MAX_TEXT_CHARS)
        digest = content_hash(item, text)
        post = session.exec(select(Post).where(Post.platform == platform,
                                               Post.external_id == item.external_id)).first()
        if post is not None and post.erased_at is not None:
            result.unchanged += 1      # erased on request: never stored again, never "new" again
            continue
        if post is None:
            post = Post(platform=platform, external_id=item.external_id, source_id=source_id,
                        created_at=as_utc(item.created_at), due_at=due(item))
            result.new += 1
        elif post.content_hash == digest and post.likes == item.likes and post.shares == item.shares \
                and post.replies == item.replies and post.author_reach == item.author_reach:
            result.unchanged += 1
            continue
        else:
            result.updated += 1
            post.updated_at = utcnow()
            if post.content_hash != digest and post.status != PostStatus.open:
                teamwork.mark_changed(session, post)
        post.kind = item.kind
        post.text = text
        post.url = item.url
        post.author_handle = item.author_handle or ""
        post.author_reach = max(0, int(item.author_reach or 0))
        post.rating = item.rating
        post.thread_id = item.thread_id
        post.parent_id = item.parent_id
        post.likes, post.shares, post.replies = (max(0, int(v or 0)) for v in (item.likes, item.shares, item.replies))
        post.extra = dict(item.extra)
        post.content_hash = digest
        session.add(post)
        session.flush()  # a duplicate inside one page updates the row just added
    return result
