"""Read-only figures for people: the dashboard's series, the filterable audit log and the
decisions export. Plain functions over a `Session`, shared by the web app and any CLI command.

Days are the shop's local days ([app] timezone), because "Monday's answer times" means the
shop's Monday. Every channel is measured the same way (guideline 1).
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Iterator, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from models import AuditEvent, Decision, OutboxReply, Post, as_utc
from monitor.queue import _plain


@dataclass
class DaySeries:
    """One channel's answer times per local day (None where nothing was answered that day)."""

    channel: str
    p50: list[Optional[float]]
    p90: list[Optional[float]]
    answered: list[int]


@dataclass
class Breach:
    post_id: int
    platform: str
    author: str
    due_at: datetime
    answered_at: Optional[datetime]
    minutes_late: int
    status: str


@dataclass
class Dashboard:
    days: list[date]
    open: int
    flagged_open: int
    overdue_open: int
    oldest_open_id: Optional[int]
    oldest_open_minutes: Optional[int]
    channels: dict[str, dict[str, Any]]                     # overall per channel (monitor.stats)
    answer_series: list[DaySeries]
    flagged_by_reason: dict[str, list[int]]                 # main reason code -> posts per day (each post once)
    breaches: list[Breach] = field(default_factory=list)
    breach_count: int = 0


def local_days(now: datetime, zone: ZoneInfo, days: int) -> list[date]:
    today = as_utc(now).astimezone(zone).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _day_of(value: datetime, zone: ZoneInfo) -> date:
    return as_utc(value).astimezone(zone).date()


def day_start_utc(day: date, zone: ZoneInfo) -> datetime:
    return as_utc(datetime.combine(day, time(0, 0), zone))


BREACHES_LISTED = 50


def main_reason(codes: Optional[str]) -> str:
    """The most decisive of a post's stored flag codes (" fraud negative " -> "fraud")."""
    from monitor.plain import ORDER
    found = (codes or "").split()
    if not found:
        return "other"
    return min(found, key=lambda code: (ORDER.index(code) if code in ORDER else len(ORDER), code))


