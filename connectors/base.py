"""The contract every platform speaks (apprise-style: one module per platform, one base class).

A connector is built from its settings section, collects new items since a bookmark page by
page, posts a reply, and can tell whether the brand already replied to an item (so that an
uncertain post is reconciled, never blindly retried).

Errors cross this boundary only as the `ConnectorError` family below; client-library
exceptions never reach the caller.
"""
from __future__ import annotations

import abc
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
class Page:
    """Items to store, and the bookmark to persist once they are committed.

    `bookmark=None` means "do not move the bookmark yet" (e.g. newest-first pagination, where
    only the last page of a run may move it). The collector stores each page in one transaction
    together with its bookmark, so a crash replays at most one page and never skips one.
    """

    items: list[CollectedItem]
    bookmark: Optional[str] = None


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
    """The platform answered something we cannot read; nothing past it is stored."""


class PostRejected(ConnectorError):
    """The platform refused the reply for sure (nothing was posted)."""


class Secrets(Protocol):
    def get(self, source: str, key: str) -> Optional[str]: ...
    def require(self, source: str, key: str) -> str: ...


class Connector(abc.ABC):
    """Base class. Subclasses set `platform` and implement the four methods."""

    platform: ClassVar[str]
    # Replies longer than this are refused by the platform (the safety check uses it too).
    max_reply_length: ClassVar[int] = 5000

    def __init__(self, name: str):
        self.name = name

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "Connector":
        """Validate this platform's settings section; raise `settings.SettingsError` naming the key."""

    @abc.abstractmethod
    def collect(self, bookmark: Optional[str]) -> Iterator[Page]:
        """Yield pages of items newer than the bookmark (all of them: follow pagination)."""

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
