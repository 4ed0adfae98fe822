"""`monitor stats` per channel: answer-time percentiles and SLA breaches, so anyone can see every
channel is treated alike."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import Post
from monitor import stats

NOW = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)


def post(session, platform: str, n: int, *, minutes_to_answer: float | None, due_after: float = 60,
         status: str | None = None) -> None:
    created = NOW - timedelta(hours=5) + timedelta(minutes=n)
    answered = created + timedelta(minutes=minutes_to_answer) if minutes_to_answer is not None else None
    session.add(Post(platform=platform, external_id=f"{platform}{n}", created_at=created,
                     due_at=created + timedelta(minutes=due_after), answered_at=answered,
                     status=status or ("posted" if answered else "open")))


def test_percentiles_and_breaches_per_channel(database_url):
    from monitor.db import Database
    db = Database(database_url)
    db.migrate()
    with db.session() as session:
        for n, minutes in enumerate([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]):   # x: 4 answered late (> 60)
            post(session, "x", n, minutes_to_answer=minutes)
        for n, minutes in enumerate([5, 15]):
            post(session, "reddit", n, minutes_to_answer=minutes)
        post(session, "reddit", 10, minutes_to_answer=None)                          # open, long overdue
        post(session, "reddit", 11, minutes_to_answer=None, due_after=10_000)        # open, not due yet
    with db.session() as session:
        figures = stats.compute(session, NOW)
    db.dispose()
    x, reddit = figures["channels"]["x"], figures["channels"]["reddit"]
    assert (x["answered"], x["answer_minutes_p50"], x["answer_minutes_p90"], x["answer_minutes_p95"]) == (10, 55.0, 91.0, 95.5)
    assert x["sla_breaches"] == 4 and x["breach_rate"] == 0.4 and x["open"] == 0
    assert (reddit["answered"], reddit["answer_minutes_p50"], reddit["sla_breaches"]) == (2, 10.0, 1)
    assert reddit["overdue_open"] == 1 and reddit["open"] == 2 and reddit["breach_rate"] == round(1 / 3, 3)
    assert figures["overdue_open"] == 1 and figures["open"] == 2
