"""Due times: the first-answer target capped by the end of the business day, in the shop's zone,
across day boundaries, weekends and daylight-saving changes."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.settings import SettingsError
from monitor.sla import due_time

WARSAW, NEW_YORK = ZoneInfo("Europe/Warsaw"), ZoneInfo("America/New_York")
WORK_WEEK = ("mon", "tue", "wed", "thu", "fri")


def due(local: datetime, zone: str = "Europe/Warsaw", minutes: int = 60, days=WORK_WEEK,
        start: str = "08:00", end: str = "18:00") -> datetime:
    result = due_time(local, first_answer_minutes=minutes, day_start=start, day_end=end, timezone=zone,
                      business_days=days)
    assert result.tzinfo is not None and result.utcoffset().total_seconds() == 0
    return result.astimezone(ZoneInfo(zone))


def test_during_business_hours_the_target_applies():
    assert due(datetime(2026, 6, 10, 10, 15, tzinfo=WARSAW)) == datetime(2026, 6, 10, 11, 15, tzinfo=WARSAW)


def test_late_afternoon_is_capped_by_the_end_of_the_day():
    assert due(datetime(2026, 6, 10, 17, 30, tzinfo=WARSAW)) == datetime(2026, 6, 10, 18, 0, tzinfo=WARSAW)


def test_before_opening_the_clock_starts_at_opening():
    assert due(datetime(2026, 6, 10, 6, 0, tzinfo=WARSAW)) == datetime(2026, 6, 10, 9, 0, tzinfo=WARSAW)


def test_after_closing_is_due_next_morning_plus_target_across_the_day_boundary():
    # 23:30 in Warsaw is already the next day in UTC terms for part of the year: the local day counts.
    assert due(datetime(2026, 6, 10, 23, 30, tzinfo=WARSAW)) == datetime(2026, 6, 11, 9, 0, tzinfo=WARSAW)
    # 00:30 local (22:30 UTC the day before) belongs to the new local day: due at 09:00 that day
    assert due(datetime(2026, 6, 10, 22, 30, tzinfo=UTC)) == datetime(2026, 6, 11, 9, 0, tzinfo=WARSAW)


def test_friday_evening_and_the_weekend_are_due_on_monday():
    friday_evening = datetime(2026, 6, 12, 19, 0, tzinfo=WARSAW)
    assert due(friday_evening) == datetime(2026, 6, 15, 9, 0, tzinfo=WARSAW)
    assert due(datetime(2026, 6, 13, 12, 0, tzinfo=WARSAW)) == datetime(2026, 6, 15, 9, 0, tzinfo=WARSAW)
    seven_days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert due(friday_evening, days=seven_days) == datetime(2026, 6, 13, 9, 0, tzinfo=WARSAW)
    assert due(friday_evening, days=None) == datetime(2026, 6, 13, 9, 0, tzinfo=WARSAW)


def test_warsaw_spring_forward_keeps_the_target_an_hour_of_real_time():
    # 29 March 2026: clocks jump 02:00 -> 03:00 CET -> CEST. Opening 01:30 local is 00:30 UTC.
    created = datetime(2026, 3, 29, 1, 40, tzinfo=WARSAW)
    result = due_time(created, first_answer_minutes=60, day_start="01:30", day_end="18:00",
                      timezone="Europe/Warsaw", business_days=None)
    assert result == datetime(2026, 3, 29, 1, 40, tzinfo=UTC)                    # 00:40 UTC + 1 h
    assert result.astimezone(WARSAW).hour == 3                                     # 03:40 CEST on the wall
    # a Friday evening just before the change, Mon-Fri shop: due Monday 09:00 CEST = 07:00 UTC
    assert due_time(datetime(2026, 3, 27, 20, 0, tzinfo=WARSAW), first_answer_minutes=60, day_start="08:00",
                    day_end="18:00", timezone="Europe/Warsaw", business_days=WORK_WEEK) == \
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_warsaw_autumn_change_next_morning_uses_the_new_offset():
    # 25 October 2026: CEST (+2) -> CET (+1). Saturday evening post, all days open: Sunday 09:00 CET = 08:00 UTC.
    result = due_time(datetime(2026, 10, 24, 20, 0, tzinfo=WARSAW), first_answer_minutes=60, day_start="08:00",
                      day_end="18:00", timezone="Europe/Warsaw", business_days=None)
    assert result == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_new_york_shop_reads_hours_in_its_own_zone():
    # 14:30 UTC is 10:30 in New York (EDT, -4) in June: due 11:30 local.
    assert due(datetime(2026, 6, 10, 14, 30, tzinfo=UTC), zone="America/New_York") == \
        datetime(2026, 6, 10, 11, 30, tzinfo=NEW_YORK)
    # 23:00 UTC is 19:00 in New York: after closing, next morning 09:00 EDT = 13:00 UTC
    assert due_time(datetime(2026, 6, 10, 23, 0, tzinfo=UTC), first_answer_minutes=60, day_start="08:00",
                    day_end="18:00", timezone="America/New_York") == datetime(2026, 6, 11, 13, 0, tzinfo=UTC)
    # Wednesday 23:00 in New York: the date there is still the 10th, unlike in UTC
    assert due_time(datetime(2026, 6, 11, 3, 0, tzinfo=UTC), first_answer_minutes=60, day_start="08:00",
                    day_end="18:00", timezone="America/New_York") == datetime(2026, 6, 11, 13, 0, tzinfo=UTC)
    # the same UTC instant is already the next day in Warsaw (01:00): due 09:00 Warsaw
    assert due(datetime(2026, 6, 10, 23, 0, tzinfo=UTC)) == datetime(2026, 6, 11, 9, 0, tzinfo=WARSAW)


def test_new_york_dst_start_weekend():
    # 8 March 2026 (Sunday) EST -> EDT. Saturday 7 March 20:00 EST, Mon-Fri shop: Monday 09:00 EDT = 13:00 UTC.
    assert due_time(datetime(2026, 3, 7, 20, 0, tzinfo=NEW_YORK), first_answer_minutes=60, day_start="08:00",
                    day_end="18:00", timezone="America/New_York", business_days=WORK_WEEK) == \
        datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    # open every day: Sunday 8 March 09:00 EDT, the first morning after the change = 13:00 UTC
    assert due_time(datetime(2026, 3, 7, 20, 0, tzinfo=NEW_YORK), first_answer_minutes=60, day_start="08:00",
                    day_end="18:00", timezone="America/New_York") == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


def test_naive_times_are_read_as_utc():
    assert due_time(datetime(2026, 6, 10, 8, 15), first_answer_minutes=30, day_start="08:00", day_end="18:00",
                    timezone="UTC") == datetime(2026, 6, 10, 8, 45, tzinfo=UTC)


def test_service_due_uses_the_sla_settings(build_monitor):
    from connectors.base import CollectedItem
    monitor = build_monitor({}, extra='[sla]\nfirst_answer_minutes = 30\nbusiness_days = ["Monday", "tue", "wed", "thu", "fri"]\n')
    saturday = CollectedItem(external_id="x", kind="comment", text="t", created_at=datetime(2026, 6, 13, 12, 0, tzinfo=UTC))
    assert monitor.due(saturday) == datetime(2026, 6, 15, 8, 30, tzinfo=UTC)      # Monday 08:00 UTC + 30 min
    wednesday = CollectedItem(external_id="y", kind="comment", text="t", created_at=datetime(2026, 6, 10, 9, 0, tzinfo=UTC))
    assert monitor.due(wednesday) == datetime(2026, 6, 10, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("toml, key", [
    ('[sla]\nbusiness_day_start = "8am"\n', "[sla] business_day_start"),
    ('[sla]\nbusiness_day_start = "19:00"\n', "[sla]"),
    ('[sla]\nbusiness_days = ["mon", "funday"]\n', "[sla] business_days"),
    ('[alerts]\nreview_url = "https://x.example/posts"\n', "[alerts] review_url"),
    ('[daemon]\nbackoff_base_seconds = 900\nbackoff_cap_seconds = 60\n', "[daemon]"),
])
def test_bad_daemon_settings_name_the_key(make_settings, toml, key):
    with pytest.raises(SettingsError) as error:
        make_settings(toml)
    assert error.value.key == key