def dashboard(session: Session, now: datetime, timezone: str, days: int = 14) -> Dashboard:
    """Queue size, oldest waiting post, answer-time percentiles per channel and per day (by the
    day the post arrived), posts flagged per day by reason, and the posts that broke the SLA
    (the `BREACHES_LISTED` latest-by-most; `breach_count` counts them all).

    Every figure is a GROUP BY in the database: local days become a CASE over the days' UTC
    starts (so daylight-saving days are right on SQLite too), answer times a per-minute histogram."""
    from monitor import stats

    zone = ZoneInfo(timezone)
    window = local_days(now, zone, days)
    since = day_start_utc(window[0], zone)
    overall = stats.compute(session, now, days)
    created = col(Post.created_at)
    day = case(*[(created < day_start_utc(d, zone), i - 1) for i, d in enumerate(window) if i > 0],
               else_=len(window) - 1)
    in_window = created >= since

    oldest = session.exec(select(Post.id).where(Post.status == "open").order_by(created, col(Post.id)).limit(1)).first()

    histograms: dict[tuple[str, int], list[tuple[float, int]]] = defaultdict(list)
    answers = stats.windowed(select(Post.platform, day.label("day"), Post.answer_minutes)
                             .where(in_window, col(Post.answer_minutes).is_not(None)), "window_answers")
    for platform, index, bucket, n in session.exec(
            select(answers.c.platform, answers.c.day, answers.c.answer_minutes, func.count())
            .group_by(answers.c.platform, answers.c.day, answers.c.answer_minutes)):
        histograms[(platform, int(index))].append((float(bucket), int(n)))

    late = and_(in_window, col(Post.due_at).is_not(None), stats.breach_condition(now))
    lateness = stats.minutes_between(col(Post.due_at), func.coalesce(col(Post.answered_at), now))
    breach_count = session.exec(select(func.count()).select_from(Post).where(late)).one()
    breaches = [Breach(post_id, platform, author, as_utc(due), as_utc(answered) if answered else None,
                       int(((as_utc(answered) if answered else now) - as_utc(due)).total_seconds() // 60), status)
                for post_id, platform, author, due, answered, status in session.exec(
                    select(Post.id, Post.platform, Post.author_handle, Post.due_at, Post.answered_at, Post.status)
                    .where(late).order_by(lateness.desc(), col(Post.id)).limit(BREACHES_LISTED))]

    flagged_by_reason: dict[str, list[int]] = {}
    flagged = stats.windowed(select(day.label("day"), Post.flag_codes)
                             .where(in_window, col(Post.flagged).is_(True)), "window_flagged")
    for index, codes, n in session.exec(select(flagged.c.day, flagged.c.flag_codes, func.count())
                                        .group_by(flagged.c.day, flagged.c.flag_codes)):
        # Each post counts once, under its main reason (the most decisive of its flags), so the
        # bars add up to the number of posts flagged that day.
        flagged_by_reason.setdefault(main_reason(codes), [0] * len(window))[int(index)] += int(n)

    active = {platform for platform, _ in histograms}
    channels = sorted(active | set(overall["channels"]))
    series = []
    for channel in channels:
        values = [histograms.get((channel, i), []) for i in range(len(window))]
        series.append(DaySeries(channel, [stats.percentile_of_counts(v, 0.5) for v in values],
                                [stats.percentile_of_counts(v, 0.9) for v in values],
                                [sum(n for _, n in v) for v in values]))

    return Dashboard(days=window, open=overall["open"], flagged_open=overall["flagged_open"],
                     overdue_open=overall["overdue_open"], oldest_open_id=oldest,
                     oldest_open_minutes=overall["oldest_open_minutes"], channels=overall["channels"],
                     answer_series=series, flagged_by_reason=dict(sorted(flagged_by_reason.items())),
                     breaches=breaches, breach_count=int(breach_count))


@dataclass(frozen=True)
class AuditFilter:
    actor: Optional[str] = None
    action: Optional[str] = None        # exact ("decision.approve") or a prefix ending in "." ("decision.")
    post_id: Optional[int] = None
    since: Optional[datetime] = None    # inclusive, aware
    until: Optional[datetime] = None    # exclusive, aware
    limit: int = 100
    before: Optional[int] = None        # keyset paging: only events older than this id


def audit_log(session: Session, filters: AuditFilter) -> list[dict[str, Any]]:
    """Newest first. Returns at most `limit` events (ask for limit+1 to know if more exist)."""
    query = select(AuditEvent)
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor)
    if filters.action:
        if filters.action.endswith("."):
            query = query.where(col(AuditEvent.action).startswith(filters.action, autoescape=True))
        else:
            query = query.where(AuditEvent.action == filters.action)
    if filters.post_id is not None:
        query = query.where(AuditEvent.post_id == filters.post_id)
    if filters.since is not None:
        query = query.where(col(AuditEvent.at) >= filters.since)
    if filters.until is not None:
        query = query.where(col(AuditEvent.at) < filters.until)
    if filters.before is not None:
        query = query.where(col(AuditEvent.id) < filters.before)
    query = query.order_by(col(AuditEvent.id).desc()).limit(max(1, min(filters.limit, 1000)))
    return [_plain(event.model_dump()) for event in session.exec(query)]


def audit_vocabulary(session: Session) -> tuple[list[str], list[str]]:
    """The actors and actions that occur, for the filter's drop-downs."""
    actors = sorted(set(session.exec(select(AuditEvent.actor).distinct())))
    actions = sorted(set(session.exec(select(AuditEvent.action).distinct())))
    return actors, actions


DECISION_COLUMNS = ("decision_id", "decided_at", "post_id", "platform", "external_id", "post_url", "author",
                    "language", "post_created_at", "action", "actor", "final_text", "reason", "escalate_to",
                    "findings", "override_reason", "answer_minutes", "outbox_state", "sent_at", "external_reply_id")


def decision_rows(session: Session, since: Optional[datetime] = None,
                  until: Optional[datetime] = None) -> Iterator[dict[str, Any]]:
    """Every decision with its post and what was posted, oldest first; read in pages of
    `EXPORT_PAGE` decisions (keyset on the id), so an export of years holds one page at a time."""
    last = 0
    while True:
        query = (select(Decision, Post, OutboxReply).join(Post, col(Post.id) == Decision.post_id)
                 .outerjoin(OutboxReply, col(OutboxReply.decision_id) == Decision.id)
                 .where(col(Decision.id) > last).order_by(col(Decision.id)).limit(EXPORT_PAGE))
        if since is not None:
            query = query.where(col(Decision.created_at) >= since)
        if until is not None:
            query = query.where(col(Decision.created_at) < until)
        rows = session.exec(query).all()
        if not rows:
            return
        last = rows[-1][0].id
        yield from (_decision_row(decision, post, reply) for decision, post, reply in rows)
        session.expunge_all()


EXPORT_PAGE = 2000


def _decision_row(decision: Decision, post: Post, reply: Optional[OutboxReply]) -> dict[str, Any]:
    created = as_utc(post.created_at)
    return {
        "decision_id": decision.id, "decided_at": as_utc(decision.created_at).isoformat(), "post_id": post.id,
        "platform": post.platform, "external_id": post.external_id, "post_url": post.url or "",
        "author": post.author_handle, "language": post.language or "", "post_created_at": created.isoformat(),
        "action": decision.action, "actor": decision.actor, "final_text": decision.final_text or "",
        "reason": decision.reason or "", "escalate_to": decision.escalate_to or "",
        "findings": " ".join(str(f.get("code", "")) for f in decision.findings or []),
        "override_reason": decision.override_reason or "",
        "answer_minutes": round((as_utc(decision.created_at) - created).total_seconds() / 60, 1),
        "outbox_state": reply.state if reply else "", "sent_at": as_utc(reply.sent_at).isoformat() if reply and reply.sent_at else "",
        "external_reply_id": (reply.external_reply_id or "") if reply else "",
    }


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text: posts are untrusted, and a cell starting
    with = + - @ (or a tab/CR) would otherwise run as a formula (OWASP "CSV injection")."""
    text = "" if value is None else str(value)
    if text and not isinstance(value, (int, float)) and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def to_csv(rows: Iterable[dict[str, Any]], columns: Iterable[str] = DECISION_COLUMNS) -> Iterator[str]:
    """CSV text, one chunk per row (header first), for streaming."""
    columns = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(row.get(name)) for name in columns])
        yield buffer.getvalue()
