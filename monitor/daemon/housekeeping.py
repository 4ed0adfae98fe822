"""What the daemon does now and then besides polling: erase what is older than `[retention] days`
(every `[retention] check_every_hours`), and check every source's credentials once a day, alerting
`[alerts] expiry_warning_days` before a token's known end. "Once a day" holds across restarts and
`--once` runs from cron: the audit log remembers the last check and the last warning per source."""
from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any, Callable, Optional

from sqlalchemy import func
from sqlmodel import col, select

from models import AuditEvent, as_utc, utcnow
from monitor import audit
from monitor.daemon.alerts import Message, Notifier
from monitor.doctor import FAIL, WARN, credential_checks

log = logging.getLogger(__name__)
CREDENTIALS_EVERY = 24 * 3600.0
LOOK_EVERY = 3600.0          # how often the audit log is asked whether the daily check is due
ACTOR = "daemon"


class Housekeeping:
    def __init__(self, monitor: Any, notifier: Callable[[], Optional[Notifier]], *,
                 clock: Callable[[], float] = time.monotonic):
        self.monitor, self.notifier, self.clock = monitor, notifier, clock
        self._last_retention = float("-inf")
        self._last_credentials = float("-inf")

    def run(self) -> list[str]:
        """Whatever is due; returns problems to report (never raises for a platform's answer)."""
        problems: list[str] = []
        settings = self.monitor.settings
        if settings.retention.days and self.clock() - self._last_retention >= settings.retention.check_every_hours * 3600:
            self._last_retention = self.clock()
            done = self.monitor.apply_retention(ACTOR)
            if done.posts:
                log.info("retention erased %s post(s) older than %s day(s)", len(done.posts), settings.retention.days)
        if self.clock() - self._last_credentials >= LOOK_EVERY:
            self._last_credentials = self.clock()
            if self._credentials_due():
                problems += self.check_credentials()
        return problems

    def _credentials_due(self) -> bool:
        with self.monitor.db.session() as session:
            last = session.exec(select(func.max(AuditEvent.at)).where(
                col(AuditEvent.action) == "credentials.checked")).first()
        return last is None or as_utc(last) <= utcnow() - timedelta(seconds=CREDENTIALS_EVERY)

    def check_credentials(self) -> list[str]:
        checks = credential_checks(self.monitor)
        problems = [f"{c.area}: {c.detail}" for c in checks if c.status == FAIL]
        with self.monitor.db.session() as session:
            audit.record(session, ACTOR, "credentials.checked", None, sources=[c.source for c in checks],
                         failed=[c.source for c in checks if c.status == FAIL])
        for check in checks:
            if check.status in (WARN, FAIL) and check.expires_at is not None:
                self._warn_expiry(check)
        return problems

    def _warn_expiry(self, check: Any) -> None:
        notifier = self.notifier()
        if notifier is None or not notifier.channels:
            log.warning("%s: %s (no alert channel configured)", check.area, check.detail)
            return
        since = utcnow() - timedelta(hours=20)
        with self.monitor.db.session() as session:
            recent = session.exec(select(AuditEvent.id).where(
                col(AuditEvent.action) == "credentials.expiry_warned", col(AuditEvent.at) >= since,
                col(AuditEvent.actor) == ACTOR).where(AuditEvent.details["source"].as_string() == check.source)).first()
        if recent is not None:
            return
        subject = f"[reply-monitor] the credentials of {check.source} expire soon"
        text = (f"The token of source {check.source} expires {check.expires_at:%Y-%m-%d %H:%M} UTC.\n"
                f"{check.detail}\nRenew it and set the new secret, then run `monitor doctor`.\n")
        reached = notifier.announce("expiry", Message(subject=subject, text=text))
        if reached:
            with self.monitor.db.session() as session:
                audit.record(session, ACTOR, "credentials.expiry_warned", None, source=check.source,
                             expires_at=check.expires_at.isoformat(), channels=reached)
