"""Alerts for critical posts and reminders for overdue ones, delivered through apprise to a local
JSON endpoint (`json://`) and a local SMTP server (`mailto://`): once per channel, retried after a
failure, never crashing the daemon, never leaking the secret in the URL."""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from models import AuditEvent, Post, utcnow
from monitor.daemon.alerts import Notifier, build_channels
from monitor.daemon.runner import Daemon
from monitor.service import Monitor
from tests.daemon.conftest import BASE, sources_toml
from tests.daemon.receivers import SmtpReceiver, WebhookReceiver
from tests.daemon.support import BACKENDS, Platform, item

SECRET_ENV = "MONITOR_SECRET_ALERTS_HOOK_TOKEN"
TOKEN = "SECRET-TOKEN-123"


def hook_url(port: int) -> str:
    """The receiver's path with its secret part as a placeholder, as settings.toml would hold it."""
    return f"json://127.0.0.1:{port}/services/T000/B000/${{hook_token}}"


def alert_settings(smtp: SmtpReceiver | None, retry: int = 60, hook: WebhookReceiver | int | None = None) -> str:
    urls = []
    if hook is not None:
        urls.append(hook_url(hook if isinstance(hook, int) else hook.server.server_address[1]))
    if smtp:
        urls.append(f"mailto://127.0.0.1:{smtp.port}?from=monitor@shop.example&to=ops@shop.example")
    return f"[alerts]\nurls = {urls!r}\nretry_seconds = {retry}\npause_seconds = 0\n".replace("'", '"')


