"""Backends for daemon tests: an in-memory platform that speaks the Connector contract (with
switches for rate limits, revoked tokens, slow pages and errors, and counters that expose a
double poll or a double reply), and deterministic analyser/drafter/safety stand-ins."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from connectors.base import (AuthExpired, CollectedItem, Connector, ConnectorError, Page, RateLimited,
                             ReplyTarget)
from monitor.analysis.base import Analysis, Flag, PostView
from monitor.drafting.base import DraftSuggestion, Finding, SafetyContext

WAIT_LIMIT = 120.0       # generous upper bound for awaited work; a test never counts work in a window


def item(n: int, text: str = "", *, prefix: str = "p", created_at: Optional[datetime] = None) -> CollectedItem:
    return CollectedItem(external_id=f"{prefix}{n}", kind="comment", text=text or f"post number {n}",
                         created_at=created_at or datetime.now(UTC) - timedelta(minutes=5), author_handle=f"user{n}")


class Platform(Connector):
    """Items oldest-first in pages of `page_size`; bookmark = index reached (resumable after
    every page, like an API that pages forward from a cursor)."""

    platform = "memory"
    max_reply_length = 500

    def __init__(self, name: str = "mem", page_size: int = 2):
        super().__init__(name)
        self.items: list[CollectedItem] = []
        self.page_size = page_size
        self.replies: dict[str, list[str]] = {}
        self.rate_limited_until: Optional[datetime] = None
        self.reply_rate_limited_until: Optional[datetime] = None
        self.auth_expired = False
        self.error: Optional[str] = None
        self.page_delay = 0.0
        self.on_page: Optional[Callable[[int], None]] = None   # called before page k is handed out
        self.collect_calls = 0
        self.polled_by: dict[str, int] = {}    # polls per thread name (`run_until` names them by worker)
        self.reply_attempts = 0
        self.pages_served = 0
        self.active = 0
        self.max_active = 0            # > 1 means two workers polled this source at once
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Any) -> "Platform":
        return cls(name)

    def add(self, *items: CollectedItem) -> None:
        with self._lock:
            self.items.extend(items)

    def collect(self, bookmark: Optional[str]) -> Iterator[Page]:
        with self._lock:
            self.collect_calls += 1
            who = threading.current_thread().name
            self.polled_by[who] = self.polled_by.get(who, 0) + 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.rate_limited_until is not None:
                raise RateLimited("429 Too Many Requests", self.rate_limited_until)
            if self.auth_expired:
                raise AuthExpired("the access token was revoked")
            if self.error:
                raise ConnectorError(self.error)
            position = int(bookmark or 0)
            while True:
                with self._lock:
                    chunk = self.items[position:position + self.page_size]
                if not chunk:
                    return
                if self.on_page is not None:
                    self.on_page(self.pages_served)
                if self.page_delay:
                    time.sleep(self.page_delay)
                position += len(chunk)
                with self._lock:
                    self.pages_served += 1
                yield Page(items=list(chunk), bookmark=str(position))
        finally:
            with self._lock:
                self.active -= 1

    def reply(self, target: ReplyTarget, text: str) -> str:
        with self._lock:
            self.reply_attempts += 1
        if self.reply_rate_limited_until is not None:
            raise RateLimited("429 on reply", self.reply_rate_limited_until)
        with self._lock:
            self.replies.setdefault(target.external_id, []).append(text)
            return f"r-{target.external_id}-{len(self.replies[target.external_id])}"

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        return f"r-{target.external_id}-1" if self.replies.get(target.external_id) else None


class WordAnalyser:
    """'critical' -> severity 0.95 (alert); 'angry' -> 0.6 (flagged); else 0.1."""

    version = "daemon-test"

    def assess(self, posts: Sequence[PostView]) -> list[Analysis]:
        out = []
        for post in posts:
            text = post.text.lower()
            severity = 0.95 if "critical" in text else 0.6 if "angry" in text else 0.1
            flags = (Flag("legal_threat", "threatens court: 'critical'", ("critical",), 0.5),) if severity > 0.9 else \
                (Flag("negative", "says it is angry", ("angry",), 0.4),) if severity > 0.5 else ()
            out.append(Analysis(language="en", sentiment="negative" if flags else "neutral", scores={}, flags=flags,
                                severity=severity, flagged=severity >= 0.5, model_version=self.version,
                                summary="; ".join(f.reason for f in flags)))
        return out


class FixedDrafter:
    def draft(self, posts, analyses) -> list[DraftSuggestion]:
        return [DraftSuggestion(text="We are sorry, we are checking it.", language="en", topic="other",
                                strategy="holding", backend="test") for _ in posts]


class NoFindings:
    def check(self, text: str, context: SafetyContext) -> list[Finding]:
        return []


BACKENDS = {"analyser": WordAnalyser(), "drafter": FixedDrafter(), "safety": NoFindings()}


def run_until(daemons: Sequence[Any], condition: Callable[[], bool], *, limit: float = WAIT_LIMIT,
              state: Callable[[], Any] = lambda: None) -> list[Any]:
    """Run the daemons (threads) until `condition()` holds, then stop them gracefully; returns
    their reports. Waits for the work itself, however slow the machine: `limit` only bounds a
    test that would otherwise hang, and running into it fails the test."""
    reports: dict[int, Any] = {}
    runs = [threading.Thread(target=lambda i, d: reports.__setitem__(i, d.run(max_seconds=limit)), args=(i, d),
                             name=d.worker) for i, d in enumerate(daemons)]
    [t.start() for t in runs]
    deadline = time.monotonic() + limit
    try:
        while not condition():
            assert time.monotonic() < deadline, f"the daemons did not do the expected work in time: {state()}"
            time.sleep(0.01)
    finally:
        for daemon in daemons:
            daemon.stop("the test saw the work done")
        [t.join(limit) for t in runs]
    return [reports[i] for i in range(len(daemons))]
