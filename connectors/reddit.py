"""Reddit through praw: comments and submissions in the configured subreddits that name the
brand (all of them when no `terms` are set, e.g. for the shop's own subreddit), and the brand
account's inbox mentions; replies as comments.

Reading goes through `Reddit.request` (praw and prawcore do the auth, retries and errors; the
JSON is read here, so a malformed listing is a clear error rather than a lazy praw object that
fetches again behind our back). Replies use praw's models (`Comment.reply`).

Sleeping and double-posting are kept out of prawcore by a requestor that praw accepts as
`requestor_class`: it records Reddit's `x-ratelimit-*` headers itself (and hides them from
prawcore's limiter, which would sleep up to ten minutes) and refuses once the window is spent;
and it never sends the same reply twice when prawcore wants to retry after a 5xx or a timeout
(the first one may have been posted: that is for `find_reply` to settle). praw's own
`ratelimit_seconds` is 0, so a RATELIMIT answer is reported, not slept through.
"""
from __future__ import annotations

import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterator, Mapping, Optional

import praw
import prawcore
import requests
from praw.exceptions import PRAWException, RedditAPIException
from prawcore.sessions import FiniteRetryStrategy

from connectors._http import protect, scrub
from connectors._limits import REPLY_LIMITS
from connectors._options import Options
from connectors._paging import (Entry, StreamWalk, backfill_floor, close_stream, isolated, load_stream, need,
                                now_utc, optional_int, parse_time, read_entries, time_of)
from connectors._reconcile import CLOCK_SKEW, BrandReply, our_reply
from connectors.base import (CredentialInfo, AuthExpired, CollectedItem, Connector, ConnectorError,
                             MalformedPayload, Page, PostRejected, RateLimited, ReplyTarget,
                             Secrets)

log = logging.getLogger(__name__)

OAUTH_URL = "https://oauth.reddit.com"
REDDIT_URL = "https://www.reddit.com"
SITE = "https://www.reddit.com"
DEFAULT_WAIT = timedelta(minutes=10)
FIND_REPLY_PAGES = 3
_WAIT_IN_TEXT = re.compile(r"(\d+)\s*(minute|second|millisecond)", re.I)


@dataclass(frozen=True)
class _QuickRetry(FiniteRetryStrategy):
    """One immediate retry (prawcore's default sleeps 2-4 s between up to three tries)."""

    retries: int = 1

    def _sleep_seconds(self) -> Optional[float]:
        return None


class _Guard:
    """State the requestor shares with the connector (one connector, one thread at a time)."""

    def __init__(self) -> None:
        self.paused_until: Optional[datetime] = None
        self._posting = False
        self._reply_sends = 0
        self._last_reply_status: Optional[int] = None
        self.lock = threading.Lock()

    @contextmanager
    def posting(self) -> Iterator[None]:
        self._posting, self._reply_sends, self._last_reply_status = True, 0, None
        try:
            yield
        finally:
            self._posting = False

    def before(self, method: str, url: str) -> None:
        if self.paused_until and now_utc() < self.paused_until:
            raise RateLimited(f"Reddit request window spent; it resets at {self.paused_until:%H:%M} UTC",
                              self.paused_until)
        if self._posting and method.upper() == "POST" and "/api/comment" in url:
            if self._reply_sends and self._last_reply_status != 401:
                raise ConnectorError("the reply request failed half-way (no answer from Reddit); "
                                     "it may have been posted")
            self._reply_sends += 1
            self._last_reply_status = None

    def sending_reply(self, method: str, url: str) -> bool:
        return self._posting and method.upper() == "POST" and "/api/comment" in url

    def after(self, method: str, url: str, response: requests.Response) -> None:
        if self._posting and method.upper() == "POST" and "/api/comment" in url:
            self._last_reply_status = response.status_code
        headers = response.headers
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is None:
            return
        try:
            left, reset = float(remaining), int(float(headers.get("x-ratelimit-reset", "600")))
        except ValueError:
            left, reset = 1.0, 600
        if left < 1:
            self.paused_until = now_utc() + timedelta(seconds=max(1, reset))
        for name in ("x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset"):
            headers.pop(name, None)  # prawcore's limiter would sleep on them