def plain_body(email) -> str:
    part = next(p for p in email.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def posts(monitor) -> dict[str, Post]:
    with monitor.db.session() as session:
        return {p.external_id: p for p in session.exec(select(Post))}


def test_critical_post_alert_reaches_json_endpoint_and_email_once(build_monitor, caplog):
    caplog.set_level(logging.DEBUG)
    platform = Platform("shop")
    platform.add(item(1, "CRITICAL: this shop is a scam, I am going to court <!channel>"), item(2, "thanks!"))
    with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        monitor = build_monitor({"shop": platform}, extra=alert_settings(smtp, hook=hook), environ={SECRET_ENV: TOKEN})
        report = Daemon(monitor).run(once=True)
        critical = posts(monitor)["p1"]
        assert report.alerts == 1 and critical.alerted_at is not None and posts(monitor)["p2"].alerted_at is None
        assert len(hook.messages) == 1 and len(smtp.messages) == 1
        text = hook.messages[0]["message"]
        assert f"#{critical.id}" in hook.messages[0]["title"] and hook.messages[0]["type"] == "warning"
        assert "threatens court" in text and f"monitor show {critical.id}" in text and "scam" in text
        email = smtp.messages[0]
        assert email["To"] == "ops@shop.example" and f"critical post #{critical.id}" in email["Subject"]
        body = plain_body(email)
        assert "threatens court" in body and f"monitor show {critical.id}" in body and "scam" in body
        with monitor.db.session() as session:
            sent = sorted(e.action for e in session.exec(select(AuditEvent).where(AuditEvent.post_id == critical.id))
                          if e.action.startswith("alert.sent."))
        assert [a.split("-")[0] for a in sent] == ["alert.sent.json", "alert.sent.mailto"]   # one per channel
        Daemon(monitor).run(once=True)
        assert len(hook.messages) == 1 and len(smtp.messages) == 1             # once, not every pass
    assert TOKEN not in caplog.text


def test_a_failed_channel_is_retried_later_without_stopping_the_daemon_or_repeating_others(build_monitor, caplog):
    platform = Platform("shop")
    platform.add(item(1, "critical: fraud!"))
    with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        hook.status = 500
        monitor = build_monitor({"shop": platform}, extra=alert_settings(smtp, retry=1, hook=hook),
                                environ={SECRET_ENV: TOKEN})
        daemon = Daemon(monitor)
        report = daemon.run(once=True)
        assert report.polls == 1 and report.alerts == 0 and report.problems >= 1     # the pass went on
        assert posts(monitor)["p1"].alerted_at is None and len(smtp.messages) == 1
        assert "error=500" in caplog.text and TOKEN not in caplog.text
        hook.status = 200
        daemon.run(once=True)                  # the endpoint rests for retry_seconds: nothing yet
        assert hook.messages == []
        time.sleep(1.1)
        daemon.run(once=True)
        assert len(hook.messages) == 1 and len(smtp.messages) == 1             # e-mail not sent again
        assert posts(monitor)["p1"].alerted_at is not None


def test_an_unreachable_endpoint_is_logged_without_its_secret(build_monitor, caplog):
    caplog.set_level(logging.DEBUG)
    platform = Platform("shop")
    platform.add(item(1, "critical: fraud!"))
    from tests.daemon.receivers import free_port
    monitor = build_monitor({"shop": platform}, extra=alert_settings(None, hook=free_port()),
                            environ={SECRET_ENV: "SECRET-TOKEN-9"})
    report = Daemon(monitor).run(once=True)
    assert report.polls == 1 and report.problems == 1 and posts(monitor)["p1"].alerted_at is None
    assert "alert via json-" in caplog.text and "SECRET-TOKEN-9" not in caplog.text


def test_missing_url_secret_stops_the_start_with_the_variable_to_set(build_monitor):
    from monitor.settings import SettingsError
    monitor = build_monitor({"shop": Platform("shop")}, extra=alert_settings(None, hook=9))
    with pytest.raises(SettingsError) as error:
        Daemon(monitor).run(once=True)
    assert SECRET_ENV in str(error.value)


@pytest.mark.parametrize("toml, says", [
    ("[alerts]\nslack_webhook = true\n", "${webhook_url}"),
    ('[alerts]\nemail_to = ["ops@example.com"]\nsmtp_host = "mail"\n', "mailto://"),
    ('[alerts]\nurls = ["mailto://bot:hunter22@mail.example?to=ops@example.com"]\n', "placeholder"),
    ('[alerts]\nurls = ["hooks.slack.com/services/x"]\n', "not an apprise URL"),
])
def test_old_keys_and_written_passwords_are_refused_with_what_to_write(make_settings, toml, says):
    from monitor.settings import SettingsError
    with pytest.raises(SettingsError) as error:
        make_settings(toml)
    assert error.value.key.startswith("[alerts]") and says in str(error.value)
    assert "hunter22" not in str(error.value)


def test_a_url_apprise_does_not_know_is_a_settings_error_naming_the_entry(build_monitor):
    from monitor.settings import SettingsError
    monitor = build_monitor({"shop": Platform("shop")}, extra='[alerts]\nurls = ["nosuchservice://x/${t}"]\n',
                            environ={"MONITOR_SECRET_ALERTS_T": "abcdefgh"})
    with pytest.raises(SettingsError) as error:
        Daemon(monitor).run(once=True)
    assert "[alerts] urls #1" in str(error.value) and "abcdefgh" not in str(error.value)


def test_an_overdue_post_triggers_one_reminder(build_monitor):
    platform = Platform("shop")
    platform.add(item(1, "where is my parcel?"), item(2, "hello"))
    with WebhookReceiver() as hook:
        monitor = build_monitor({"shop": platform}, extra=alert_settings(None, hook=hook), environ={SECRET_ENV: TOKEN})
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
        text = hook.messages[0]["message"]
        assert "1 post(s) past their answer time" in text
        assert f"monitor show {late.id}" in text and "20 min late" in text
        assert posts(monitor)["p1"].reminded_at is not None and posts(monitor)["p2"].reminded_at is None


def test_two_workers_alert_a_critical_post_once(make_pg_settings):
    with WebhookReceiver() as hook:
        hook.delay = 0.3                      # both workers would be "delivering" at the same time
        settings = make_pg_settings(BASE + alert_settings(None, hook=hook) + sources_toml(["shop"]), {SECRET_ENV: TOKEN})
        platform = Platform("shop")
        platform.add(item(1, "critical: scam"), item(2, "critical: court"), item(3, "critical: police"))
        workers = []
        for _ in range(3):
            monitor = Monitor(settings, environ={SECRET_ENV: TOKEN}, **BACKENDS)
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
