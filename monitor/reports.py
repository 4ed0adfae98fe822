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

from sqlmodel import Session, col, select

from models import Assessment, AuditEvent, Decision, OutboxReply, Post, as_utc
from monitor.queue import _plain
from monitor.stats import percentile


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
    flagged_by_reason: dict[str, list[int]]                 # reason code -> count per day
    breaches: list[Breach] = field(default_factory=list)


def local_days(now: datetime, zone: ZoneInfo, days: int) -> list[date]:
    today = as_utc(now).astimezone(zone).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _day_of(value: datetime, zone: ZoneInfo) -> date:
    return as_utc(value).astimezone(zone).date()


def day_start_utc(day: date, zone: ZoneInfo) -> datetime:
    return as_utc(datetime.combine(day, time(0, 0), zone))


def dashboard(session: Session, now: datetime, timezone: str, days: int = 14) -> Dashboard:
    """Queue size, oldest waiting post, answer-time percentiles per channel and per day (by the
    day the post arrived), posts flagged per day by reason, and the posts that broke the SLA."""
    from monitor import stats

    zone = ZoneInfo(timezone)
    window = local_days(now, zone, days)
    since = day_start_utc(window[0], zone)
    overall = stats.compute(session, now)
    index = {day: i for i, day in enumerate(window)}

    open_posts = list(session.exec(select(Post).where(Post.status == "open")))
    oldest = min(open_posts, key=lambda p: as_utc(p.created_at), default=None)

    recent = list(session.exec(select(Post).where(col(Post.created_at) >= since)))
    minutes: dict[tuple[str, int], list[float]] = defaultdict(list)
    breaches: list[Breach] = []
    for post in recent:
        created = as_utc(post.created_at)
        day = index.get(_day_of(created, zone))
        if post.answered_at is not None and day is not None:
            minutes[(post.platform, day)].append((as_utc(post.answered_at) - created).total_seconds() / 60)
        if post.due_at is not None:
            due = as_utc(post.due_at)
            answered = as_utc(post.answered_at) if post.answered_at else None
            late_at = answered if answered else (now if post.status == "open" else None)
            if late_at is not None and late_at > due:
                breaches.append(Breach(post.id, post.platform, post.author_handle, due, answered,
                                       int((late_at - due).total_seconds() // 60), post.status))
    breaches.sort(key=lambda b: -b.minutes_late)

    channels = sorted({p.platform for p in recent} | set(overall["channels"]))
    series = []
    for channel in channels:
        values = [minutes.get((channel, i), []) for i in range(len(window))]
        series.append(DaySeries(channel, [percentile(v, 0.5) for v in values], [percentile(v, 0.9) for v in values],
                                [len(v) for v in values]))

    flagged_by_reason: dict[str, list[int]] = {}
    flagged = {p.id: p for p in recent if p.flagged}
    if flagged:
        latest: dict[int, Assessment] = {}
        rows = session.exec(select(Assessment).where(col(Assessment.post_id).in_(list(flagged)))
                            .order_by(col(Assessment.id)))
        for row in rows:
            latest[row.post_id] = row
        for post_id, post in flagged.items():
            day = index.get(_day_of(post.created_at, zone))
            assessment = latest.get(post_id)
            if day is None:
                continue
            codes = {str(f.get("code") or "other") for f in (assessment.flags if assessment else [])} or {"other"}
            for code in codes:
                flagged_by_reason.setdefault(code, [0] * len(window))[day] += 1

    return Dashboard(days=window, open=overall["open"], flagged_open=overall["flagged_open"],
                     overdue_open=overall["overdue_open"], oldest_open_id=oldest.id if oldest else None,
                     oldest_open_minutes=overall["oldest_open_minutes"], channels=overall["channels"],
                     answer_series=series, flagged_by_reason=dict(sorted(flagged_by_reason.items())),
                     breaches=breaches)


@dataclass(frozen=True)
class AuditFilter:
    actor: Optional[str] = None
    action: Optional[str] = None        # exact ("decision.approve") or a prefix ending in "." ("decision.")
    post_id: Optional[int] = None
    since: Optional[datetime] = None    # inclusive, aware
    until: Optional[datetime] = None    # exclusive, aware
    limit: int = 100
    offset: int = 0


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
    query = query.order_by(col(AuditEvent.id).desc()).offset(max(0, filters.offset)).limit(max(1, filters.limit))
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
    """Every decision with its post and what was posted, oldest first."""
    query = select(Decision, Post).where(Decision.post_id == Post.id)
    if since is not None:
        query = query.where(col(Decision.created_at) >= since)
    if until is not None:
        query = query.where(col(Decision.created_at) < until)
    outbox = {row.decision_id: row for row in session.exec(select(OutboxReply))}
    for decision, post in session.exec(query.order_by(col(Decision.id))):
        reply = outbox.get(decision.id)
        created = as_utc(post.created_at)
        yield {
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
