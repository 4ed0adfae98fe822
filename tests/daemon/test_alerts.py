"""Alerts for critical posts and reminders for overdue ones, received by a local webhook endpoint
and a local SMTP server: delivered once, retried after a failure, never crashing the daemon,
never leaking the webhook URL."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from models import Post, utcnow
from monitor.daemon.alerts import Notifier, build_channels
from monitor.daemon.runner import Daemon
from monitor.service import Monitor
from tests.daemon.conftest import BASE, sources_toml
from tests.daemon.receivers import SmtpReceiver, WebhookReceiver
from tests.daemon.support import BACKENDS, Platform, item

SECRET_ENV = "MONITOR_SECRET_ALERTS_WEBHOOK_URL"


def alert_settings(smtp: SmtpReceiver | None, retry: int = 60) -> str:
    text = f"[alerts]\nslack_webhook = true\nretry_seconds = {retry}\n"
    if smtp:
        text += f'email_to = ["ops@shop.example"]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
    return text


def posts(monitor) -> dict[str, Post]:
    with monitor.db.session() as session:
        return {p.external_id: p for p in session.exec(select(Post))}


def test_critical_post_alert_reaches_webhook_and_email_once(build_monitor, caplog):
    caplog.set_level(logging.DEBUG)
    platform = Platform("shop")
    platform.add(item(1, "CRITICAL: this shop is a scam, I am going to court <!channel>"), item(2, "thanks!"))
    with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        monitor = build_monitor({"shop": platform}, extra=alert_settings(smtp), environ={SECRET_ENV: hook.url})
        report = Daemon(monitor).run(once=True)
        critical = posts(monitor)["p1"]
        assert report.alerts == 1 and critical.alerted_at is not None and posts(monitor)["p2"].alerted_at is None
        assert len(hook.messages) == 1 and len(smtp.messages) == 1
        text = hook.messages[0]["text"]
        assert f"#{critical.id}" in text and "threatens court" in text and f"monitor show {critical.id}" in text
        assert "&lt;!channel&gt;" in text and "<!channel>" not in text        # no @channel from a customer
        email = smtp.messages[0]
        assert email["To"] == "ops@shop.example" and f"critical post #{critical.id}" in email["Subject"]
        body = email.get_payload(decode=True).decode()
        assert "threatens court" in body and f"monitor show {critical.id}" in body and "scam" in body
        Daemon(monitor).run(once=True)
        assert len(hook.messages) == 1 and len(smtp.messages) == 1             # once, not every pass
    assert "SECRET-TOKEN" not in caplog.text


def test_a_failed_alert_is_retried_later_without_repeating_delivered_channels(build_monitor, caplog):
    platform = Platform("shop")
    platform.add(item(1, "critical: fraud!"))
    with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        hook.status = 500
        monitor = build_monitor({"shop": platform}, extra=alert_settings(smtp, retry=3600), environ={SECRET_ENV: hook.url})
        daemon = Daemon(monitor)
        report = daemon.run(once=True)
        assert report.alerts == 0 and report.problems >= 1
        assert posts(monitor)["p1"].alerted_at is None and len(smtp.messages) == 1
        assert "webhook answered HTTP 500" in caplog.text and "SECRET-TOKEN" not in caplog.text
        hook.status = 200
        daemon.run(once=True)                  # the webhook rests for retry_seconds: nothing yet
        assert hook.messages == []
        Daemon(monitor).run(once=True)         # later (here: a restart, which forgets the rest): once more
        assert len(hook.messages) == 1 and len(smtp.messages) == 1             # e-mail not sent again
        assert posts(monitor)["p1"].alerted_at is not None


def test_an_unreachable_webhook_is_logged_without_its_url(build_monitor, caplog):
    platform = Platform("shop")
    platform.add(item(1, "critical: fraud!"))
    from tests.daemon.receivers import free_port
    url = f"http://127.0.0.1:{free_port()}/services/SECRET-TOKEN-9"
    monitor = build_monitor({"shop": platform}, extra=alert_settings(None), environ={SECRET_ENV: url})
    report = Daemon(monitor).run(once=True)
    assert report.polls == 1 and report.problems == 1 and posts(monitor)["p1"].alerted_at is None
    assert "webhook unreachable" in caplog.text and "SECRET-TOKEN" not in caplog.text


def test_missing_webhook_secret_stops_the_start_with_the_variable_to_set(build_monitor):
    from monitor.settings import SettingsError
    monitor = build_monitor({"shop": Platform("shop")}, extra=alert_settings(None))
    with pytest.raises(SettingsError) as error:
        Daemon(monitor).run(once=True)
    assert SECRET_ENV in str(error.value)


def test_an_overdue_post_triggers_one_reminder(build_monitor):
    platform = Platform("shop")
    platform.add(item(1, "where is my parcel?"), item(2, "hello"))
    with WebhookReceiver() as hook:
        monitor = build_monitor({"shop": platform}, extra=alert_settings(None), environ={SECRET_ENV: hook.url})
        daemon = Daemon(monitor)
        daemon.run(once=True)
        assert hook.messages == []                                  # not critical, not late yet
        with monitor.db.session() as session:
            late = session.exec(select(Post).where(Post.external_id == "p1")).one()
            late.due_at = utcnow() - timedelta(minutes=20)
            session.add(late)
        daemon.run(once=True)
        daemon.run(once=True)
        assert len(hook.messages) == 1
        assert "1 post(s) past their answer time" in hook.messages[0]["text"]
        assert f"monitor show {late.id}" in hook.messages[0]["text"] and "20 min late" in hook.messages[0]["text"]
        assert posts(monitor)["p1"].reminded_at is not None and posts(monitor)["p2"].reminded_at is None


def test_two_workers_alert_a_critical_post_once(make_pg_settings):
    with WebhookReceiver() as hook:
        hook.delay = 0.3                      # both workers would be "delivering" at the same time
        settings = make_pg_settings(BASE + alert_settings(None) + sources_toml(["shop"]), {SECRET_ENV: hook.url})
        platform = Platform("shop")
        platform.add(item(1, "critical: scam"), item(2, "critical: court"), item(3, "critical: police"))
        workers = []
        for _ in range(3):
            monitor = Monitor(settings, environ={SECRET_ENV: hook.url}, **BACKENDS)
            monitor.init()
            monitor.use_connector("shop", platform)
            workers.append(monitor)
        workers[0].poll()
        workers[0].process()
        barrier = threading.Barrier(len(workers))
        reports = []

        def notify(monitor: Monitor) -> None:
            notifier = Notifier(monitor.db, monitor.settings, build_channels(monitor.settings, monitor.secrets))
            barrier.wait()
            reports.append(notifier.run())

        threads = [threading.Thread(target=notify, args=(m,)) for m in workers]
        [t.start() for t in threads]
        [t.join(30) for t in threads]
        assert len(hook.messages) == 3 and sorted(sum((r.alerted for r in reports), [])) == sorted(
            p.id for p in posts(workers[0]).values())
        for monitor in workers:
            monitor.close()