def _no_retry_of_replies(do_retry: Any, guard: "_Guard") -> Any:
    """prawcore retries any request that failed (a dropped connection, a 5xx) and warns
    "Retrying due to ...". A reply that may have been posted is never sent again (the guard
    would refuse the second try anyway), so it is not retried at all: the caller gets an
    uncertain failure at once and reconciles it. Only a 401 (surely not posted: the token is
    renewed) is tried again."""
    def retry(*, method: str, url: str, status: str, **kwargs: Any) -> Any:
        if guard.sending_reply(method, url) and not status.startswith("401"):
            raise ConnectorError(f"the reply request failed half-way ({status.split('(')[0]}); "
                                 "it may have been posted, so it is not sent again")
        return do_retry(method=method, url=url, status=status, **kwargs)
    return retry


class _GuardedRequestor(prawcore.Requestor):
    def __init__(self, *args: Any, guard: _Guard, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._guard = guard

    def request(self, *args: Any, timeout: Optional[float] = None, **kwargs: Any) -> requests.Response:
        method, url = (str(args[0]), str(args[1])) if len(args) >= 2 else ("GET", "")
        self._guard.before(method, url)
        response = super().request(*args, timeout=timeout, **kwargs)
        self._guard.after(method, url, response)
        return response


class RedditConnector(Connector):
    platform = "reddit"
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, username: str, subreddits: list[str], terms: list[str],
                 query: Optional[str], mentions: bool, oauth_url: str, reddit_url: str, user_agent: str,
                 page_size: int, max_pages: int, backfill_days: int, timeout: float,
                 client_id: str, client_secret: str, refresh_token: Optional[str] = None,
                 password: Optional[str] = None):
        super().__init__(name)
        self.username = username
        self.subreddits = subreddits
        self.terms = [t.lower() for t in terms]
        self.query = query or (" OR ".join(f'"{t}"' for t in terms) if terms else None)
        self.mentions = mentions
        self.page_size = page_size
        self.max_pages = max_pages
        self.backfill_days = backfill_days
        self._guard = _Guard()
        auth: dict[str, Any] = {"refresh_token": refresh_token} if refresh_token else \
            {"username": username, "password": password}
        self.reddit = praw.Reddit(
            client_id=client_id, client_secret=client_secret, user_agent=user_agent,
            oauth_url=oauth_url, reddit_url=reddit_url, check_for_updates=False, check_for_async=False,
            ratelimit_seconds=0, requestor_class=_GuardedRequestor,
            requestor_kwargs={"guard": self._guard, "timeout": timeout}, **auth)
        for core in (getattr(self.reddit, "_read_only_core", None), getattr(self.reddit, "_authorized_core", None)):
            if core is not None and hasattr(core, "_retry_strategy_class"):
                core._retry_strategy_class = _QuickRetry
            if core is not None and hasattr(core, "_do_retry"):
                core._do_retry = _no_retry_of_replies(core._do_retry, self._guard)

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "RedditConnector":
        opts = Options(name, options)
        username = opts.text("username", pattern=r"[A-Za-z0-9_-]{3,20}", hint="the brand's Reddit account, without u/")
        subreddits = opts.text_list("subreddits", [], pattern=r"[A-Za-z0-9_]{2,21}", hint="a name without r/")
        base_url = opts.url("base_url", "") if "base_url" in options else None
        values = dict(
            username=username, subreddits=subreddits,
            terms=opts.text_list("terms", []),
            query=opts.text("query", None),
            mentions=opts.flag("inbox_mentions", True),
            oauth_url=base_url or OAUTH_URL, reddit_url=base_url or REDDIT_URL,
            user_agent=opts.text("user_agent", f"python:reply-monitor:0.1 (by /u/{username})"),
            page_size=opts.integer("page_size", 100, 1, 100),
            max_pages=opts.integer("max_pages", 10, 1, 100),
            backfill_days=opts.integer("backfill_days", 7, 1, 365),
            timeout=opts.number("timeout_seconds", 20, 1, 300),
        )
        opts.finish()
        if not subreddits and not values["mentions"]:
            raise opts.error("subreddits", "name at least one subreddit, or keep inbox_mentions = true")
        credentials: dict[str, Optional[str]] = {
            "client_id": secrets.require(name, "client_id"),
            "client_secret": secrets.require(name, "client_secret"),
            "refresh_token": secrets.get(name, "refresh_token"),
        }
        if not credentials["refresh_token"]:
            credentials["password"] = secrets.get(name, "password")
            if not credentials["password"]:
                secrets.require(name, "refresh_token")  # raises, naming the preferred secret
        protect(*credentials.values())
        return cls(name, **values, **credentials)

    # --- collect ---------------------------------------------------------------------------

    def _streams(self) -> list[tuple[str, str, dict[str, Any]]]:
        streams: list[tuple[str, str, dict[str, Any]]] = []
        if self.mentions:  # first: an inbox mention is also a subreddit comment, and is kept as a mention
            streams.append(("mentions", "message/mentions", {}))
        if self.subreddits:
            combined = "+".join(self.subreddits)
            streams.append(("comments", f"r/{combined}/comments", {}))
            if self.query:
                streams.append(("submissions", f"r/{combined}/search",
                                {"q": self.query, "sort": "new", "restrict_sr": "on", "type": "link"}))
            else:
                streams.append(("submissions", f"r/{combined}/new", {}))
        return streams

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        floor = backfill_floor(self.backfill_days)
        yielded: set[str] = set()  # an item found by two streams is stored once per run
        for stream, path, params in self._streams():
            yield from isolated(stream, self._collect_stream(stream, path, params, bookmarks, floor, yielded),
                                self.name)

    def _collect_stream(self, stream: str, path: str, params: Mapping[str, Any],
                        bookmarks: Mapping[str, Optional[str]], floor: datetime, yielded: set[str]) -> Iterator[Page]:
        walk = StreamWalk(load_stream(bookmarks, stream, self.name), floor_time=floor, max_pages=self.max_pages,
                          where=f"source {self.name}: reddit {stream}")
        fetch = lambda cursor: self._listing_page(stream, path, params, cursor)  # noqa: E731
        for listing in walk.listings([stream]):  # one listing per stream; its cursor is Reddit's 'after'
            for entries in walk.walk(listing, fetch):
                items = [e.item for e in entries if e.item is not None and e.external_id not in yielded]
                yielded.update(i.external_id for i in items)
                unreadable = [e.unreadable for e in entries if e.unreadable is not None]
                if items or unreadable:
                    yield Page(items, stream=stream, unreadable=unreadable)
        yield close_stream(stream, walk.value())

    def _listing_page(self, stream: str, path: str, params: Mapping[str, Any],
                      cursor: Optional[str]) -> tuple[list[Entry], Optional[str]]:
        query = dict(params, limit=self.page_size)
        if cursor:
            query["after"] = cursor
        payload = self._call(lambda: self.reddit.request(method="GET", path=path, params=query),
                             action=f"reading {stream}")
        return self._read_listing(payload, stream)

    def _read_listing(self, payload: Any, stream: str) -> tuple[list[Entry], Optional[str]]:
        """A listing page as Reddit sends it: its entries (one per item, unreadable ones kept as
        such) and the cursor of the next page."""
        where = f"reddit {stream}"
        listing = need(payload, "data", dict, where)
        children = need(listing, "children", list, where)
        after = listing.get("after")
        if after is not None and not isinstance(after, str):
            raise MalformedPayload(f"{where}: 'after' is not a string")
        entries = read_entries(children, lambda child: self._child_entry(child, stream),
                               when=lambda child: time_of(child.get("data"), "created_utc"))
        return entries, after

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        entry = self._child_entry(payload, stream or "comments")
        return [entry.item] if entry is not None and entry.item is not None else []

    def _child_entry(self, child: Any, stream: str) -> Optional[Entry]:
        where = f"reddit {stream}"
        kind = need(child, "kind", str, where)
        if kind not in ("t1", "t3"):
            log.info("source %s: skipping a %r item in %s", self.name, kind[:20], stream)
            return None
        return self._entry(kind, need(child, "data", dict, where), stream)

    def _entry(self, kind: str, data: Mapping[str, Any], stream: str) -> Entry:
        where = f"reddit {stream}"
        short_id = need(data, "id", str, where)
        fullname = str(data.get("name") or f"{kind}_{short_id}")
        created = parse_time(need(data, "created_utc", (int, float), f"{where} {fullname}"), where)
        author = str(data.get("author") or "[deleted]")
        if author.lower() == self.username.lower():
            return Entry(created, fullname, None)  # the brand's own comment
        if kind == "t1":
            text = need(data, "body", str, f"{where} {fullname}")
            thread, parent = data.get("link_id"), data.get("parent_id")
            replies = 0
        else:
            title = need(data, "title", str, f"{where} {fullname}")
            text = f"{title}\n\n{data.get('selftext') or ''}".strip()
            thread, parent, replies = fullname, None, optional_int(data, "num_comments")
        if stream != "mentions" and self.terms and not any(term in text.lower() for term in self.terms):
            return Entry(created, fullname, None)  # does not name the brand
        permalink = data.get("permalink") or data.get("context")
        item = CollectedItem(
            external_id=fullname, kind="mention" if stream == "mentions" else ("comment" if kind == "t1" else "mention"),
            text=text, created_at=created, author_handle=author,
            url=f"{SITE}{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else None,
            thread_id=str(thread) if thread else None, parent_id=str(parent) if parent else None,
            likes=optional_int(data, "score"), replies=replies,
            extra={"fullname": fullname, "subreddit": str(data.get("subreddit") or "")})
        return Entry(created, fullname, item)

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the reply has {len(text)} characters; Reddit allows {self.max_reply_length}")
        fullname = str((target.extra or {}).get("fullname") or target.external_id)
        kind, _, short_id = fullname.partition("_")
        if kind not in ("t1", "t3") or not short_id:
            raise PostRejected(f"cannot reply to {fullname!r}: not a Reddit comment or submission; nothing was posted")
        thing = self.reddit.comment(short_id) if kind == "t1" else self.reddit.submission(short_id)
        with self._guard.posting():
            created = self._call(lambda: thing.reply(text), action="replying", posting=True)
        if created is None:  # Reddit posted it but did not say which (quarantined subreddits)
            found = self.find_reply(target, text)
            if found:
                return found
            raise ConnectorError("Reddit accepted the reply without naming it; it may have been posted")
        reply_id = getattr(created, "id", None)
        if not reply_id:
            raise ConnectorError("Reddit answered the reply without an id; it may have been posted")
        return f"t1_{reply_id}"

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The brand's own comment whose parent is the target, with this text (its comments,
        newest first, back to the approval; bounded)."""
        fullname = str((target.extra or {}).get("fullname") or target.external_id)
        floor = target.approved_at - CLOCK_SKEW if target.approved_at else None
        found: list[BrandReply] = []
        cursor: Optional[str] = None
        complete = False
        for _ in range(FIND_REPLY_PAGES):
            params: dict[str, Any] = {"sort": "new", "limit": 100}
            if cursor:
                params["after"] = cursor
            payload = self._call(lambda: self.reddit.request(
                method="GET", path=f"user/{self.username}/comments", params=params),
                action="looking for an earlier reply")
            listing = need(payload, "data", dict, "reddit user comments")
            older = False
            for child in need(listing, "children", list, "reddit user comments"):
                data = child.get("data") if isinstance(child, dict) else None
                if not isinstance(data, dict) or not data.get("id"):
                    continue
                try:
                    created: Optional[datetime] = parse_time(data.get("created_utc"), "reddit comment")
                except MalformedPayload:
                    created = None
                older = older or (floor is not None and created is not None and created < floor)
                if data.get("parent_id") == fullname:
                    found.append(BrandReply(str(data.get("name") or f"t1_{data['id']}"), str(data.get("body") or ""),
                                            created, exact=True))
            cursor = listing.get("after")
            if not cursor or older:  # newest first: past the approval, nothing of ours is left
                complete = True
                break
        return our_reply(found, text, target.approved_at, complete=complete,
                         where=f"reddit ({self.name}): the reply to {fullname}")

    def check_credentials(self) -> CredentialInfo:
        """GET /api/v1/me: the refresh token (or password) still gets an access token."""
        me = self._call(lambda: self.reddit.user.me(), action="checking the credentials")
        name = str(getattr(me, "name", "") or "")
        if name and name.lower() != self.username.lower():
            raise AuthExpired(f"Reddit: the credentials are u/{name}'s, not u/{self.username}'s")
        return CredentialInfo(f"signed in as u/{name or self.username}")

    def close(self) -> None:
        try:
            self.reddit._core.close()  # type: ignore[union-attr]
        except Exception:  # closing is best effort
            pass

    # --- errors ----------------------------------------------------------------------------

    def _call(self, function, *, action: str, posting: bool = False) -> Any:
        maybe = "; it may have been posted" if posting else ""
        try:
            return function()
        except ConnectorError:
            raise  # from the requestor guard, already worded
        except RedditAPIException as exc:
            for item in exc.items:
                if item.error_type == "RATELIMIT":
                    until = now_utc() + _wait_in(item.message)
                    raise RateLimited(f"Reddit asks to wait before {action} (until {until:%H:%M} UTC)", until) from None
            detail = "; ".join(f"{i.error_type}: {scrub(i.message)[:200]}" for i in exc.items)
            if posting:
                raise PostRejected(f"Reddit refused the reply ({detail})") from None
            raise ConnectorError(f"Reddit refused {action} ({detail})") from None
        except prawcore.TooManyRequests as exc:
            until = now_utc() + _retry_after(exc)
            raise RateLimited(f"Reddit rate limit (429) while {action}; try again after {until:%H:%M} UTC", until) from None
        except (prawcore.OAuthException, prawcore.InvalidToken, prawcore.InsufficientScope) as exc:
            raise AuthExpired(f"Reddit refused the credentials while {action} ({type(exc).__name__}): "
                              "the refresh token or password was revoked or lacks a scope; authorise the app again") from None
        except (prawcore.Forbidden, prawcore.NotFound, prawcore.Redirect, prawcore.BadRequest) as exc:
            if posting:
                raise PostRejected(f"Reddit refused the reply ({type(exc).__name__}: locked, deleted or banned)") from None
            raise ConnectorError(f"Reddit refused {action} ({type(exc).__name__}): check the subreddit names "
                                 "and that the account may read them") from None
        except prawcore.BadJSON:
            if posting:
                raise ConnectorError(f"Reddit answered the reply with unreadable JSON{maybe}") from None
            raise MalformedPayload(f"Reddit answered unreadable JSON while {action}") from None
        except prawcore.ServerError as exc:
            raise ConnectorError(f"Reddit server error while {action} ({scrub(exc)[:100]}){maybe}") from None
        except prawcore.RequestException as exc:
            raise ConnectorError(f"network error while {action} on Reddit "
                                 f"({type(exc.original_exception).__name__}){maybe}") from None
        except prawcore.ResponseException as exc:
            status = getattr(exc.response, "status_code", None)
            if "access_token" in str(getattr(exc.response, "url", "")):
                raise AuthExpired(f"Reddit's token endpoint refused the app credentials ({status}); "
                                  "check client_id and client_secret") from None
            raise ConnectorError(f"Reddit answered {status} while {action}{maybe}") from None
        except (PRAWException, prawcore.PrawcoreException) as exc:
            raise ConnectorError(f"Reddit client error while {action} ({type(exc).__name__}){maybe}") from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            if posting:
                raise ConnectorError(f"Reddit answered the reply unexpectedly ({type(exc).__name__}){maybe}") from None
            raise MalformedPayload(f"Reddit answered an unexpected structure while {action} ({type(exc).__name__})") from None


def _wait_in(message: Optional[str]) -> timedelta:
    match = _WAIT_IN_TEXT.search(message or "")
    if not match:
        return DEFAULT_WAIT
    amount, unit = int(match.group(1)), match.group(2).lower()
    seconds = amount * 60 if unit == "minute" else (amount if unit == "second" else 1)
    return timedelta(seconds=max(1, seconds))


def _retry_after(exc: prawcore.TooManyRequests) -> timedelta:
    for value in (exc.retry_after, exc.response.headers.get("x-ratelimit-reset")):
        try:
            if value is not None:
                return timedelta(seconds=max(1.0, float(value)))
        except ValueError:
            continue
    return DEFAULT_WAIT
