"""YouTube comments on the channel's videos (Data API v3 through google-api-python-client):
comment threads (`commentThreads.list allThreadsRelatedToChannelId`, newest first) with their
replies, and the channel's reply in the thread (`comments.insert`).

The client is built from the discovery document shipped in the library (no network at start-up)
and pointed at `base_url`. Its transport is a `requests` session (google-auth renews the access
token) instead of httplib2: httplib2 sends a request again when the answer was lost, which for a
reply could post it twice.

Replies are read from the threads on the pages a run reads (the newest threads): up to five come
with the thread, more are listed per thread. The channel's own comments are not collected.

One stream, `comments` (its bookmark holds the walk's mark and the threads' reply counts). A
thread or a reply that cannot be read is handed over as unreadable and the walk goes on past it.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, time, timedelta
from typing import Any, Callable, Iterator, Mapping, Optional
from zoneinfo import ZoneInfo

import google.auth.exceptions
import googleapiclient.discovery
import googleapiclient.errors
import httplib2
import requests
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2.credentials import Credentials

from connectors._http import platform_session, protect, scrub
from connectors._limits import REPLY_LIMITS
from connectors._options import Options
from connectors._paging import (entries_page, Entry, StreamWalk, backfill_floor, close_stream, isolated, load_stream, need,
                                now_utc, optional_int, parse_time, read_entries, time_of)
from connectors._reconcile import ThreadComment, our_reply, thread_replies
from connectors.base import (AuthExpired, CollectedItem, Connector, ConnectorError, CredentialInfo,
                             MalformedPayload, Page, PostRejected, RateLimited, ReplyTarget, Secrets)

log = logging.getLogger(__name__)

REAL_BASE = "https://youtube.googleapis.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
QUOTA_DAY = ZoneInfo("America/Los_Angeles")   # the daily quota resets at midnight Pacific time
SHORT_WAIT = timedelta(minutes=1)
LIST_PAGES = 5                                # pages of one thread's replies read at most


class _RequestsHttp:
    """The `http` googleapiclient calls (`request(uri, method, body, headers)` -> (response,
    content)), on a requests session: one attempt per call, never a silent second one."""

    def __init__(self, session: requests.Session, timeout: float):
        self.session, self.timeout = session, timeout

    def request(self, uri: str, method: str = "GET", body: Any = None, headers: Optional[dict] = None,
                redirections: int = 5, connection_type: Any = None) -> tuple[httplib2.Response, bytes]:
        response = self.session.request(method, uri, data=body, headers=headers, timeout=self.timeout)
        info = {k.lower(): v for k, v in response.headers.items() if k.lower() != "content-encoding"}
        info["status"] = str(response.status_code)
        return httplib2.Response(info), response.content

    def close(self) -> None:
        self.session.close()


class YouTubeConnector(Connector):
    platform = "youtube"
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, channel_id: str, base_url: str, token_uri: str, page_size: int,
                 max_pages: int, backfill_days: int, timeout: float, client_id: str, client_secret: str,
                 refresh_token: str):
        super().__init__(name)
        self.channel_id = channel_id
        self.page_size = page_size
        self.max_pages = max_pages
        self.backfill_days = backfill_days
        credentials = Credentials(token=None, refresh_token=refresh_token, token_uri=token_uri,
                                  client_id=client_id, client_secret=client_secret, scopes=[SCOPE])
        self._token_session, _ = platform_session(token_uri, token_uri, timeout)
        self.session = AuthorizedSession(credentials, max_refresh_attempts=1, refresh_timeout=timeout,
                                         auth_request=Request(self._token_session))
        platform_session(base_url, base_url, timeout, self.session)
        self.api = googleapiclient.discovery.build(
            "youtube", "v3", http=_RequestsHttp(self.session, timeout), static_discovery=True,
            cache_discovery=False, client_options={"api_endpoint": base_url})

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "YouTubeConnector":
        opts = Options(name, options)
        values = dict(
            channel_id=opts.text("channel_id", pattern=r"UC[A-Za-z0-9_-]{22}",
                                 hint="the channel id, 'UC' and 22 more characters"),
            base_url=opts.url("base_url", REAL_BASE),
            token_uri=opts.url("token_uri", TOKEN_URI),
            page_size=opts.integer("page_size", 100, 1, 100),
            max_pages=opts.integer("max_pages", 20, 1, 500),
            backfill_days=opts.integer("backfill_days", 30, 1, 3650),
            timeout=opts.number("timeout_seconds", 20, 1, 300),
        )
        opts.finish()
        credentials = {key: secrets.require(name, key) for key in ("client_id", "client_secret", "refresh_token")}
        protect(*credentials.values())
        return cls(name, **values, **credentials)

    # --- collect ---------------------------------------------------------------------------

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        yield from isolated("comments", self._collect_comments(bookmarks), self.name)

    def _collect_comments(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        value = load_stream(bookmarks, "comments", self.name)
        walk = StreamWalk(value, floor_time=backfill_floor(self.backfill_days),
                          max_pages=self.max_pages, where=f"source {self.name}: youtube comments")
        # Reply counts of the threads read last time: a thread with more replies than come inline
        # is listed whole (1 quota unit a page) only when its count changed.
        stored = value.get("reply_counts") if isinstance(value, dict) else None
        known = {k: v for k, v in stored.items() if isinstance(v, int)} if isinstance(stored, dict) else {}
        seen: dict[str, int] = {}
        fetch = lambda cursor: self._threads_page(cursor, known, seen)  # noqa: E731
        for listing in walk.listings(["threads"]):  # one listing; its cursor is YouTube's pageToken
            for entries in walk.walk(listing, fetch):
                page = entries_page(entries, "comments")
                if page is not None:
                    yield page
        yield close_stream("comments", {**(walk.value() or {}), "reply_counts": seen})

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        """`payload`: a thread as listed (its top comment), or a reply with its thread and video."""
        if isinstance(payload, dict) and "reply" in payload:
            entry = self._entry(payload["reply"], need(payload, "thread_id", str, "quarantined youtube reply"),
                                str(payload.get("video_id") or ""))
        else:
            entry = self._top_entry(payload)
        return [entry.item] if entry.item is not None else []

    def _threads_page(self, cursor: Optional[str], known: Mapping[str, int],
                      seen: dict[str, int]) -> tuple[list[Entry], Optional[str]]:
        args: dict[str, Any] = dict(part="snippet,replies", allThreadsRelatedToChannelId=self.channel_id,
                                    order="time", maxResults=self.page_size, textFormat="plainText")
        if cursor:
            args["pageToken"] = cursor
        payload = self._call(lambda: self.api.commentThreads().list(**args).execute(), "reading comment threads")
        return self._read_threads(payload, known, seen)

    def _read_threads(self, payload: Any, known: Mapping[str, int],
                      seen: dict[str, int]) -> tuple[list[Entry], Optional[str]]:
        """A page of comment threads: their top comments and replies (longer threads listed here)."""
        threads = need(payload, "items", list, "youtube comment threads")
        next_token = payload.get("nextPageToken") or None
        if next_token is not None and not isinstance(next_token, str):
            raise MalformedPayload("youtube comment threads: 'nextPageToken' is not a string")
        entries = read_entries(threads, self._top_entry, when=lambda raw: time_of(_top_snippet(raw), "publishedAt"))
        for raw in threads:
            thread_id = raw.get("id") if isinstance(raw, dict) else None
            snippet = raw.get("snippet") if isinstance(raw, dict) else None
            if not isinstance(thread_id, str) or not thread_id or not isinstance(snippet, dict):
                continue  # unreadable itself (quarantined with its inline replies)
            video_id = str(snippet.get("videoId") or "")
            total = optional_int(snippet, "totalReplyCount")
            inline = raw["replies"].get("comments") if isinstance(raw.get("replies"), dict) else None
            replies = inline if isinstance(inline, list) else []
            if total > len(replies) and known.get(thread_id) != total:
                replies = [r for page, _ in self._replies(thread_id, "reading replies", self.max_pages) for r in page]
            seen[thread_id] = total
            entries.extend(read_entries(
                replies, lambda reply, t=thread_id, v=video_id: self._entry(reply, t, v),
                payload=lambda reply, t=thread_id, v=video_id: {"reply": reply, "thread_id": t, "video_id": v},
                when=lambda reply: time_of(reply.get("snippet"), "publishedAt")))
        return entries, next_token

    def _top_entry(self, raw: Any) -> Entry:
        where = "youtube comment thread"
        thread_id = need(raw, "id", str, where)
        snippet = need(raw, "snippet", dict, f"{where} {thread_id}")
        top = need(snippet, "topLevelComment", dict, f"{where} {thread_id}")
        return self._entry(top, thread_id, str(snippet.get("videoId") or ""), optional_int(snippet, "totalReplyCount"))

    def _entry(self, raw: Any, thread_id: str, video_id: str, replies: int = 0) -> Entry:
        where = f"youtube comment in thread {thread_id}"
        comment_id = need(raw, "id", str, where)
        snippet = need(raw, "snippet", dict, f"{where} ({comment_id})")
        published = parse_time(need(snippet, "publishedAt", str, f"{where} ({comment_id})"), where)
        author = snippet.get("authorChannelId") if isinstance(snippet.get("authorChannelId"), dict) else {}
        if author.get("value") == self.channel_id:
            return Entry(published, comment_id, None)  # the channel's own comment or reply
        is_reply = comment_id != thread_id
        video_id = video_id or str(snippet.get("videoId") or "")
        item = CollectedItem(
            external_id=comment_id, kind="reply" if is_reply else "comment",
            text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""), created_at=published,
            author_handle=str(snippet.get("authorDisplayName") or "").removeprefix("@"),
            url=f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else None,
            thread_id=thread_id, parent_id=thread_id if is_reply else (video_id or None),
            likes=optional_int(snippet, "likeCount"), replies=replies,
            # Replies are flat under the thread's top comment: that is what an answer goes under.
            extra={"reply_object": thread_id, "video_id": video_id, "published_at": published.isoformat()})
        return Entry(published, comment_id, item)

    def _replies(self, thread_id: str, action: str, pages: int = LIST_PAGES) -> Iterator[tuple[list[Any], bool]]:
        """A thread's replies, page by page, each with whether more follow."""
        cursor: Optional[str] = None
        for _ in range(pages):
            args: dict[str, Any] = dict(part="snippet", parentId=thread_id, maxResults=100, textFormat="plainText")
            if cursor:
                args["pageToken"] = cursor
            payload = self._call(lambda: self.api.comments().list(**args).execute(), action)
            items = need(payload, "items", list, f"youtube replies of {thread_id}")
            cursor = payload.get("nextPageToken") or None
            yield items, bool(cursor)
            if not cursor:
                return

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the reply has {len(text)} characters; YouTube allows {self.max_reply_length}")
        body = {"snippet": {"parentId": self._thread_of(target), "textOriginal": text}}
        result = self._call(lambda: self.api.comments().insert(part="snippet", body=body).execute(), "replying",
                            posting=True)
        if not isinstance(result, dict) or not isinstance(result.get("id"), str):
            raise ConnectorError("YouTube answered the reply without its id; it may have been posted")
        return result["id"]

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The channel's replies in the target's thread. YouTube nests one level and does not
        record which comment of the thread a reply answers: as on Facebook, only the position in
        time tells (`connectors._reconcile.thread_replies`)."""
        thread = self._thread_of(target)
        comments: list[ThreadComment] = []
        more = False
        for page, more in self._replies(thread, "looking for an earlier reply"):
            for raw in page:
                snippet = raw.get("snippet") if isinstance(raw, dict) and isinstance(raw.get("snippet"), dict) else None
                if snippet is None or not raw.get("id"):
                    continue
                author = snippet.get("authorChannelId") if isinstance(snippet.get("authorChannelId"), dict) else {}
                comments.append(ThreadComment(
                    str(raw["id"]), str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
                    time_of(snippet, "publishedAt"), author.get("value") == self.channel_id, thread))
        return our_reply(thread_replies(comments, target, thread), text, target.approved_at,
                         complete=not more,
                         where=f"youtube ({self.name}): the reply to {target.external_id}")

    def check_credentials(self) -> CredentialInfo:
        """channels.list mine=true (1 quota unit; renews the access token on the way): the token
        is the configured channel's. Google does not say when a refresh token ends."""
        payload = self._call(lambda: self.api.channels().list(part="id", mine=True).execute(),
                             "checking the credentials")
        channels = payload.get("items") if isinstance(payload, dict) else None
        ids = [c.get("id") for c in channels or [] if isinstance(c, dict)]
        if self.channel_id not in ids:
            raise AuthExpired(f"YouTube: the token is not the channel {self.channel_id}'s; authorise the app "
                              "again as the channel's owner")
        return CredentialInfo(f"channel {self.channel_id}")

    @staticmethod
    def _thread_of(target: ReplyTarget) -> str:
        value = (target.extra or {}).get("reply_object") or target.external_id
        if not isinstance(value, str) or not value or "." in value:
            raise PostRejected("the stored comment has no usable thread id; nothing was posted")
        return value

    def close(self) -> None:
        self.api.close()  # closes the session too
        self._token_session.close()

    # --- errors ----------------------------------------------------------------------------

    def _call(self, function: Callable[[], Any], action: str, posting: bool = False) -> Any:
        maybe = "; it may have been posted" if posting else ""
        try:
            return function()
        except googleapiclient.errors.HttpError as exc:
            raise self._map_http_error(exc, action, posting) from None
        except google.auth.exceptions.RefreshError:
            raise AuthExpired(f"Google refused to renew the YouTube access token while {action}: the refresh "
                              "token expired or was revoked; authorise the app again") from None
        except google.auth.exceptions.TransportError as exc:
            raise ConnectorError(f"network error renewing the YouTube token ({type(exc).__name__})") from None
        except (requests.JSONDecodeError, ValueError) as exc:
            if posting:
                raise ConnectorError(f"YouTube answered the reply with something unreadable{maybe}") from None
            raise MalformedPayload(f"YouTube answered something that is not JSON while {action} "
                                   f"({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise ConnectorError(f"network error while {action} on YouTube ({type(exc).__name__}){maybe}") from None

    def _map_http_error(self, exc: googleapiclient.errors.HttpError, action: str, posting: bool) -> ConnectorError:
        status = int(getattr(exc.resp, "status", 0) or 0)
        reason, message = _reason(exc.content)
        detail = scrub(f"{status} {reason}: {message}")[:300]
        if reason == "quotaExceeded":
            until = _next_quota_day()
            return RateLimited(f"the YouTube API quota of this project is spent ({detail}); it renews at "
                               f"{until:%H:%M} UTC", until)
        if reason in ("rateLimitExceeded", "userRateLimitExceeded") or status == 429:
            until = now_utc() + SHORT_WAIT
            return RateLimited(f"YouTube rate limit while {action} ({detail})", until)
        if status == 401:
            return AuthExpired(f"YouTube refused the credentials while {action} ({detail}); the token expired or "
                               "was revoked: authorise the app again")
        if status == 403 and (reason in ("insufficientPermissions", "authError") or reason == "forbidden" and not posting):
            return AuthExpired(f"YouTube denied access while {action} ({detail}); the account needs the "
                               "youtube.force-ssl scope and the channel")
        if posting and status in (400, 403, 404):
            return PostRejected(f"YouTube refused the reply ({detail})")
        maybe = "; it may have been posted" if posting else ""
        return ConnectorError(f"YouTube answered {detail} while {action}{maybe}")


def _reason(content: Any) -> tuple[str, str]:
    try:
        error = json.loads(content).get("error", {})
        errors = error.get("errors") or [{}]
        return str(errors[0].get("reason") or ""), str(error.get("message") or "")[:200]
    except (ValueError, TypeError, AttributeError, IndexError):
        return "", ""


def _next_quota_day() -> datetime:
    local = now_utc().astimezone(QUOTA_DAY)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), QUOTA_DAY)
    return midnight.astimezone(now_utc().tzinfo)


def _top_snippet(raw: Any) -> Any:
    """The top comment's snippet of a thread as listed (None when the shape is not there)."""
    snippet = raw.get("snippet") if isinstance(raw, dict) else None
    top = snippet.get("topLevelComment") if isinstance(snippet, dict) else None
    return top.get("snippet") if isinstance(top, dict) else None
