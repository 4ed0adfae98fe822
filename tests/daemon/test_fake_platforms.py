"""The daemon with the real connectors against the local fake platforms: every platform polled,
a rate-limited one skipped until its time, a revoked token parked, approved replies posted once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from models import OutboxReply, Post, Source, as_utc, utcnow
from monitor.daemon.runner import Daemon
from monitor.decisions import Actor
from monitor.fakes import FakePlatforms
from monitor.service import Monitor
from tests.daemon.conftest import BASE
from tests.daemon.fakes_support import add_posts, fake_sources_toml
from tests.daemon.support import BACKENDS


@pytest.fixture
def fake():
    with FakePlatforms.start(page_size=2) as platforms:
        yield platforms


@pytest.fixture
def fake_monitor(fake, make_settings):
    sources, secrets = fake_sources_toml(fake)
    monitor = Monitor(make_settings(BASE + sources, secrets), environ=secrets, **BACKENDS)
    monitor.init()
    yield monitor
    monitor.close()


def rows(monitor) -> dict[str, Source]:
    with monitor.db.session() as session:
        return {row.platform: row for row in session.exec(select(Source))}


def test_rate_limit_and_revoked_token_from_real_platform_answers(fake, fake_monitor):
    for platform in ("x", "facebook", "reddit", "google_reviews", "instagram"):
        add_posts(fake, platform, 3, "first")
    fake.fail_next("x", "rate_limit", on="read")
    fake.fail_next("facebook", "auth_expired", times=50)
    report = Daemon(fake_monitor).run(once=True)
    health = rows(fake_monitor)
    x, facebook = health["x"], health["facebook"]
    assert x.rate_limited_until is not None and as_utc(x.rate_limited_until) > utcnow()
    assert as_utc(x.next_poll_at) >= as_utc(x.rate_limited_until) and not x.needs_reauth
    assert facebook.needs_reauth and facebook.next_poll_at is None and "monitor poll --source" in facebook.last_error
    for platform in ("reddit", "google_reviews", "instagram"):
        assert health[platform].last_error is None and health[platform].items_collected >= 3
    assert report.poll_errors == 2
    x_requests = len(fake.requests("x"))
    with fake_monitor.db.session() as session:               # its time is not up: even when "due" it waits
        row = session.exec(select(Source).where(Source.platform == "x")).one()
        row.next_poll_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    Daemon(fake_monitor).run(once=True)
    assert len(fake.requests("x")) == x_requests


def test_approved_replies_reach_the_platforms_once(fake, fake_monitor):
    for platform in ("x", "facebook", "reddit", "google_reviews", "instagram"):
        add_posts(fake, platform, 2, "ask")
    Daemon(fake_monitor).run(once=True)
    with fake_monitor.db.session() as session:
        ids = [p.id for p in session.exec(select(Post))]
    assert len(ids) == 10
    for post_id in ids:
        fake_monitor.approve(post_id, Actor("anna"), text=f"Thank you, we are on it ({post_id}).")
    Daemon(fake_monitor).run(once=True)
    Daemon(fake_monitor).run(once=True)
    replies = fake.replies()
    assert len(replies) == 10 and len({(r["platform"], r["in_reply_to"]) for r in replies}) == 10
    with fake_monitor.db.session() as session:
        assert {row.state for row in session.exec(select(OutboxReply))} == {"sent"}


def test_a_critical_demo_post_raises_an_alert(make_settings):
    """The demo posts on the fake platforms, the keyword analyser the project ships: the fraud
    accusation is alerted to the webhook at once, with its reasons, once."""
    from tests.daemon.receivers import WebhookReceiver
    from tests.daemon.support import FixedDrafter, NoFindings

    with FakePlatforms.start(seed="demo") as fake, WebhookReceiver() as hook:
        sources, secrets = fake_sources_toml(fake)
        env = {**secrets, "MONITOR_SECRET_ALERTS_HOOK": hook.url.replace("http://", "json://")}
        settings = make_settings(BASE + '\n[analysis]\nbackend = "keywords"\n\n[alerts]\nurls = ["${hook}"]\n'
                                 + sources, env)
        monitor = Monitor(settings, environ=env, drafter=FixedDrafter(), safety=NoFindings())
        monitor.init()
        try:
            Daemon(monitor).run(once=True)
            Daemon(monitor).run(once=True)
            with monitor.db.session() as session:
                stored = {p.external_id: p for p in session.exec(select(Post))}
        finally:
            monitor.close()
        scam = stored[fake.seeded["en-scam-1"][1]]
        critical = [p for p in stored.values() if p.severity >= settings.analysis.critical_threshold]
        assert scam in critical and all(p.alerted_at is not None for p in critical)
        alerts = [m["message"] for m in hook.messages if m["message"].startswith("Critical post")]
        reminders = [m["message"] for m in hook.messages if "past their answer time" in m["message"]]
        assert len(alerts) == len(critical) and len(reminders) == 1    # one each, not one per pass
        text = next(a for a in alerts if f"#{scam.id} " in a)
        assert "scam" in text and f"monitor show {scam.id}" in text and "Why:" in text
