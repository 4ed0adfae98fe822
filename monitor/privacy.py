"""GDPR: erase one person's data on request (`forget_author`) and what is older than
`[retention] days` (`apply_retention`).

Erasing anonymises in place instead of deleting rows, so the audit trail keeps its shape (who
decided what, when: actors, actions, times, ids stay) while every text that came from or was
written about the person goes: the post's text, author, link and platform specifics, the
analysis' quoted evidence, drafts, decisions' texts and reasons, the reply text and the text
fields of the post's audit events. The post keeps its platform and platform id and is marked
`erased_at`, so the next poll sees it as known and never stores it again as new.

A reply in flight (`sending` or `uncertain`) is never touched: reconciliation needs its text, and
the reply may be on the platform. Erasing such a post is refused until a person settles it;
retention skips it. An approved reply not yet sent is withdrawn (`cancelled`).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import (Assessment, AuditEvent, Decision, Draft, DraftEdit, FlagLabel, OutboxReply, OutboxState, Post,
                    PostStatus, QuarantinedItem, utcnow)
from monitor import audit
from monitor.errors import Conflict, NotFound

log = logging.getLogger(__name__)
ERASED = "[erased]"
IN_FLIGHT = (OutboxState.sending.value, OutboxState.uncertain.value)
UNSENT = (OutboxState.pending.value, OutboxState.failed.value, OutboxState.needs_person.value)
# Audit detail keys that describe the shape of what happened, not what anybody wrote.
SHAPE_KEYS = frozenset({"decision_id", "draft_id", "outbox_id", "reply_id", "edited", "findings", "was", "result",
                        "state_now", "how", "escalate_to", "assigned_to", "previous", "posts", "channel"})
RETENTION_BATCH = 500


@dataclass
class ErasureReport:
    posts: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)      # outbox ids of unsent replies cancelled
    skipped: list[int] = field(default_factory=list)        # posts whose reply is in flight (retention)


def handle_digest(platform: str, handle: str) -> str:
    """What the audit keeps of an erased person: enough to answer "did you erase X?", not X."""
    return hashlib.sha256(f"{platform}\0{normalise_handle(handle)}".encode("utf-8")).hexdigest()[:16]


def normalise_handle(handle: str) -> str:
    return handle.strip().lstrip("@").strip().lower()


def forget_author(session: Session, platform: str, handle: str, actor: str, *,
                  now: Optional[datetime] = None) -> ErasureReport:
    """Erase every post by `handle` on `platform` (case-insensitive, with or without '@')."""
    name = normalise_handle(handle)
    if not name or not platform.strip():
        raise NotFound("say whose data to erase: --author HANDLE --platform P")
    posts = list(session.exec(select(Post).where(Post.platform == platform.strip(),
                                                 func.lower(Post.author_handle) == name,
                                                 col(Post.erased_at).is_(None)).with_for_update()))
    if not posts:
        raise NotFound(f"no stored post by {handle!r} on {platform!r} (already erased, or never collected)")
    busy = _in_flight(session, [p.id for p in posts])
    if busy:
        raise Conflict(f"the reply to post(s) {', '.join(map(str, sorted(busy)))} is being sent or uncertain; "
                       "settle it first (monitor outbox list), then erase")
    report = _erase(session, posts, actor, now or utcnow())
    audit.record(session, actor, "privacy.forget", None, platform=platform, author_digest=handle_digest(platform, handle),
                 posts=report.posts, withdrawn=report.withdrawn)
    log.info("erased %s post(s) of one author on %s", len(report.posts), platform)
    return report


def apply_retention(session: Session, days: int, actor: str, *, now: Optional[datetime] = None) -> ErasureReport:
    """Erase posts collected on the platform more than `days` ago (one batch per call)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    query = (select(Post).where(col(Post.created_at) < cutoff, col(Post.erased_at).is_(None))
             .order_by(col(Post.id)).limit(RETENTION_BATCH))
    posts = list(session.exec(query.with_for_update(skip_locked=True)))
    busy = _in_flight(session, [p.id for p in posts])
    report = _erase(session, [p for p in posts if p.id not in busy], actor, now)
    report.skipped = sorted(busy)
    if report.posts or report.skipped:
        audit.record(session, actor, "privacy.retention", None, days=days, cutoff=cutoff.isoformat(),
                     posts=report.posts, withdrawn=report.withdrawn, skipped=report.skipped)
        log.info("retention: erased %s post(s) older than %s day(s)", len(report.posts), days)
    return report


