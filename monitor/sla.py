"""When a post must be answered (guidelines 1-2): the first-answer target, capped by the end of
the shop's business day in its time zone. A post arriving after hours, or on a day the shop is
closed, is due the next business morning plus the target, never "tomorrow evening".

Wall-clock times (opening, closing) are read in the shop's zone; durations are added in UTC, so
a daylight-saving change never stretches or shrinks the target.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Optional
from zoneinfo import ZoneInfo

from models import as_utc

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """`clock` on `day` in the shop's zone, as UTC (a time skipped by DST moves forward)."""
    return as_utc(datetime.combine(day, clock, zone))


def due_time(created_at: datetime, *, first_answer_minutes: int, day_start: str, day_end: str,
             timezone: str, business_days: Optional[Iterable[str]] = None) -> datetime:
    """Aware UTC due time for a post written at `created_at`.

    `business_days` are weekday names (mon..sun) on which the shop answers; None means every day.
    """
    zone = ZoneInfo(timezone)
    open_days = {WEEKDAYS.index(day[:3].lower()) for day in (business_days or WEEKDAYS)}
    created = as_utc(created_at)
    local_day = created.astimezone(zone).date()
    start, end = _clock(day_start), _clock(day_end)
    target = timedelta(minutes=first_answer_minutes)
    for offset in range(8):  # within a week there is always an open day
        day = local_day + timedelta(days=offset)
        if day.weekday() not in open_days:
            continue
        day_open, day_close = _at(day, start, zone), _at(day, end, zone)
        if created >= day_close:
            continue                          # after closing: the next open day
        begin = max(created, day_open)        # before opening: the clock starts at opening
        return min(begin + target, day_close)
    raise ValueError("business_days is empty")


def due_for(settings: Any, created_at: datetime) -> datetime:
    """`due_time` with the [sla] and [app] timezone settings."""
    sla = settings.sla
    return due_time(created_at, first_answer_minutes=sla.first_answer_minutes, day_start=sla.business_day_start,
                    day_end=sla.business_day_end, timezone=settings.app.timezone,
                    business_days=getattr(sla, "business_days", None))
