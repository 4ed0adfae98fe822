"""Numbers for people: queue size, oldest waiting post, answer times and SLA breaches per channel
(so that anyone can see every channel is treated alike).

Everything is a SQL aggregate (GROUP BY channel and status, answer minutes counted per whole
minute) read from covering indexes: a million posts are never loaded. The percentiles are
interpolated over those per-minute counts, so they are exact to the minute. Answer times and
breaches cover the posts of a window (`monitor stats --days`, 30 by default; the dashboard's
`[web] dashboard_days`); the queue figures cover every open post.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable, Optional

from sqlalchemy import Float, and_, case, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlmodel import Session, col, select

from models import Post, as_utc


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


STATS_DAYS = 30


def windowed(query: Any, name: str) -> Any:
    """The rows of a window (a `created_at` range) as a MATERIALIZED CTE (SQLite 3.35+, PostgreSQL
    12+): the range is read from ix_post_window and then grouped, where a planner left alone may
    walk a whole index that happens to be in GROUP BY order and filter it row by row."""
    return query.cte(name).prefix_with("MATERIALIZED")


def compute(session: Session, now: datetime, days: Optional[int] = STATS_DAYS) -> dict[str, Any]:
    """The queue as it stands (every open post), and posts, answers and SLA breaches per channel
    for the posts that arrived in the last `days` days (None: all time, a scan of every post).

    Four GROUP BYs over covering indexes: per channel and status and the answer histogram read
    the window's `created_at` range (ix_post_window), the open posts their `status` range
    (ix_post_channel); none reads a table row."""
    one = 1
    since = now - timedelta(days=days) if days else None
    in_window = [col(Post.created_at) >= since] if since is not None else []
    if since is not None:
        window = windowed(select(Post.platform, Post.status).where(*in_window), "window_posts")
        by_channel_status = session.exec(select(window.c.platform, window.c.status, func.count())
                                         .group_by(window.c.platform, window.c.status)).all()
    else:
        by_channel_status = session.exec(select(Post.platform, Post.status, func.count())
                                         .group_by(Post.platform, Post.status)).all()
    open_rows = session.exec(select(
        Post.platform, func.count(), func.sum(case((col(Post.flagged).is_(True), one), else_=0)),
        func.sum(case((col(Post.due_at) < now, one), else_=0)), func.min(Post.created_at),
        # unanswered and past due: breaching right now (an answered one counts by its answer)
        func.sum(case((and_(col(Post.answered_late).is_(None), col(Post.due_at) < now), one), else_=0)),
    ).where(Post.status == "open").group_by(Post.platform)).all()
    histogram: dict[str, list[tuple[float, int]]] = {}
    late_answers: dict[str, int] = {}
    answers = select(Post.platform, Post.answer_minutes, Post.answered_late) \
        .where(col(Post.answer_minutes).is_not(None), *in_window)
    answers = windowed(answers, "window_answers") if since is not None else answers.subquery()
    for platform, minutes, late, n in session.exec(
            select(answers.c.platform, answers.c.answer_minutes, answers.c.answered_late, func.count())
            .group_by(answers.c.platform, answers.c.answer_minutes, answers.c.answered_late)):
        histogram.setdefault(platform, []).append((float(minutes), int(n)))
        late_answers[platform] = late_answers.get(platform, 0) + (int(n) if late else 0)

    by_status: dict[str, int] = {}
    posts: dict[str, int] = {}
    for platform, status, n in by_channel_status:
        by_status[status] = by_status.get(status, 0) + n
        posts[platform] = posts.get(platform, 0) + n
    open_by_channel: dict[str, tuple[int, int, int]] = {}
    oldest_open: Optional[datetime] = None
    flagged_open = 0
    for platform, n, flagged, past_due, oldest, breaching in open_rows:
        flagged_open += int(flagged or 0)
        open_by_channel[platform] = (int(n), int(past_due or 0), int(breaching or 0))
        if oldest is not None and (oldest_open is None or as_utc(oldest) < oldest_open):
            oldest_open = as_utc(oldest)
    channels = {}
    for platform in sorted(set(posts) | set(open_by_channel)):
        counts = histogram.get(platform, [])
        answered = sum(n for _, n in counts)
        open_now, overdue, breaching = open_by_channel.get(platform, (0, 0, 0))
        breaches = late_answers.get(platform, 0) + breaching
        judged = answered + overdue   # answered, or already late without an answer
        channels[platform] = {
            "posts": posts.get(platform, 0),
            "answered": answered,
            "answer_minutes_p50": percentile_of_counts(counts, 0.5),
            "answer_minutes_p90": percentile_of_counts(counts, 0.9),
            "answer_minutes_p95": percentile_of_counts(counts, 0.95),
            "sla_breaches": breaches,
            "breach_rate": round(breaches / judged, 3) if judged else None,
            "open": open_now,
            "overdue_open": overdue,
        }
    return {
        "days": days,
        "posts": sum(by_status.values()),
        "by_status": by_status,
        "open": sum(n for n, _, _ in open_by_channel.values()),
        "flagged_open": flagged_open,
        "overdue_open": sum(overdue for _, overdue, _ in open_by_channel.values()),
        "oldest_open_minutes": int((now - oldest_open).total_seconds() // 60) if oldest_open else None,
        "replies_sent": by_status.get("posted", 0),   # posted = its reply is on the platform
        "channels": channels,
    }