def _in_flight(session: Session, post_ids: list[int]) -> set[int]:
    if not post_ids:
        return set()
    return set(session.exec(select(OutboxReply.post_id).where(col(OutboxReply.post_id).in_(post_ids),
                                                              col(OutboxReply.state).in_(IN_FLIGHT))))


def _erase(session: Session, posts: list[Post], actor: str, now: datetime) -> ErasureReport:
    report = ErasureReport()
    ids = [p.id for p in posts]
    if not ids:
        return report
    for post in posts:
        post.text, post.author_handle, post.url, post.author_reach = "", ERASED, None, 0
        post.extra, post.content_hash, post.analysed_hash = {}, "", ""
        post.claimed_by = post.claimed_until = None
        post.status, post.erased_at = PostStatus.erased.value, now
        session.add(post)
        report.posts.append(post.id)
    for assessment in session.exec(select(Assessment).where(col(Assessment.post_id).in_(ids))):
        assessment.summary = ""
        assessment.flags = [{"code": f.get("code"), "weight": f.get("weight")} for f in assessment.flags or []
                            if isinstance(f, dict)]
        session.add(assessment)
    for draft in session.exec(select(Draft).where(col(Draft.post_id).in_(ids))):
        draft.text, draft.notes, draft.findings = ERASED, [], []
        draft.goodwill = ERASED if draft.goodwill else None
        session.add(draft)
    for decision in session.exec(select(Decision).where(col(Decision.post_id).in_(ids))):
        decision.final_text = _erased(decision.final_text)
        decision.reason = _erased(decision.reason)
        decision.override_reason = _erased(decision.override_reason)
        decision.findings = [{"code": f.get("code")} for f in decision.findings or [] if isinstance(f, dict)]
        session.add(decision)
    for edit in session.exec(select(DraftEdit).where(col(DraftEdit.post_id).in_(ids))):  # approvers' edits
        edit.draft_text, edit.final_text, edit.diff, edit.removed, edit.added = ERASED, ERASED, "", [], []
        session.add(edit)
    for label in session.exec(select(FlagLabel).where(col(FlagLabel.post_id).in_(ids))):
        label.note = _erased(label.note)
        session.add(label)
    for item in session.exec(select(QuarantinedItem).where(col(QuarantinedItem.post_id).in_(ids))):
        item.payload = ""                                                   # the platform's raw data
        session.add(item)
    for reply in session.exec(select(OutboxReply).where(col(OutboxReply.post_id).in_(ids))):
        if reply.state in UNSENT:
            audit.record(session, actor, "outbox.cancel", reply.post_id, outbox_id=reply.id, was=reply.state,
                         how="erased")
            reply.state = OutboxState.cancelled.value
            report.withdrawn.append(reply.id)
        reply.text, reply.last_error, reply.updated_at = ERASED, _erased(reply.last_error), now
        session.add(reply)
    session.flush()
    for event in session.exec(select(AuditEvent).where(col(AuditEvent.post_id).in_(ids))):
        details = {key: value if key in SHAPE_KEYS else _erased_value(value) for key, value in (event.details or {}).items()}
        if details != event.details:
            event.details = details
            session.add(event)
    return report


def _erased(value: Optional[str]) -> Optional[str]:
    return ERASED if value else value


def _erased_value(value: Any) -> Any:
    if isinstance(value, str):
        return _erased(value)
    if isinstance(value, list):
        return [_erased_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _erased_value(v) for k, v in value.items()}
    return value
