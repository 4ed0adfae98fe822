"""What the fake platforms hold: items (posts, comments, tweets, reviews) in memory, the brand's
identities, the failures planned for coming requests, and a log of every request seen."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Optional

PLATFORMS = ("x", "facebook", "instagram", "reddit", "google_reviews", "allegro", "vk", "youtube", "trustpilot")
FAILURE_KINDS = (
    "rate_limit",      # the platform's rate-limit answer (HTTP 429 / Graph code 4)
    "api_ratelimit",   # Reddit: HTTP 200 with a RATELIMIT error (as for too many comments); YouTube: the
                       # daily quota is spent (403 quotaExceeded); VK: the daily method limit (error 29)
    "auth_expired",    # token expired or revoked (token endpoints refuse to renew as well)
    "malformed",       # reads: the real page with its first item lacking a required field;
                       # posts: a well-formed answer without the reply's id
    "truncated",       # the body is cut off half-way (not valid JSON)
    "server_error",    # HTTP 5xx
    "disconnect",      # the connection is closed without an answer, nothing done
    "lost_response",   # the request is carried out, then the connection is closed (replies)
)


@dataclass(frozen=True)
class Brand:
    """The shop's accounts on each fake platform (what the demo settings point at)."""

    x_user_id: str = "1500000000000000001"
    x_username: str = "DemoShop"
    facebook_page_id: str = "104000000000001"
    facebook_page_name: str = "Demo Shop"
    instagram_user_id: str = "17841400000000001"
    instagram_username: str = "demoshop"
    reddit_username: str = "DemoShop"
    subreddit: str = "zakupy"
    google_account_id: str = "1000000001"
    google_location_id: str = "2000000002"
    allegro_user_id: str = "77000001"
    allegro_login: str = "DemoShop_PL"
    vk_group_id: str = "210000001"
    vk_group_name: str = "Demo Shop"
    youtube_channel_id: str = "UCdemoShop00000000000001"
    youtube_channel_name: str = "Demo Shop"
    trustpilot_business_unit_id: str = "5f00000000000000000000a1"
    trustpilot_business_user_id: str = "6a00000000000000000000b2"


@dataclass
class Item:
    """One thing on a platform. `parent` is what it answers (a post, comment, tweet), `root` the
    post/media/submission/conversation it belongs to."""

    id: str
    platform: str
    kind: str                 # tweet, fb_post, fb_comment, ig_media, ig_comment, t1, t3, review,
                              # rating (Allegro), vk_post, vk_comment, yt_video, yt_comment, tp_review
    text: str
    author: str
    author_id: str
    created: datetime
    parent: Optional[str] = None
    root: Optional[str] = None
    by_brand: bool = False
    reach: int = 0
    likes: int = 0
    shares: int = 0
    replies: int = 0
    rating: Optional[int] = None
    demo_id: Optional[str] = None
    mentions_brand: bool = False
    owner_reply: Optional[dict[str, Any]] = None   # Google reviews, Allegro, Trustpilot
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    platform: str
    kind: str
    times: int
    after: int
    on: Optional[str]         # None (any request), "read" (GET) or "write" (POST/PUT/DELETE)


@dataclass
class SeenRequest:
    platform: str
    method: str
    path: str
    at: datetime
    failed: Optional[str] = None


class FakeState:
    def __init__(self, brand: Brand, page_size: int):
        self.brand = brand
        self.page_size = page_size
        self.lock = threading.RLock()
        self.items: dict[str, Item] = {}
        self.replies: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.requests: list[SeenRequest] = []
        self.tokens: set[str] = set()
        self.refresh_tokens_used: list[str] = []
        self.refresh_token_lifetime = 30 * 24 * 3600   # seconds (Trustpilot tells it at each renewal)
        # When the Graph page token expires (debug_token's expires_at); None: it never does.
        self.token_expires_at: Optional[datetime] = utc(minutes_ago=-55 * 24 * 60)
        self.author_ids: dict[tuple[str, str], str] = {}
        self._counter = itertools.count(1)

    def next_number(self) -> int:
        return next(self._counter)

    def author_id(self, platform: str, author: str, base: int) -> str:
        """A stable numeric id per (platform, author name)."""
        with self.lock:
            key = (platform, author)
            if key not in self.author_ids:
                self.author_ids[key] = str(base + len(self.author_ids) + 1)
            return self.author_ids[key]

    def add(self, item: Item) -> Item:
        with self.lock:
            self.items[item.id] = item
        return item

    def of(self, platform: str, kind: Optional[str] = None) -> list[Item]:
        """Newest first (ties broken by id, newest id first)."""
        with self.lock:
            found = [i for i in self.items.values() if i.platform == platform and (kind is None or i.kind == kind)]
        return sorted(found, key=lambda i: (i.created, _sortable(i.id)), reverse=True)

    def children(self, parent: str) -> list[Item]:
        with self.lock:
            found = [i for i in self.items.values() if i.parent == parent]
        return sorted(found, key=lambda i: (i.created, _sortable(i.id)), reverse=True)

    def take_failure(self, platform: str, method: str, token_endpoint: bool) -> Optional[str]:
        """The failure planned for this request, if any (and count it down)."""
        write = method.upper() in ("POST", "PUT", "DELETE", "PATCH")
        with self.lock:
            for failure in self.failures:
                if failure.platform != platform or failure.times <= 0:
                    continue
                if token_endpoint and failure.kind != "auth_expired":
                    continue
                if not token_endpoint and failure.on and failure.on != ("write" if write else "read"):
                    continue
                if failure.after > 0:
                    failure.after -= 1
                    return None
                failure.times -= 1
                kind = failure.kind
                self.failures = [f for f in self.failures if f.times > 0]
                return kind
        return None


def _sortable(value: str) -> tuple[int, str]:
    tail = value.rsplit("_", 1)[-1]
    return (int(tail), value) if tail.isdigit() else (0, value)


def utc(minutes_ago: float = 0) -> datetime:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).replace(microsecond=0)
