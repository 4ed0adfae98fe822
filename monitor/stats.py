"""Numbers for people: queue size, oldest waiting post, answer times and SLA breaches per channel
(so that anyone can see every channel is treated alike).

Everything is a SQL aggregate (GROUP BY channel and status, answer minutes counted per whole
minute), read from the covering index ix_post_channel: a million posts are never loaded. The
percentiles are interpolated over those per-minute counts, so they are exact to the minute.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Optional

from sqlalchemy import Float, and_, case, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlmodel import Session, col, select

from models import OutboxReply, Post, as_utc


class minutes_between(FunctionElement):
    """Minutes from the first timestamp to the second, in the database's own date arithmetic."""

    type = Float()
    name = "minutes_between"
    inherit_cache = True


@compiles(minutes_between, "sqlite")
def _minutes_sqlite(element: minutes_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 1440.0)"


@compiles(minutes_between, "postgresql")
def _minutes_postgresql(element: minutes_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)})) / 60.0)"


def answer_minutes() -> ColumnElement[Any]:
    """Whole minutes from a post's arrival to its first answer (the histogram's bucket), stored
    on the post when it is answered (models.tables.answer_minutes)."""
    return col(Post.answer_minutes)


def percentile(values: list[float], q: float) -> float | None:
    return percentile_of_counts([(value, 1) for value in values], q)


def percentile_of_counts(counts: Iterable[tuple[float, int]], q: float) -> float | None:
    """The q-quantile (linear interpolation, as numpy's default) of a histogram of (value, count)."""
    ordered = sorted((float(value), int(n)) for value, n in counts if n)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    index = (total - 1) * q
    low_rank = int(index)

    def value_at(rank: int) -> float:
        seen = 0
        for value, n in ordered:
            seen += n
            if rank < seen:
                return value
        return ordered[-1][0]

    low, high = value_at(low_rank), value_at(min(low_rank + 1, total - 1))
    return round(low + (high - low) * (index - low_rank), 1)


def breach_condition(now: datetime) -> ColumnElement[bool]:
    """Late: answered after the due time, or still open (unanswered) past it."""
    return or_(and_(col(Post.answered_at).is_not(None), col(Post.answered_at) > col(Post.due_at)),
               and_(col(Post.answered_at).is_(None), Post.status == "open", col(Post.due_at) < now))


def compute(session: Session, now: datetime) -> dict[str, Any]:
    """Three GROUP BYs over covering indexes: posts per channel and status (ix_post_channel),
    the open ones' flags, lateness and age (its `status = 'open'` range), and the answered ones
    per stored answer minute and lateness (ix_post_answer)."""
    one = 1
    by_channel_status = session.exec(select(Post.platform, Post.status, func.count())
                                     .group_by(Post.status, Post.platform)).all()
    open_rows = session.exec(select(
        Post.platform, func.sum(case((col(Post.flagged).is_(True), one), else_=0)),
        func.sum(case((col(Post.due_at) < now, one), else_=0)), func.min(Post.created_at),
    ).where(Post.status == "open").group_by(Post.platform)).all()
    histogram: dict[str, list[tuple[float, int]]] = {}
    late_answers: dict[str, int] = {}
    for platform, minutes, late, n in session.exec(
            select(Post.platform, Post.answer_minutes, Post.answered_late, func.count())
            .where(col(Post.answer_minutes).is_not(None))
            .group_by(Post.platform, Post.answer_minutes, Post.answered_late)):
        histogram.setdefault(platform, []).append((float(minutes), int(n)))
        late_answers[platform] = late_answers.get(platform, 0) + (int(n) if late else 0)
    sent = session.exec(select(func.count()).select_from(OutboxReply).where(OutboxReply.state == "sent")).one()

    by_status: dict[str, int] = {}
    posts: dict[str, int] = {}
    open_by_channel: dict[str, int] = {}
    for platform, status, n in by_channel_status:
        by_status[status] = by_status.get(status, 0) + n
        posts[platform] = posts.get(platform, 0) + n
        if status == "open":
            open_by_channel[platform] = n
    overdue_by_channel: dict[str, int] = {}
    oldest_open: Optional[datetime] = None
    flagged_open = 0
    for platform, flagged, past_due, oldest in open_rows:
        flagged_open += int(flagged or 0)
        overdue_by_channel[platform] = int(past_due or 0)
        if oldest is not None and (oldest_open is None or as_utc(oldest) < oldest_open):
            oldest_open = as_utc(oldest)
    # Open posts that were answered once (a withdrawn reply) count by their answer, as before.
    unanswered_overdue = dict(session.exec(
        select(Post.platform, func.count()).where(Post.status == "open", col(Post.due_at) < now,
                                                  col(Post.answered_at).is_(None)).group_by(Post.platform)).all())
    channels = {}
    for platform in sorted(posts):
        counts = histogram.get(platform, [])
        answered = sum(n for _, n in counts)
        overdue = overdue_by_channel.get(platform, 0)
        breaches = late_answers.get(platform, 0) + int(unanswered_overdue.get(platform, 0))
        judged = answered + overdue   # answered, or already late without an answer
        channels[platform] = {
            "posts": posts[platform],
            "answered": answered,
            "answer_minutes_p50": percentile_of_counts(counts, 0.5),
            "answer_minutes_p90": percentile_of_counts(counts, 0.9),
            "answer_minutes_p95": percentile_of_counts(counts, 0.95),
            "sla_breaches": breaches,
            "breach_rate": round(breaches / judged, 3) if judged else None,
            "open": open_by_channel.get(platform, 0),
            "overdue_open": overdue,
        }
    return {
        "posts": sum(by_status.values()),
        "by_status": by_status,
        "open": by_status.get("open", 0),
        "flagged_open": flagged_open,
        "overdue_open": sum(overdue_by_channel.values()),
        "oldest_open_minutes": int((now - oldest_open).total_seconds() // 60) if oldest_open else None,
        "replies_sent": int(sent),
        "channels": channels,
    }
