"""Numbers for people: queue size, oldest waiting post, answer times and SLA breaches per channel
(so that anyone can see every channel is treated alike)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from models import OutboxReply, Post, as_utc


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = (len(ordered) - 1) * q
    low, high = int(index), min(int(index) + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (index - low), 1)


def compute(session: Session, now: datetime) -> dict[str, Any]:
    posts = list(session.exec(select(Post)))
    by_status: dict[str, int] = defaultdict(int)
    answer_minutes: dict[str, list[float]] = defaultdict(list)
    breaches: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    open_by_channel: dict[str, int] = defaultdict(int)
    overdue_by_channel: dict[str, int] = defaultdict(int)
    open_posts = [p for p in posts if p.status == "open"]
    for post in posts:
        by_status[post.status] += 1
        counts[post.platform] += 1
        created = as_utc(post.created_at)
        overdue = post.status == "open" and post.due_at is not None and now > as_utc(post.due_at)
        if post.status == "open":
            open_by_channel[post.platform] += 1
            overdue_by_channel[post.platform] += int(overdue)
        if post.answered_at:
            answer_minutes[post.platform].append((as_utc(post.answered_at) - created).total_seconds() / 60)
            late = post.due_at and as_utc(post.answered_at) > as_utc(post.due_at)
        else:
            late = overdue
        if late:
            breaches[post.platform] += 1
    oldest = min(open_posts, key=lambda p: as_utc(p.created_at), default=None)
    sent = len(list(session.exec(select(OutboxReply.id).where(OutboxReply.state == "sent"))))
    channels = {}
    for platform in sorted(counts):
        minutes = answer_minutes[platform]
        judged = len(minutes) + overdue_by_channel[platform]   # answered, or already late without an answer
        channels[platform] = {
            "posts": counts[platform],
            "answered": len(minutes),
            "answer_minutes_p50": percentile(minutes, 0.5),
            "answer_minutes_p90": percentile(minutes, 0.9),
            "answer_minutes_p95": percentile(minutes, 0.95),
            "sla_breaches": breaches[platform],
            "breach_rate": round(breaches[platform] / judged, 3) if judged else None,
            "open": open_by_channel[platform],
            "overdue_open": overdue_by_channel[platform],
        }
    return {
        "posts": len(posts),
        "by_status": dict(by_status),
        "open": len(open_posts),
        "flagged_open": sum(1 for p in open_posts if p.flagged),
        "overdue_open": sum(1 for p in open_posts if p.due_at and now > as_utc(p.due_at)),
        "oldest_open_minutes": int((now - as_utc(oldest.created_at)).total_seconds() // 60) if oldest else None,
        "replies_sent": sent,
        "channels": channels,
    }
