"""Tell a person at once: an alert for each critical post (severity at or above
`[analysis] critical_threshold`), one reminder for posts that went past their due time.

Every channel is one apprise URL from `[alerts] urls` (Slack, Microsoft Teams, Telegram, Discord,
Mattermost, e-mail, ntfy, a JSON endpoint and the rest apprise knows). A URL names its secrets
as `${name}` placeholders, filled from `MONITOR_SECRET_ALERTS_<NAME>` or the secrets file; the
filled values (and whatever apprise itself marks private in a URL) are scrubbed from every log
line. A channel's `send()` either delivers or raises `DeliveryError` with a reason safe to log.

Each delivery is recorded per post and channel in the audit log in the same transaction that
sets `alerted_at`/`reminded_at`; on PostgreSQL the post's row stays locked while it is
delivered, so two workers never alert the same post. A failed channel is retried on a later
pass (after `[alerts] retry_seconds`); it never stops the daemon.
"""
from __future__ import annotations

import abc
import hashlib
import logging
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator, Optional
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from connectors._http import install_log_scrubbing, register_secret, scrub
from models import Assessment, AuditEvent, Post, as_utc, utcnow
from monitor import audit
from monitor.daemon.config import PLACEHOLDER
from monitor.db import Database
from monitor.logformat import log_context
from monitor.settings import SecretStore, Settings, SettingsError

log = logging.getLogger(__name__)
ACTOR = "daemon"
TEXT_LIMIT = 600          # characters of the post quoted in a message
DIGEST_LIMIT = 25         # posts listed by name in one reminder
_SPLIT = re.compile(r"[/:@?&=#%.]+")


class DeliveryError(Exception):
    """A channel could not deliver; the message is safe to log (no secrets)."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str                 # plain text; each service formats (and escapes) it its own way


class Channel(abc.ABC):
    name: str                 # stable across restarts: the audit's "alert.sent.<name>"

    @abc.abstractmethod
    def send(self, message: Message) -> None: ...


class _Reasons(logging.Handler):
    """apprise reports why a send failed only in its log: keep this thread's warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        bucket = getattr(self._local, "bucket", None)
        if bucket is not None:
            bucket.append(scrub(record.getMessage()))

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        self._local.bucket = []
        try:
            yield self._local.bucket
        finally:
            self._local.bucket = None


_reasons = _Reasons()
logging.getLogger("apprise").addHandler(_reasons)


class AppriseChannel(Channel):
    """One apprise URL. Its `name` (scheme and a fingerprint of the URL as written) is all that logs,
    errors and the audit show of it."""

    def __init__(self, name: str, plugin: object):
        self.name, self._plugin = name, plugin

    def send(self, message: Message) -> None:
        import apprise
        with _reasons.capture() as reasons:
            try:
                ok = self._plugin.notify(body=message.text, title=message.subject,
                                         notify_type=apprise.NotifyType.WARNING,
                                         body_format=apprise.NotifyFormat.TEXT)
            except Exception as exc:  # a plugin bug is a failed send, not a crashed daemon
                raise DeliveryError(f"{self.name} crashed ({type(exc).__name__})") from None
        if not ok:
            why = "; ".join(r.strip().splitlines()[0][:200] for r in reasons if r.strip()) or "no reason given"
            raise DeliveryError(f"{self.name}: {why}")


def channel_name(template: str) -> str:
    """The scheme and a fingerprint of the URL as written (placeholders, never secret values)."""
    scheme = template.split("://", 1)[0] if "://" in template else "url"
    scheme = re.sub(r"[^a-z0-9]", "", scheme.lower()) or "url"
    return f"{scheme}-{hashlib.sha256(template.encode('utf-8')).hexdigest()[:6]}"


