"""The review queue: what waits for a person, most urgent first.

Ordering is by urgency only, never by channel (guideline 1): severity, raised by
`OVERDUE_BOOST` once a post is past its due time (so overdue items rise without burying a fresh
fraud accusation under old praise), then how long the post has waited.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlmodel import Session, col, select

from models import Assessment, AuditEvent, Decision, Draft, OutboxReply, Post, as_utc, utcnow
from monitor.decisions import get_post, latest_draft


@dataclass(frozen=True)
class QueueFilter:
    status: Optional[str] = "open"       # None: every status
    language: Optional[str] = None
    platform: Optional[str] = None
    min_severity: float = 0.0
    flagged_only: bool = False
    limit: int = 200


@dataclass
class QueueItem:
    id: int
    platform: str
    kind: str
    language: Optional[str]
    author: str
    reach: int
    text: str
    severity: float
    flagged: bool
    status: str
    summary: str
    topic: str
    strategy: str
    draft_id: Optional[int]
    created_at: datetime
    due_at: Optional[datetime]
    overdue: bool
    waiting_minutes: int
    claimed_by: Optional[str]
    outbox_state: Optional[str]
    outbox_error: Optional[str]

    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


@dataclass
class PostDetail:
    post: dict[str, Any]
    thread: list[dict[str, Any]]
    assessment: Optional[dict[str, Any]]
    draft: Optional[dict[str, Any]]
    decisions: list[dict[str, Any]]
    outbox: Optional[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _row(model: Any) -> dict[str, Any]:
    return _plain(model.model_dump())


def list_queue(session: Session, filters: QueueFilter, now: Optional[datetime] = None) -> list[QueueItem]:
    now = now or utcnow()
    query = select(Post).where(col(Post.erased_at).is_(None))     # erased posts (GDPR) are in no queue
    if filters.status:
        query = query.where(Post.status == filters.status)
    if filters.language:
        query = query.where(Post.language == filters.language)
    if filters.platform:
        query = query.where(Post.platform == filters.platform)
    if filters.min_severity:
        query = query.where(col(Post.severity) >= filters.min_severity)
    if filters.flagged_only:
        query = query.where(col(Post.flagged).is_(True))
    posts = list(session.exec(query))
    posts.sort(key=lambda p: (-urgency(p, now), as_utc(p.created_at)))
    posts = posts[: filters.limit]
    ids = [p.id for p in posts]
    drafts = _latest_by_post(session, Draft, ids)
    outbox = {row.post_id: row for row in session.exec(select(OutboxReply).where(col(OutboxReply.post_id).in_(ids)))}
    summaries = _latest_by_post(session, Assessment, ids)
    items = []
    for post in posts:
        draft, assessment, reply = drafts.get(post.id), summaries.get(post.id), outbox.get(post.id)
        claimed = post.claimed_by if post.claimed_until and as_utc(post.claimed_until) > now else None
        items.append(QueueItem(
            id=post.id, platform=post.platform, kind=post.kind, language=post.language, author=post.author_handle,
            reach=post.author_reach, text=post.text, severity=post.severity, flagged=post.flagged, status=post.status,
            summary=assessment.summary if assessment else "", topic=draft.topic if draft else "",
            strategy=draft.strategy if draft else "", draft_id=draft.id if draft else None, created_at=post.created_at, due_at=post.due_at,
            overdue=_overdue(post, now), waiting_minutes=int((now - as_utc(post.created_at)).total_seconds() // 60),
            claimed_by=claimed, outbox_state=reply.state if reply else None,
            outbox_error=reply.last_error if reply else None))
    return items


OVERDUE_BOOST = 0.2


def urgency(post: Post, now: datetime) -> float:
    return post.severity + (OVERDUE_BOOST if _overdue(post, now) else 0.0)


def _overdue(post: Post, now: datetime) -> bool:
    return post.status == "open" and post.due_at is not None and as_utc(post.due_at) < now


def _latest_by_post(session: Session, model: Any, ids: list[int]) -> dict[int, Any]:
    latest: dict[int, Any] = {}
    if not ids:
        return latest
    for row in session.exec(select(model).where(col(model.post_id).in_(ids)).order_by(col(model.id))):
        latest[row.post_id] = row
    return latest


def show_post(session: Session, post_id: int) -> PostDetail:
    post = get_post(session, post_id)
    thread: list[Post] = []
    if post.thread_id:
        thread = list(session.exec(select(Post).where(Post.platform == post.platform, Post.thread_id == post.thread_id,
                                                      Post.id != post.id).order_by(col(Post.created_at)).limit(20)))
    assessment = session.exec(select(Assessment).where(Assessment.post_id == post_id)
                              .order_by(col(Assessment.id).desc())).first()
    draft = latest_draft(session, post_id)
    decisions = list(session.exec(select(Decision).where(Decision.post_id == post_id).order_by(col(Decision.id))))
    reply = session.exec(select(OutboxReply).where(OutboxReply.post_id == post_id)).first()
    events = list(session.exec(select(AuditEvent).where(AuditEvent.post_id == post_id).order_by(col(AuditEvent.id))))
    return PostDetail(post=_row(post), thread=[_row(p) for p in thread], assessment=_row(assessment) if assessment else None,
                      draft=_row(draft) if draft else None, decisions=[_row(d) for d in decisions],
                      outbox=_row(reply) if reply else None, events=[_row(e) for e in events])
