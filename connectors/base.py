"""The contract every platform speaks (apprise-style: one module per platform, one base class).

A connector is built from its settings section, collects new items since a bookmark page by
page, posts a reply, and can tell whether the brand already replied to an item (so that an
uncertain post is reconciled, never blindly retried).

Errors cross this boundary only as the `ConnectorError` family below; client-library
exceptions never reach the caller.

Streams. A source may read several listings (X mentions and search; Reddit inbox, comments and
submissions; ...). A connector that overrides `collect_streams` gets one bookmark per stream and
labels every page with its stream; a stream that fails yields a page carrying the error and the
others go on, so one broken listing never starves the rest. A connector written against the
single-bookmark contract (`collect` only) keeps working: its pages have no stream and its source
keeps one bookmark. Either kind may hand over items it cannot read as `Unreadable` (kept raw in
quarantine for a person, the walk goes on past them) and re-read them later in `read_item`.
"""
from __future__ import annotations

import abc
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Iterator, Mapping, Optional, Protocol


@dataclass(frozen=True)
class CollectedItem:
    """One public item as the platform gave it, normalised."""

    external_id: str
    kind: str                        # models.enums.PostKind value
    text: str
    created_at: datetime             # UTC (aware; a naive value is read as UTC)
    author_handle: str = ""
    author_reach: int = 0
    url: Optional[str] = None
    rating: Optional[int] = None
    thread_id: Optional[str] = None
    parent_id: Optional[str] = None
    likes: int = 0
    shares: int = 0
    replies: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)  # what reply()/find_reply() need later


@dataclass(frozen=True)
class Unreadable:
    """An item the connector could not read. `payload` is what `read_item` takes to try again
    (the raw item plus whatever context it needs, JSON-serialisable); `error` says why."""

    error: str
    payload: Any
    external_id: Optional[str] = None


@dataclass(frozen=True)
class Page:
    """Items to store, and the bookmark to persist once they are committed.

    `bookmark=None` means "do not move the bookmark yet" (e.g. newest-first pagination, where
    only the last page of a run may move it). The collector stores each page in one transaction
    together with its bookmark, so a crash replays at most one page and never skips one.

    `stream` names the stream the page belongs to (then `bookmark` is that stream's, JSON text);
    None is the single-bookmark contract. `unreadable` items are quarantined in the same
    transaction. `error` ends that stream for this run (its bookmark stays); the others go on.
    """

    items: list[CollectedItem]
    bookmark: Optional[str] = None
    stream: Optional[str] = None
    unreadable: list[Unreadable] = field(default_factory=list)
    error: Optional["ConnectorError"] = None


@dataclass(frozen=True)
class ReplyTarget:
    """What a connector needs to answer a stored post."""

    external_id: str
    kind: str
    thread_id: Optional[str] = None
    parent_id: Optional[str] = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # When the reply was approved (aware UTC): no reply of ours is older. None: unknown.
    approved_at: Optional[datetime] = None


@dataclass(frozen=True)
class CredentialInfo:
    """What one cheap authenticated call told about the credentials (for `monitor doctor`)."""

    detail: str                              # e.g. "page token of Demo Shop, scopes ok"
    expires_at: Optional[datetime] = None    # when the platform says the credential stops working


class ConnectorError(Exception):
    """A platform problem with a message safe to show and store (never contains secrets)."""


class RateLimited(ConnectorError):
    def __init__(self, message: str, until: datetime):
        super().__init__(message)
        self.until = until  # UTC (aware or naive-as-UTC): do not ask this platform again before


class AuthExpired(ConnectorError):
    """Token expired or revoked: the source needs re-authorisation by a person."""


class MalformedPayload(ConnectorError):
    """The platform answered something we cannot read. A whole page: nothing past it is stored
    in that stream. One item of a page: the connector hands it over as `Unreadable` instead."""


class PostRejected(ConnectorError):
    """The platform refused the reply for sure (nothing was posted)."""


class Secrets(Protocol):
    def get(self, source: str, key: str) -> Optional[str]: ...
    def require(self, source: str, key: str) -> str: ...


class Connector(abc.ABC):
    """Base class. Subclasses set `platform` and implement `from_settings`, `reply`, `find_reply`
    and either `collect` (one bookmark per source) or `collect_streams` (one per stream)."""

    platform: ClassVar[str]
    # Replies longer than this are refused by the platform (the safety check uses it too).
    max_reply_length: ClassVar[int] = 5000

    def __init__(self, name: str):
        self.name = name

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "Connector":
        """Validate this platform's settings section; raise `settings.SettingsError` naming the key."""

    def collect(self, bookmark: Optional[str]) -> Iterator[Page]:
        """Yield pages of items newer than the bookmark (all of them: follow pagination).

        For a connector with streams this is the same run under one combined bookmark (a JSON
        object, stream -> value): what older callers and tests use. A failed stream does not stop
        the others; the first stream error is raised at the end."""
        if not self.has_streams:
            raise NotImplementedError(f"{type(self).__name__} implements neither collect nor collect_streams")
        combined = _json_object(bookmark)
        first_error: Optional[ConnectorError] = None
        for page in self.collect_streams(split_bookmark(bookmark)):
            if page.error is not None:
                first_error = first_error or page.error
                continue
            moved = None
            if page.stream is not None and page.bookmark is not None:
                combined[page.stream] = json.loads(page.bookmark)
                moved = json.dumps(combined, sort_keys=True, separators=(",", ":"))
            yield Page(page.items, moved, unreadable=page.unreadable)
        if first_error is not None:
            raise first_error

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        """Yield pages of every stream, each labelled with its stream, each stream's bookmark
        (JSON text) on its closing page; a stream that fails yields `Page([], stream=s, error=e)`
        and the next stream is read. `RateLimited` and `AuthExpired` concern the whole source and
        are raised. Not overriding this keeps the single-bookmark contract (`collect`)."""
        raise NotImplementedError

    @property
    def has_streams(self) -> bool:
        return type(self).collect_streams is not Connector.collect_streams

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        """Read a quarantined item's payload again (after a parser fix): the items to store (none,
        e.g. for the brand's own reply; several where the payload holds an item with its
        replies). Raises MalformedPayload when it still cannot be read."""
        raise MalformedPayload(f"the {self.platform} connector cannot re-read quarantined items")

    @abc.abstractmethod
    def reply(self, target: ReplyTarget, text: str) -> str:
        """Post `text` as a reply to the target; return the platform's id of the reply."""

    @abc.abstractmethod
    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The id of the reply with this text the brand posted to this target since
        `target.approved_at` (None: surely none); `connectors._reconcile.ReplyUnclear` when the
        platform cannot tell (see `connectors._reconcile.our_reply`)."""

    def check_credentials(self) -> Optional[CredentialInfo]:
        """One cheap authenticated call; raises the `ConnectorError` family like `collect`.
        None: this platform has no such check."""
        return None

    def close(self) -> None:
        """Release sessions and sockets."""


def split_bookmark(bookmark: Optional[str]) -> dict[str, str]:
    """A source's combined bookmark (JSON object, stream -> value) as one bookmark per stream;
    anything else (absent, unreadable, not an object) as none: re-collecting is harmless."""
    return {stream: json.dumps(value) for stream, value in _json_object(bookmark).items()}


def _json_object(bookmark: Optional[str]) -> dict[str, Any]:
    try:
        value = json.loads(bookmark) if bookmark else {}
    except ValueError:
        return {}
    return dict(value) if isinstance(value, dict) else {}