def fill_secrets(template: str, secrets: SecretStore) -> str:
    """`${name}` -> the secret `alerts.name`. In the user:password part the value is
    percent-encoded; elsewhere (tokens in the path) and as a whole URL (e.g. a native Slack or
    Teams webhook URL) it is taken as written."""
    scheme_end = template.find("://") + 3
    authority_end = template.find("/", scheme_end) if template.find("/", scheme_end) != -1 else len(template)
    userinfo_end = template.rfind("@", scheme_end, authority_end)

    def one(match: re.Match) -> str:
        value = secrets.require("alerts", match.group(1))
        register_secret(value)
        if match.start() < userinfo_end:
            register_secret(quote(value, safe=""))
            return quote(value, safe="")
        return value
    return PLACEHOLDER.sub(one, template)


def build_channels(settings: Settings, secrets: SecretStore) -> list[Channel]:
    """The configured channels; a missing secret or a URL apprise does not know is a settings
    error at start (exit 2) that names the entry, never the URL's secrets."""
    alerts = settings.alerts
    if not alerts.urls:
        return []
    import apprise
    install_log_scrubbing(["apprise"])
    channels: list[Channel] = []
    for number, template in enumerate(alerts.urls, start=1):
        name = channel_name(template)
        url = fill_secrets(template, secrets)
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            raise SettingsError(f"[alerts] urls #{number} ({name})",
                                "apprise does not understand this URL; see https://appriseit.com/services/ "
                                "for the form of each service")
        for token in set(_SPLIT.split(plugin.url())) - set(_SPLIT.split(plugin.url(privacy=True))):
            register_secret(token)     # what the service itself calls private (tokens, passwords)
        plugin.socket_connect_timeout = plugin.socket_read_timeout = alerts.timeout_seconds
        plugin.request_rate_per_sec = min(plugin.request_rate_per_sec, alerts.pause_seconds)
        channels.append(AppriseChannel(name, plugin))
    if len({c.name for c in channels}) != len(channels):
        raise SettingsError("[alerts] urls", "the same URL is listed twice")
    return channels


# ---- messages ---------------------------------------------------------------------------------
def _flat(value: str, limit: int) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class PostFacts:
    """What a message says about one post (copied out of the session)."""

    id: int
    platform: str
    author: str
    reach: int
    text: str
    severity: float
    reasons: list[str]
    url: Optional[str]
    created_at: datetime
    due_at: Optional[datetime]


def _facts(session: Session, post: Post) -> PostFacts:
    assessment = session.exec(select(Assessment).where(Assessment.post_id == post.id)
                              .order_by(col(Assessment.id).desc()).limit(1)).first()
    reasons: list[str] = []
    if assessment is not None:
        reasons = [str(flag.get("reason") or flag.get("code")) for flag in assessment.flags or []
                   if isinstance(flag, dict)] or ([assessment.summary] if assessment.summary else [])
    return PostFacts(id=post.id, platform=post.platform, author=post.author_handle, reach=post.author_reach,
                     text=post.text, severity=post.severity, reasons=reasons, url=post.url,
                     created_at=as_utc(post.created_at), due_at=as_utc(post.due_at) if post.due_at else None)


