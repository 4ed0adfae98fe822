"""The Prometheus endpoint: queue size, oldest waiting post, poll lag and errors per source,
replies posted, served over HTTP on 127.0.0.1 when `[daemon] metrics_port` is set."""
from __future__ import annotations

import urllib.request
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from models import Post, Source, utcnow
from monitor.daemon.runner import Daemon
from monitor.decisions import Actor
from tests.daemon.receivers import free_port
from tests.daemon.support import Platform, item


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_endpoint_reports_queue_sources_and_replies(build_monitor):
    good, broken = Platform("good"), Platform("broken")
    good.add(item(1, prefix="g"), item(2, "I am angry", prefix="g"), item(3, prefix="g"))
    broken.error = "HTTP 502"
    port = free_port()
    monitor = build_monitor({"good": good, "broken": broken}, extra=f"metrics_port = {port}\n")
    daemon = Daemon(monitor)
    daemon.start()
    try:
        daemon.run_pass()
        with monitor.db.session() as session:
            first = session.exec(select(Post).where(Post.external_id == "g1")).one()
        monitor.approve(first.id, Actor("anna"), draft_id=monitor.show(first.id).draft["id"])
        daemon._last_post = float("-inf")
        report = daemon.run_pass()
        assert len(report.sent) == 1
        with monitor.db.session() as session:          # "good" is 90 s late for its next poll
            row = session.exec(select(Source).where(Source.name == "good")).one()
            row.next_poll_at = utcnow() - timedelta(seconds=90)
            session.add(row)
        daemon.metrics.refresh(monitor.db, daemon.source_names())
        values = scrape(daemon.metrics_port)
    finally:
        daemon.shutdown()
    assert values[("monitor_queue_open_posts", ())] == 2
    assert values[("monitor_queue_flagged_posts", ())] == 1
    assert values[("monitor_queue_oldest_waiting_seconds", ())] >= 290       # posts were written 5 min ago
    assert values[("monitor_source_poll_lag_seconds", (("source", "good"),))] >= 90
    assert values[("monitor_source_consecutive_errors", (("source", "broken"),))] == 1
    assert values[("monitor_poll_errors_total", (("source", "broken"),))] == 1
    assert values[("monitor_polls_total", (("outcome", "ok"), ("source", "good")))] == 1
    assert values[("monitor_replies_sent_total", ())] == 1
    assert values[("monitor_outbox_replies", (("state", "sent"),))] == 1
    assert values[("monitor_posts_collected_total", (("source", "good"),))] == 3


def test_metrics_are_off_by_default(build_monitor):
    daemon = Daemon(build_monitor({"good": Platform("good")}))
    daemon.run(once=True)
    assert daemon.metrics is None and daemon.metrics_port is None


def test_a_busy_metrics_port_is_a_settings_error(build_monitor):
    import socket

    import pytest

    from monitor.settings import SettingsError
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monitor = build_monitor({"good": Platform("good")}, extra=f"metrics_port = {port}\n")
        with pytest.raises(SettingsError) as error:
            Daemon(monitor).run(once=True)
    assert error.value.key == "[daemon] metrics_port"
