""""Assign to me": a person takes a post as theirs (Post.assigned_to) and holds its lock, so a
colleague who opens it sees who is on it. Refused while a colleague holds the lock."""
from __future__ import annotations

from datetime import timedelta

from models import Post, as_utc, utcnow
from monitor import audit
from monitor.decisions import Actor, get_post
from monitor.errors import Conflict
from sqlmodel import Session


def assign(session: Session, post_id: int, actor: Actor, lock_minutes: int) -> Post:
    now = utcnow()
    post = get_post(session, post_id)
    if post.status not in ("open", "escalated"):
        raise Conflict(f"post {post_id} is already {post.status}")
    if post.claimed_by and post.claimed_by != actor.name and post.claimed_until and as_utc(post.claimed_until) > now:
        raise Conflict(f"{post.claimed_by} is working on post {post_id}")
    previous = post.assigned_to
    post.assigned_to = actor.name
    post.claimed_by, post.claimed_until = actor.name, now + timedelta(minutes=lock_minutes)
    session.add(post)
    if previous != actor.name:
        audit.record(session, actor.name, "post.assign", post_id, assigned_to=actor.name, previous=previous)
    return post