class Wording:
    """Turns posts into alert and reminder messages, times in the shop's zone."""

    def __init__(self, settings: Settings):
        self.zone = ZoneInfo(settings.app.timezone)
        self.review_url = settings.alerts.review_url

    def when(self, value: Optional[datetime]) -> str:
        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z") if value else "-"

    def review(self, post_id: int) -> str:
        command = f"monitor show {post_id}"
        return f"{self.review_url.format(id=post_id)} (or: {command})" if self.review_url else command

    def alert(self, post: PostFacts) -> Message:
        reasons = "; ".join(_flat(r, 160) for r in post.reasons) or "severity above the critical threshold"
        head = (f"Critical post #{post.id} on {post.platform} by @{_flat(post.author, 60) or '?'}"
                f" (reach {post.reach}), severity {post.severity:.2f}")
        quoted = _flat(post.text, TEXT_LIMIT)
        lines = [head, f"Why: {reasons}", f"Written {self.when(post.created_at)}; answer by {self.when(post.due_at)}",
                 f"Post: {quoted}"]
        if post.url:
            lines.append(f"Link: {post.url}")
        lines.append(f"Review it: {self.review(post.id)}")
        subject = f"[reply-monitor] critical post #{post.id} on {post.platform} (severity {post.severity:.2f})"
        return Message(subject=subject, text="\n".join(lines) + "\n")

    def reminder(self, posts: list[PostFacts], now: datetime) -> Message:
        shown = posts[:DIGEST_LIMIT]
        head = f"{len(posts)} post(s) past their answer time"
        lines = [head]
        for post in shown:
            late = int((now - post.due_at).total_seconds() // 60) if post.due_at else 0
            line = (f"#{post.id} {post.platform} @{_flat(post.author, 40)}: due {self.when(post.due_at)} "
                    f"({late} min late), severity {post.severity:.2f}: {_flat(post.text, 120)}")
            lines.append(f"- {line}  [{self.review(post.id)}]")
        if len(posts) > len(shown):
            more = f"... and {len(posts) - len(shown)} more: monitor queue"
            lines.append(more)
        subject = f"[reply-monitor] {len(posts)} post(s) waiting past their answer time"
        return Message(subject=subject, text="\n".join(lines) + "\n")


# ---- the notifier -----------------------------------------------------------------------------
@dataclass
class NoticeReport:
    alerted: list[int] = field(default_factory=list)      # posts whose alert went out on every channel
    reminded: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Notifier:
    """Sends what is due; each call is one bounded pass (at most `[alerts] max_per_pass` alerts)."""

    def __init__(self, db: Database, settings: Settings, channels: list[Channel], *,
                 clock: Callable[[], datetime] = utcnow, on_delivery: Optional[Callable[[str, str, bool], None]] = None):
        self.db, self.settings, self.channels = db, settings, channels
        self.wording = Wording(settings)
        self.clock = clock
        self.on_delivery = on_delivery or (lambda kind, channel, ok: None)
        self._resting: dict[str, float] = {}     # channel -> monotonic time it may be tried again
        self._last_digest = float("-inf")

    def run(self, *, reminders: bool = True) -> NoticeReport:
        """Alerts for critical posts; with `reminders`, also the overdue digest when one is due
        (at most one per `[alerts] reminder_every_seconds`, so a backlog arrives as one message)."""
        report = NoticeReport()
        if not self.channels:
            return report
        self._alerts(report)
        due = time.monotonic() - self._last_digest >= self.settings.alerts.reminder_every_seconds
        if reminders and self.settings.alerts.remind_overdue and due:
            if self._reminders(report):
                self._last_digest = time.monotonic()
        return report

    def announce(self, kind: str, message: Message) -> list[str]:
        """A message about no post (an expiring token) on every channel ready now; the names of
        the channels it reached."""
        report = NoticeReport()
        return [c.name for c in self._ready() if self._deliver(kind, c, message, report)]

    # -- which channels may be used now, and which already have this post
    def _ready(self) -> list[Channel]:
        now = time.monotonic()
        return [c for c in self.channels if self._resting.get(c.name, 0.0) <= now]

    @staticmethod
    def _done(session: Session, kind: str, post_ids: list[int]) -> dict[int, set[str]]:
        rows = session.exec(select(AuditEvent.post_id, AuditEvent.action).where(
            col(AuditEvent.post_id).in_(post_ids), col(AuditEvent.action).like(f"{kind}.sent.%")))
        done: dict[int, set[str]] = {post_id: set() for post_id in post_ids}
        for post_id, action in rows:
            done[post_id].add(action.rsplit(".", 1)[1])
        return done

    def _deliver(self, kind: str, channel: Channel, message: Message, report: NoticeReport) -> bool:
        try:
            channel.send(message)
        except DeliveryError as exc:
            failure = f"{kind} via {channel.name} failed: {exc}; trying again in {self.settings.alerts.retry_seconds} s"
        except Exception as exc:  # a channel bug must not stop the daemon
            log.exception("%s channel crashed", channel.name)
            failure = f"{kind} via {channel.name} failed: unexpected {type(exc).__name__}"
        else:
            self.on_delivery(kind, channel.name, True)
            return True
        log.warning(failure)
        report.failures.append(failure)
        self._resting[channel.name] = time.monotonic() + self.settings.alerts.retry_seconds
        self.on_delivery(kind, channel.name, False)
        return False

    def _record(self, session: Session, kind: str, post_ids: list[int], channel: str, now: datetime) -> None:
        for post_id in post_ids:
            audit.record(session, ACTOR, f"{kind}.sent.{channel}", post_id)

    def _complete(self, session: Session, kind: str, post_ids: list[int], now: datetime) -> list[int]:
        """Posts now delivered on every channel get alerted_at/reminded_at (same transaction)."""
        session.flush()
        done = self._done(session, kind, post_ids)
        names = {c.name for c in self.channels}
        finished = [post_id for post_id in post_ids if names <= done[post_id]]
        column = "alerted_at" if kind == "alert" else "reminded_at"
        for post_id in finished:
            post = session.get(Post, post_id)
            if getattr(post, column) is None:
                setattr(post, column, now)
                session.add(post)
        return finished

    # -- alerts: one message per critical post
    def _alert_query(self, now: datetime, skip: set[int]):
        horizon = now - timedelta(hours=self.settings.alerts.max_age_hours)
        query = (select(Post).where(col(Post.severity) >= self.settings.analysis.critical_threshold,
                                    col(Post.alerted_at).is_(None), col(Post.status) == "open",
                                    col(Post.created_at) >= horizon)
                 .order_by(col(Post.severity).desc(), col(Post.id)).limit(1))
        if skip:
            query = query.where(col(Post.id).not_in(skip))
        if self.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return query

    def _alerts(self, report: NoticeReport) -> None:
        skip: set[int] = set()
        for _ in range(self.settings.alerts.max_per_pass):
            now = self.clock()
            with self.db.session() as session:
                post = session.exec(self._alert_query(now, skip)).first()
                if post is None:
                    return
                skip.add(post.id)
                facts = _facts(session, post)
                missing = [c for c in self._ready() if c.name not in self._done(session, "alert", [post.id])[post.id]]
                if self.db.is_postgres:   # the row lock is held while delivering
                    self._alert_one(session, facts, missing, now, report)
                    continue
            with self.db.session() as session:  # SQLite: one daemon; deliver outside a transaction
                self._alert_one(session, facts, missing, now, report)

    def _alert_one(self, session: Session, facts: PostFacts, channels: list[Channel], now: datetime,
                   report: NoticeReport) -> None:
        message = self.wording.alert(facts)
        with log_context(post_id=facts.id):
            for channel in channels:
                if self._deliver("alert", channel, message, report):
                    self._record(session, "alert", [facts.id], channel.name, now)
            if self._complete(session, "alert", [facts.id], now):
                report.alerted.append(facts.id)
                log.info("alert sent for post %s", facts.id)

    # -- reminders: one digest per pass for posts that went past their due time
    def _reminders(self, report: NoticeReport) -> bool:
        """True when a digest went out on some channel."""
        now = self.clock()
        horizon = now - timedelta(hours=self.settings.alerts.max_age_hours)
        query = (select(Post).where(col(Post.status) == "open", col(Post.reminded_at).is_(None),
                                    col(Post.due_at) < now, col(Post.created_at) >= horizon)
                 .order_by(col(Post.due_at), col(Post.id)).limit(200))
        if self.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        with self.db.session() as session:
            posts = list(session.exec(query))
            if not posts:
                return False
            facts = [_facts(session, post) for post in posts]
            done = self._done(session, "reminder", [f.id for f in facts])
            plan = [(c, [f for f in facts if c.name not in done[f.id]]) for c in self._ready()]
            if self.db.is_postgres:
                return self._remind(session, plan, facts, now, report)
        with self.db.session() as session:
            return self._remind(session, plan, facts, now, report)

    def _remind(self, session: Session, plan: list[tuple[Channel, list[PostFacts]]], facts: list[PostFacts],
                now: datetime, report: NoticeReport) -> bool:
        sent = False
        for channel, posts in plan:
            if posts and self._deliver("reminder", channel, self.wording.reminder(posts, now), report):
                self._record(session, "reminder", [p.id for p in posts], channel.name, now)
                sent = True
        report.reminded.extend(self._complete(session, "reminder", [f.id for f in facts], now))
        return sent
