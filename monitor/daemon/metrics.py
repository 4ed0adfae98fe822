"""Prometheus metrics for operations (`[daemon] metrics_port`, 0 = off).

Gauges describe the shared database (the same on every worker): queue size, oldest waiting post,
each source's poll lag, errors and health, outbox states. Counters count what this worker did
(polls, errors, replies posted, notifications); Prometheus sums them across workers.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from sqlalchemy import func
from sqlmodel import col, select

from models import OutboxReply, Post, Source, as_utc, utcnow
from monitor.collect import PollResult
from monitor.db import Database

log = logging.getLogger(__name__)


class DaemonMetrics:
    def __init__(self, registry: Optional[CollectorRegistry] = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.queue_open = Gauge("monitor_queue_open_posts", "Posts waiting for a person.", registry=r)
        self.queue_flagged = Gauge("monitor_queue_flagged_posts", "Open posts flagged by analysis.", registry=r)
        self.queue_overdue = Gauge("monitor_queue_overdue_posts", "Open posts past their due time.", registry=r)
        self.oldest_waiting = Gauge("monitor_queue_oldest_waiting_seconds",
                                    "Age of the oldest open post (0 when the queue is empty).", registry=r)
        self.outbox = Gauge("monitor_outbox_replies", "Approved replies by outbox state.", ["state"], registry=r)
        self.poll_lag = Gauge("monitor_source_poll_lag_seconds",
                              "How long a source's poll is overdue (0 when on time or parked).", ["source"], registry=r)
        self.since_success = Gauge("monitor_source_seconds_since_success",
                                   "Time since the source's last successful poll.", ["source"], registry=r)
        self.consecutive_errors = Gauge("monitor_source_consecutive_errors",
                                        "Failed polls in a row.", ["source"], registry=r)
        self.rate_limited = Gauge("monitor_source_rate_limited", "1 while the platform asked us to wait.",
                                  ["source"], registry=r)
        self.needs_reauth = Gauge("monitor_source_needs_reauth", "1 while the source is parked for credentials.",
                                  ["source"], registry=r)
        self.polls = Counter("monitor_polls", "Polls made by this worker, by outcome.", ["source", "outcome"], registry=r)
        self.poll_errors = Counter("monitor_poll_errors", "Failed polls by this worker.", ["source"], registry=r)
        self.collected = Counter("monitor_posts_collected", "New posts stored by this worker.", ["source"], registry=r)
        self.replies_sent = Counter("monitor_replies_sent", "Replies this worker confirmed on the platform.", registry=r)
        self.notifications = Counter("monitor_notifications", "Alerts and reminders delivered or failed.",
                                     ["kind", "channel", "outcome"], registry=r)
        self._server: Any = None

    # -- what this worker did
    def observe_poll(self, result: PollResult) -> None:
        outcome = ("rate_limited" if result.rate_limited_until else "needs_reauth" if result.needs_reauth
                   else "error" if result.error else "partial" if not result.complete else "ok")
        self.polls.labels(result.source, outcome).inc()
        if result.error:
            self.poll_errors.labels(result.source).inc()
        if result.new:
            self.collected.labels(result.source).inc(result.new)

    def observe_sent(self, count: int) -> None:
        if count:
            self.replies_sent.inc(count)

    def observe_notification(self, kind: str, channel: str, ok: bool) -> None:
        self.notifications.labels(kind, channel, "ok" if ok else "failed").inc()

    # -- the shared state
    def refresh(self, db: Database, sources: list[str], now: Optional[datetime] = None) -> None:
        now = now or utcnow()
        with db.session() as session:
            open_count, oldest = session.exec(select(func.count(), func.min(Post.created_at))
                                              .where(col(Post.status) == "open")).one()
            flagged = session.exec(select(func.count()).where(col(Post.status) == "open", col(Post.flagged))).one()
            overdue = session.exec(select(func.count()).where(col(Post.status) == "open",
                                                              col(Post.due_at) < now)).one()
            states = list(session.exec(select(OutboxReply.state, func.count()).group_by(OutboxReply.state)))
            rows = list(session.exec(select(Source).where(col(Source.name).in_(sources))))
        self.queue_open.set(open_count)
        self.queue_flagged.set(flagged)
        self.queue_overdue.set(overdue)
        self.oldest_waiting.set(max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest else 0.0)
        self.outbox.clear()
        for state, count in states:
            self.outbox.labels(state).set(count)
        for gauge in (self.poll_lag, self.since_success, self.consecutive_errors, self.rate_limited, self.needs_reauth):
            gauge.clear()
        for source in rows:
            due = as_utc(source.next_poll_at) if source.next_poll_at else None
            self.poll_lag.labels(source.name).set(max(0.0, (now - due).total_seconds()) if due else 0.0)
            if source.last_success_at:
                self.since_success.labels(source.name).set((now - as_utc(source.last_success_at)).total_seconds())
            self.consecutive_errors.labels(source.name).set(source.error_count)
            limited = source.rate_limited_until is not None and as_utc(source.rate_limited_until) > now
            self.rate_limited.labels(source.name).set(1 if limited else 0)
            self.needs_reauth.labels(source.name).set(1 if source.needs_reauth else 0)

    # -- the endpoint
    def serve(self, host: str, port: int) -> int:
        """Start the HTTP endpoint in a background thread; returns the port it listens on."""
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        bound = self._server.server_address[1]
        log.info("metrics on http://%s:%s/metrics", host, bound)
        return bound

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
