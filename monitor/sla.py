"""When a post must be answered (guidelines 1-2): the first-answer target, capped by the end of
the shop's business day in its time zone. A post arriving after hours is due the next business
morning plus the target, never "tomorrow evening"."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from models import as_utc


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def due_time(created_at: datetime, *, first_answer_minutes: int, day_start: str, day_end: str,
             timezone: str) -> datetime:
    """Aware UTC due time for a post written at `created_at`."""
    zone = ZoneInfo(timezone)
    local = as_utc(created_at).astimezone(zone)
    start, end = _clock(day_start), _clock(day_end)
    target = timedelta(minutes=first_answer_minutes)
    day_open = datetime.combine(local.date(), start, zone)
    day_close = datetime.combine(local.date(), end, zone)
    if local < day_open:                       # before opening: due an hour after opening
        due = min(day_open + target, day_close)
    elif local >= day_close:                   # after closing: next morning
        next_open = datetime.combine(local.date() + timedelta(days=1), start, zone)
        next_close = datetime.combine(local.date() + timedelta(days=1), end, zone)
        due = min(next_open + target, next_close)
    else:
        due = min(local + target, day_close)
    return as_utc(due)
