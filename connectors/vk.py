"""VK community wall: comments (and replies in their threads) on the community's recent posts,
answered as the community (vk_api; `wall.getComments`, `wall.createComment` with `from_group`).

VK has no "updated" time on posts, so the bookmark also keeps each recent post's comment count:
only posts whose count changed since the last finished run are read, newest comments first,
back to the last collected one. Replies come with their comment's thread (up to ten; longer
threads are listed on their own). The community's own comments are not collected.

vk_api is used for the call and its error shape only: its own sleeping and retrying on
"too many requests" is switched off (the daemon moves on and comes back), and it reads no
config file from the working directory.

One stream, `comments` (its bookmark holds the walk's mark and the posts' comment counts). A
comment that cannot be read is handed over as unreadable with its post and thread, and the walk
goes on past it; a wall post without a readable id is skipped (logged), one without a time is
watched.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Mapping, Optional

import requests
import vk_api
from jconfig.memory import MemoryConfig
from vk_api.exceptions import TOO_MANY_RPS_CODE, ApiError, ApiHttpError, Captcha, VkApiError

from connectors._http import platform_session, protect, scrub
from connectors._limits import REPLY_LIMITS
from connectors._options import Options
from connectors._paging import (entries_page, Entry, StreamWalk, backfill_floor, close_stream, isolated, load_stream, need,
                                now_utc, optional_int, parse_time, read_entries, time_of)
from connectors._reconcile import BrandReply, our_reply
from connectors.base import (AuthExpired, CollectedItem, Connector, ConnectorError, CredentialInfo,
                             MalformedPayload, Page, PostRejected, RateLimited, ReplyTarget, Secrets)

log = logging.getLogger(__name__)

REAL_BASE = "https://api.vk.ru"
API_VERSION = "5.199"
THREAD_ITEMS = 10
LIST_PAGES = 5
TOKEN_CODES = {5}
PERMISSION_CODES = {7, 15, 27, 28, 30, 200, 203}
NOT_POSTED_CODES = {18, 100, 210, 211, 212, 213, 222, 223, 224}
WAITS = {6: timedelta(seconds=5), 9: timedelta(minutes=15), 29: timedelta(hours=1)}


class VKConnector(Connector):
    platform = "vk"
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, group_id: str, access_token: str, base_url: str, api_version: str,
                 page_size: int, max_pages: int, lookback_days: int, backfill_days: int, timeout: float,
                 requests_per_second: int):
        super().__init__(name)
        self.group_id = group_id
        self.owner_id = -int(group_id)
        self.page_size = page_size
        self.max_pages = max_pages
        self.lookback_days = lookback_days
        self.backfill_days = backfill_days
        self.session, _ = platform_session(REAL_BASE, base_url, timeout)
        self.vk = vk_api.VkApi(token=access_token, api_version=api_version, session=self.session, config=MemoryConfig)
        self.vk.RPS_DELAY = 1 / requests_per_second
        self.vk.error_handlers.pop(TOO_MANY_RPS_CODE, None)  # it would sleep and retry by itself

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "VKConnector":
        opts = Options(name, options)
        values = dict(
            group_id=opts.text("group_id", pattern=r"\d{1,12}", hint="the community's numeric id, without a minus"),
            base_url=opts.url("base_url", REAL_BASE),
            api_version=opts.text("api_version", API_VERSION, pattern=r"5\.\d{1,3}", hint="e.g. '5.199'"),
            page_size=opts.integer("page_size", 100, 1, 100),
            max_pages=opts.integer("max_pages", 20, 1, 500),
            lookback_days=opts.integer("lookback_days", 14, 1, 90),
            backfill_days=opts.integer("backfill_days", 7, 1, 90),
            timeout=opts.number("timeout_seconds", 20, 1, 300),
            # VK allows a user token 3 requests a second, a community token 20.
            requests_per_second=opts.integer("requests_per_second", 3, 1, 20),
        )
        opts.finish()
        token = secrets.require(name, "access_token")
        protect(token)
        return cls(name, access_token=token, **values)

    # --- collect ---------------------------------------------------------------------------

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        yield from isolated("comments", self._collect_comments(bookmarks), self.name)

    def _collect_comments(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        value = load_stream(bookmarks, "comments", self.name)
        walk = StreamWalk(value, floor_time=backfill_floor(self.backfill_days),
                          max_pages=self.max_pages, where=f"source {self.name}: vk comments")
        stored = value.get("counts") if isinstance(value, dict) else None
        known = stored if isinstance(stored, dict) else {}
        posts = self._recent_posts()
        fresh = [post_id for post_id, count in posts.items() if count and known.get(post_id) != count]
        finished: set[str] = set()
        for post_id in walk.listings(fresh, known=list(posts)):
            fetch = lambda cursor, post_id=post_id: self._comments_page(post_id, cursor, walk.floor.is_behind)  # noqa: E731
            for entries in walk.walk(post_id, fetch):
                page = entries_page(entries, "comments")
                if page is not None:
                    yield page
            if post_id not in walk.left:
                finished.add(post_id)
        # A post's count moves on only once its comments are read to the end; a post not read this
        # run (a resumed run reads only the unfinished ones) keeps its old count and is read later.
        counts = {post_id: count if post_id in finished or post_id not in fresh else known.get(post_id)
                  for post_id, count in posts.items()}
        yield close_stream("comments", {**(walk.value() or {}),
                                        "counts": {k: v for k, v in counts.items() if v is not None}})

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        """`payload`: the comment with its post, its thread's top comment and its author's name."""
        where = "quarantined vk comment"
        post_id = need(payload, "post_id", str, where)
        top = payload.get("top")
        author = payload.get("author")
        names = {payload["comment"].get("from_id"): author} \
            if isinstance(author, str) and isinstance(payload.get("comment"), dict) else {}
        entry = self._entry(payload.get("comment"), post_id, top if isinstance(top, str) else None, names)
        return [entry.item] if entry is not None and entry.item is not None else []

    def _recent_posts(self) -> dict[str, int]:
        """Post id -> comment count, for the community's posts of the last `lookback_days`."""
        since = now_utc() - timedelta(days=self.lookback_days)
        posts: dict[str, int] = {}
        offset = 0
        for _ in range(self.max_pages):
            payload = self._call("wall.get", {"owner_id": self.owner_id, "offset": offset, "count": self.page_size,
                                              "filter": "all"}, "reading the community wall")
            items = need(payload, "items", list, "vk wall")
            for raw in items:
                post_id = raw.get("id") if isinstance(raw, dict) else None
                if isinstance(post_id, bool) or not isinstance(post_id, (int, str)) or not str(post_id).isdigit():
                    log.warning("source %s: a vk wall post without a readable id is skipped", self.name)
                    continue
                posted = time_of(raw, "date")  # a post without a time is watched, whatever its age
                if posted is not None and posted < since and not raw.get("is_pinned"):  # VK lists a pinned
                    return posts                 # post first, whatever its age; it stays watched while pinned
                comments = raw.get("comments") if isinstance(raw.get("comments"), dict) else {}
                posts[str(post_id)] = optional_int(comments, "count")
            offset += len(items)
            if not items or offset >= optional_int(payload, "count"):
                return posts
        log.warning("source %s: vk wall: more posts within lookback_days than max_pages x page_size; older ones "
                    "are not watched for comments (raise max_pages or shorten lookback_days)", self.name)
        return posts

    def _comments_page(self, post_id: str, cursor: Optional[str],
                       behind: Callable[[datetime], bool]) -> tuple[list[Entry], Optional[str]]:
        if cursor is not None and not cursor.isdigit():
            raise ConnectorError(f"vk comments: unreadable resume offset {cursor[:20]!r}")
        offset = int(cursor or 0)
        payload = self._call("wall.getComments", {
            "owner_id": self.owner_id, "post_id": post_id, "offset": offset, "count": self.page_size,
            "sort": "desc", "thread_items_count": THREAD_ITEMS, "extended": 1, "need_likes": 1,
            "preview_length": 0}, "reading comments")
        return self._read_comments(payload, post_id, offset, behind)

    def _read_comments(self, payload: Any, post_id: str, offset: int,
                       behind: Callable[[datetime], bool]) -> tuple[list[Entry], Optional[str]]:
        """A page of a post's comments with their threads (longer threads are listed here)."""
        comments = need(payload, "items", list, f"vk comments on {post_id}")
        names = _names(payload)
        entries = self._read(comments, post_id, None, names)
        for raw in comments:
            top = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(top, bool) or not isinstance(top, int):
                continue  # unreadable itself (quarantined with its thread); nothing to ask for
            thread = raw.get("thread") if isinstance(raw.get("thread"), dict) else {}
            replies = thread.get("items") if isinstance(thread.get("items"), list) else []
            if optional_int(thread, "count") > len(replies):
                replies = [r for page in self._thread(post_id, str(top), names, "reading a thread",
                                                      pages=self.max_pages, behind=behind) for r in page]
            entries.extend(self._read(replies, post_id, str(top), names))
        total = optional_int(payload, "current_level_count") or optional_int(payload, "count")
        following = offset + len(comments)
        return entries, (str(following) if comments and following < total else None)

    def _read(self, raws: list[Any], post_id: str, top: Optional[str], names: dict[int, str]) -> list[Entry]:
        """Entries of comments (or of one thread's replies); an unreadable one keeps what
        `read_item` needs: its post, its thread and its author's name."""
        def payload(raw: Any) -> dict[str, Any]:
            author = raw.get("from_id") if isinstance(raw, dict) else None
            return {"post_id": post_id, "top": top, "comment": raw,
                    "author": names.get(author) if isinstance(author, int) else None}
        return read_entries(raws, lambda raw: self._entry(raw, post_id, top, names), payload=payload,
                            when=lambda raw: time_of(raw, "date"))

    def _thread(self, post_id: str, top: str, names: dict[int, str], action: str, *, pages: int = LIST_PAGES,
                behind: Optional[Callable[[datetime], bool]] = None) -> Iterator[list[Any]]:
        """A comment's thread, newest first; with `behind`, only down to the last collected reply."""
        offset = 0
        for _ in range(pages):
            payload = self._call("wall.getComments", {
                "owner_id": self.owner_id, "post_id": post_id, "comment_id": top, "offset": offset, "count": 100,
                "sort": "desc", "extended": 1, "preview_length": 0}, action)
            items = need(payload, "items", list, f"vk thread of {top}")
            names.update(_names(payload))
            yield items
            offset += len(items)
            if not items or offset >= optional_int(payload, "count"):
                return
            oldest = time_of(items[-1], "date")
            if behind is not None and oldest is not None and behind(oldest):
                return

    def _entry(self, raw: Any, post_id: str, top: Optional[str], names: dict[int, str]) -> Optional[Entry]:
        where = f"vk comment on {post_id}"
        comment_id = need(raw, "id", str, where)
        if raw.get("deleted") and not isinstance(raw.get("date"), int):
            return None  # a deleted comment may come without its time: nothing to collect or to walk by
        created = parse_time(need(raw, "date", int, f"{where} ({comment_id})"), where)
        author = raw.get("from_id")
        if raw.get("deleted") or author == self.owner_id:
            return Entry(created, comment_id, None)  # deleted, or the community's own comment
        reply_to = raw.get("reply_to_comment")
        url = f"https://vk.com/wall{self.owner_id}_{post_id}?reply={comment_id}" + (f"&thread={top}" if top else "")
        item = CollectedItem(
            external_id=comment_id, kind="reply" if top else "comment", text=str(raw.get("text") or ""),
            created_at=created, author_handle=names.get(author, str(author or "")) if isinstance(author, int) else "",
            url=url, thread_id=post_id, parent_id=str(reply_to or top) if top else post_id,
            likes=optional_int(raw.get("likes") or {}, "count"),
            replies=optional_int(raw.get("thread") or {}, "count"),
            extra={"post_id": post_id, "thread_top": top or comment_id})
        return Entry(created, comment_id, item)

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the reply has {len(text)} characters; this connector allows {self.max_reply_length}")
        post_id, comment_id, _ = self._where(target)
        guid = hashlib.sha256(f"{self.owner_id}_{post_id}_{comment_id}\n{text}".encode()).hexdigest()[:32]
        result = self._call("wall.createComment", {
            "owner_id": self.owner_id, "post_id": post_id, "from_group": self.group_id, "message": text,
            "reply_to_comment": comment_id, "guid": guid}, "replying", posting=True)
        if not isinstance(result, dict) or not isinstance(result.get("comment_id"), int):
            raise ConnectorError("VK answered the reply without its id; it may have been posted")
        return str(result["comment_id"])

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The community's comments in the target's thread; VK names the comment each answers
        (`reply_to_comment`), so only those answering the target itself count."""
        post_id, comment_id, top = self._where(target)
        found: list[BrandReply] = []
        pages = 0
        complete = False
        for page in self._thread(post_id, top, {}, "looking for an earlier reply"):
            pages += 1
            for raw in page:
                if not isinstance(raw, dict) or raw.get("from_id") != self.owner_id or not raw.get("id") \
                        or raw.get("deleted"):
                    continue
                if str(raw.get("reply_to_comment") or top) != comment_id:  # (an answer to the top may omit it)
                    continue  # VK names the comment it answers: another one's
                found.append(BrandReply(str(raw["id"]), str(raw.get("text") or ""), time_of(raw, "date"), exact=True))
            if len(page) < 100:
                complete = True
        return our_reply(found, text, target.approved_at, complete=complete or pages < LIST_PAGES,
                         where=f"vk ({self.name}): the reply to comment {comment_id}")

    def check_credentials(self) -> CredentialInfo:
        """groups.getById: the token works and the community is the configured one. A token with
        the `offline` scope does not expire; VK does not say otherwise to a community token."""
        result = self._call("groups.getById", {"group_id": self.group_id}, "checking the credentials")
        groups = result.get("groups") if isinstance(result, dict) else result  # 5.199: {"groups": [...]}
        group = groups[0] if isinstance(groups, list) and groups and isinstance(groups[0], dict) else {}
        if str(group.get("id")) != self.group_id:
            raise ConnectorError(f"VK did not return the community {self.group_id} for this token")
        return CredentialInfo(f"community {group.get('name') or self.group_id}")

    @staticmethod
    def _where(target: ReplyTarget) -> tuple[str, str, str]:
        extra = target.extra or {}
        post_id, top = str(extra.get("post_id") or ""), str(extra.get("thread_top") or target.external_id)
        if not (post_id.isdigit() and target.external_id.isdigit() and top.isdigit()):
            raise PostRejected("the stored comment has no usable post or comment id; nothing was posted")
        return post_id, target.external_id, top

    def close(self) -> None:
        self.session.close()

    # --- errors ----------------------------------------------------------------------------

    def _call(self, method: str, values: dict[str, Any], action: str, posting: bool = False) -> Any:
        maybe = "; it may have been posted" if posting else ""
        try:
            return self.vk.method(method, values)
        except Captcha:
            message = f"VK asks for a captcha while {action} (too many actions from this token)"
            if posting:
                raise PostRejected(message + "; nothing was posted") from None
            raise ConnectorError(message) from None
        except ApiError as exc:
            error = exc.error if isinstance(exc.error, dict) else {}
            raise self._map(exc.code, scrub(str(error.get("error_msg") or ""))[:200], action, posting) from None
        except ApiHttpError as exc:
            status = getattr(exc.response, "status_code", 0)
            if status == 429:
                raise RateLimited(f"VK throttled this token while {action} (429)", now_utc() + WAITS[6]) from None
            raise ConnectorError(f"VK answered HTTP {status} while {action}{maybe}") from None
        except requests.JSONDecodeError:
            if posting:
                raise ConnectorError(f"VK answered the reply with something unreadable{maybe}") from None
            raise MalformedPayload(f"VK answered something that is not JSON while {action}") from None
        except requests.RequestException as exc:
            raise ConnectorError(f"network error while {action} on VK ({type(exc).__name__}){maybe}") from None
        except (KeyError, TypeError, ValueError) as exc:
            if posting:
                raise ConnectorError(f"VK answered the reply unexpectedly ({type(exc).__name__}){maybe}") from None
            raise MalformedPayload(f"VK answered without a result while {action} ({type(exc).__name__})") from None
        except VkApiError as exc:
            raise ConnectorError(f"VK error while {action} ({type(exc).__name__}){maybe}") from None

    @staticmethod
    def _map(code: Any, message: str, action: str, posting: bool) -> ConnectorError:
        detail = f"error {code}: {message}"
        if code in TOKEN_CODES:
            return AuthExpired(f"VK refused the access token while {action} ({detail}); it expired or was "
                               "revoked: create a new token and set it again")
        if code in WAITS:
            until = now_utc() + WAITS[code]
            return RateLimited(f"VK rate limit while {action} ({detail}); try again after {until:%H:%M:%S} UTC", until)
        if code in PERMISSION_CODES:
            if posting:
                return PostRejected(f"VK refused the reply ({detail})")
            return AuthExpired(f"VK denied access while {action} ({detail}); the token lacks a permission "
                               "(wall, groups) or the community wall is closed")
        if posting and code in NOT_POSTED_CODES:
            return PostRejected(f"VK refused the reply ({detail})")
        maybe = "; it may have been posted" if posting else ""
        return ConnectorError(f"VK error while {action} ({detail}){maybe}")


def _names(payload: Any) -> dict[int, str]:
    """Author id -> display name, from an extended answer's profiles (users) and groups."""
    names: dict[int, str] = {}
    for profile in _listed(payload, "profiles"):
        if isinstance(profile, dict) and isinstance(profile.get("id"), int):
            full = f"{profile.get('first_name') or ''} {profile.get('last_name') or ''}".strip()
            names[profile["id"]] = full or str(profile.get("screen_name") or profile["id"])
    for group in _listed(payload, "groups"):
        if isinstance(group, dict) and isinstance(group.get("id"), int):
            names[-group["id"]] = str(group.get("name") or group.get("screen_name") or group["id"])
    return names


def _listed(payload: Any, key: str) -> list[Any]:
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, list) else []
