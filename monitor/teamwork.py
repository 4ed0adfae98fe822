"""What a team does together on a post, besides deciding: assign it (to me, a colleague or a
team such as legal), leave an internal note, tag it, close it without a reply (one post or
many), and notice when its text changed on the platform after a decision. The CLI
(`monitor assign/note/tag/close`) and the web app both call these through `Monitor`; every
action lands in the audit log. Notes live only there: they are never a draft, never posted."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Iterable, Optional, Sequence

from sqlmodel import Session, col, select

from models import AuditEvent, Post, PostStatus, User, as_utc, utcnow
from monitor import audit, decisions
from monitor.decisions import Actor, get_post, limited
from monitor.errors import Conflict, MonitorError, NotFound

TEAMS = ("legal", "management", "customer_service", "logistics")
MAX_TAGS = 12
MAX_NOTE_CHARS = 2_000
MAX_BULK = 500
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
NOTE_ACTION = "post.note"


def assign(session: Session, post_id: int, actor: Actor, to: Optional[str], lock_minutes: int) -> Post:
    """Give the post to `to`: None or "me" is the actor (who also takes the lock, "I am on it"),
    a team from `TEAMS`, or an active colleague's user name. Refused while a colleague holds it."""
    now = utcnow()
    post = get_post(session, post_id)
    if post.status not in (PostStatus.open, PostStatus.escalated):
        raise Conflict(f"post {post_id} is already {post.status}")
    if post.claimed_by and post.claimed_by != actor.name and post.claimed_until and as_utc(post.claimed_until) > now:
        raise Conflict(f"{post.claimed_by} is working on post {post_id}")
    target = (to or "me").strip()
    if target in ("me", actor.name):
        target = actor.name
        post.claimed_by, post.claimed_until = actor.name, now + timedelta(minutes=lock_minutes)
    elif target not in TEAMS:
        user = session.exec(select(User).where(User.username == target)).first()
        if user is None or not user.active:
            raise NotFound(f"nobody called {target!r} can take posts; give a colleague's user name or a team "
                           f"({', '.join(TEAMS)})")
    previous = post.assigned_to
    post.assigned_to = target
    session.add(post)
    if previous != target:
        audit.record(session, actor.name, "post.assign", post_id, assigned_to=target, previous=previous)
    return post


def note(session: Session, post_id: int, actor: Actor, text: str) -> AuditEvent:
    """An internal note for colleagues: kept in the audit log with the post, never posted."""
    get_post(session, post_id)
    body = limited(text, "note", MAX_NOTE_CHARS)
    if not body:
        raise Conflict("the note is empty")
    return audit.record(session, actor.name, NOTE_ACTION, post_id, note=body)


def notes(session: Session, post_id: int) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.post_id == post_id, AuditEvent.action == NOTE_ACTION)
                             .order_by(col(AuditEvent.id))))


def clean_tag(value: str) -> str:
    tag = value.strip().lower().lstrip("#")
    if not _TAG.match(tag):
        raise Conflict(f"{value.strip()[:40]!r} is not a tag: use up to 32 letters, digits, - or _ (e.g. shipping)")
    return tag


def tag(session: Session, post_id: int, actor: Actor, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
    """Add and remove tags; returns the post's tags. Stored as " a b " so a filter is one LIKE."""
    post = get_post(session, post_id)
    current = post.tags.split()
    added = [t for t in (clean_tag(v) for v in add) if t not in current]
    removed = [t for t in (clean_tag(v) for v in remove) if t in current]
    tags = sorted((set(current) | set(added)) - set(removed))
    if len(tags) > MAX_TAGS:
        raise Conflict(f"a post has at most {MAX_TAGS} tags")
    if added or removed:
        post.tags = " " + " ".join(tags) + " " if tags else ""
        session.add(post)
        audit.record(session, actor.name, "post.tag", post_id, added=added, removed=removed)
    return tags


@dataclass
class CloseReport:
    closed: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)     # post id -> why it stays


def close(session_factory, post_ids: Sequence[int], actor: Actor, reason: str) -> CloseReport:
    """Close posts that need no reply (praise, spam, "do not reply"), each in its own transaction
    so one refusal (a colleague holds it, already decided) leaves the others closed. A closed
    post is `rejected` with the reason: nothing is posted, and the audit log says who and why."""
    reason = (limited(reason, "reason") or "")
    if not reason:
        raise Conflict("closing needs a reason (e.g. spam, praise needs no answer)")
    ids = list(dict.fromkeys(post_ids))
    if len(ids) > MAX_BULK:
        raise Conflict(f"close at most {MAX_BULK} posts at once")
    report = CloseReport()
    for post_id in ids:
        try:
            with session_factory() as session:
                decisions.reject(session, post_id, actor, reason)
                audit.record(session, actor.name, "post.close", post_id, reason=reason, bulk=len(ids) > 1)
            report.closed.append(post_id)
        except MonitorError as exc:
            if len(ids) == 1:
                raise
            report.refused[post_id] = str(exc)
    return report


def mark_changed(session: Session, post: Post) -> None:
    """Collect saw a decided post's text change on the platform: warn on the post, and give a
    closed one back to the queue (its text may now need an answer). An escalated one stays with
    its team and gets a fresh draft (service.process drafts open and escalated posts)."""
    post.changed_at = utcnow()
    previous = post.status
    if post.status == PostStatus.rejected:
        post.status = PostStatus.open.value
    audit.record(session, "collector", "post.changed", post.id, status=previous, reopened=previous != post.status)
