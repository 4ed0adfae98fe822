"""Test doubles that are *backends*, not replacements of our code: an in-memory platform that
speaks the Connector contract, and lexicon-free analyser/drafter/safety stand-ins so the core
tests exercise the pipeline without loading the model."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Iterator, Mapping, Optional, Sequence

from connectors.base import CollectedItem, Connector, ConnectorError, Page, ReplyTarget
from monitor.analysis.base import Analysis, Flag, PostView
from monitor.drafting.base import DraftSuggestion, Finding, SafetyContext

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def item(n: int, text: str = "", **extra: Any) -> CollectedItem:
    return CollectedItem(external_id=f"p{n}", kind="comment", text=text or f"post number {n}",
                         created_at=T0 + timedelta(minutes=n), author_handle=f"user{n}", **extra)


class MemoryPlatform(Connector):
    """Items newest-first, pages of `page_size`, bookmark = newest id seen (like X's since_id)."""

    platform = "memory"
    max_reply_length = 280

    def __init__(self, name: str = "mem", page_size: int = 2):
        super().__init__(name)
        self.items: list[CollectedItem] = []
        self.page_size = page_size
        self.replies: dict[str, list[str]] = {}
        self.fail_after_pages: Optional[int] = None
        self.reply_delay = 0.0
        self.reply_raises: Optional[Exception] = None
        self.find_raises: Optional[Exception] = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Any) -> "MemoryPlatform":
        return cls(name)

    def collect(self, bookmark: Optional[str]) -> Iterator[Page]:
        newest_seen = int(bookmark) if bookmark else 0
        fresh = sorted((i for i in self.items if int(i.external_id[1:]) > newest_seen),
                       key=lambda i: -int(i.external_id[1:]))
        if not fresh:
            return
        newest = fresh[0].external_id[1:]
        pages = [fresh[i:i + self.page_size] for i in range(0, len(fresh), self.page_size)]
        for index, page in enumerate(pages):
            if self.fail_after_pages is not None and index >= self.fail_after_pages:
                raise ConnectorError("pagination broke off")
            yield Page(items=page, bookmark=newest if index == len(pages) - 1 else None)

    def reply(self, target: ReplyTarget, text: str) -> str:
        if self.reply_delay:
            time.sleep(self.reply_delay)
        with self._lock:
            self.replies.setdefault(target.external_id, []).append(text)
            reply_id = f"r-{target.external_id}-{len(self.replies[target.external_id])}"
        if self.reply_raises is not None:
            raise self.reply_raises  # the reply went out, but the answer was lost
        return reply_id

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        if self.find_raises is not None:
            raise self.find_raises
        found = self.replies.get(target.external_id)
        return f"r-{target.external_id}-1" if found else None


class WordAnalyser:
    """Flags a post when it contains 'angry'; enough to drive the queue in core tests."""

    version = "test-words"

    def assess(self, posts: Sequence[PostView]) -> list[Analysis]:
        out = []
        for post in posts:
            angry = "angry" in post.text.lower()
            flags = (Flag("negative", "says it is angry", ("angry",), 0.8),) if angry else ()
            out.append(Analysis(language="en", sentiment="negative" if angry else "neutral", scores={},
                                flags=flags, severity=0.8 if angry else 0.1, flagged=angry,
                                model_version=self.version, summary="; ".join(f.reason for f in flags)))
        return out


class EchoDrafter:
    def draft(self, posts, analyses) -> list[DraftSuggestion]:
        return [DraftSuggestion(text=f"We are sorry, we are checking it ({i}).", language="en", topic="other",
                                strategy="holding", backend="test") for i, _ in enumerate(posts)]


class LinkSafety:
    """Blocks links and over-length text, like the real check does for those two cases."""

    def check(self, text: str, context: SafetyContext) -> list[Finding]:
        findings = []
        if "http" in text:
            findings.append(Finding("link", "link outside the allowed domains", "http"))
        if context.max_length and len(text) > context.max_length:
            findings.append(Finding("length", f"longer than {context.max_length} characters"))
        return findings


BACKENDS = {"analyser": WordAnalyser(), "drafter": EchoDrafter(), "safety": LinkSafety()}
