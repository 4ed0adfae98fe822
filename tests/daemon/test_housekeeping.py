"""The daemon's now-and-then work: a Graph token that the platform says ends within
`[alerts] expiry_warning_days` is announced once a day (also across restarts), and
`[retention] days` erases older posts, audited."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlmodel import select

from models import AuditEvent, Post, utcnow
from monitor.daemon.runner import Daemon
from monitor.fakes import FakePlatforms
from monitor.service import Monitor
from tests.daemon.conftest import BASE
from tests.daemon.fakes_support import fake_sources_toml
from tests.daemon.receivers import WebhookReceiver
from tests.daemon.support import BACKENDS, Platform, item
from tests.daemon.test_alerts import SECRET_ENV, TOKEN, alert_settings


def test_a_token_near_its_end_is_announced_once_a_day(make_settings):
    with FakePlatforms.start() as fake, WebhookReceiver() as hook:
        fake.state.token_expires_at = utcnow() + timedelta(days=3)
        sources, secrets = fake_sources_toml(fake, ["facebook", "x"])
        env = {**secrets, SECRET_ENV: TOKEN}
        settings = make_settings(BASE + alert_settings(None, hook=hook) + "expiry_warning_days = 7\n" + sources, env)
        monitor = Monitor(settings, environ=env, **BACKENDS)
        monitor.init()
        try:
            Daemon(monitor).run(once=True)
            Daemon(monitor).run(once=True)               # a restart the same day: no second message
            with monitor.db.session() as session:
                checked = list(session.exec(select(AuditEvent).where(AuditEvent.action == "credentials.checked")))
                warned = list(session.exec(select(AuditEvent).where(AuditEvent.action == "credentials.expiry_warned")))
        finally:
            monitor.close()
        notices = [m for m in hook.messages if "expire soon" in m["title"]]
        assert len(notices) == 1 and "demo-facebook" in notices[0]["title"]
        assert "Renew it" in notices[0]["message"] and "demo-x" not in notices[0]["title"]
        assert len(checked) == 1 and sorted(checked[0].details["sources"]) == ["demo-facebook", "demo-x"]
        assert len(warned) == 1 and warned[0].details["source"] == "demo-facebook"


def test_the_daemon_applies_retention(build_monitor):
    platform = Platform("shop")
    platform.add(dataclasses.replace(item(1, "old"), created_at=utcnow() - timedelta(days=40)), item(2, "new"))
    monitor = build_monitor({"shop": platform}, extra="[retention]\ndays = 30\n")
    Daemon(monitor).run(once=True)
    with monitor.db.session() as session:
        posts = {p.external_id: p for p in session.exec(select(Post))}
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "privacy.retention"))
    assert posts["p1"].text == "" and posts["p1"].erased_at is not None and posts["p2"].text == "new"
    assert event.actor == "daemon" and event.details["posts"] == [posts["p1"].id]
    Daemon(monitor).run(once=True)                       # polled again: the erased post stays erased
    with monitor.db.session() as session:
        assert session.exec(select(Post).where(Post.external_id == "p1")).one().text == ""
