"""Facebook page: visitor posts on the page and comments (and replies to comments) on the page's
posts; replies go under the comment. Page ratings are gone from the Graph API: Facebook is a
comments source here, not a reviews source.

New comments arrive on old posts, so each run reads the posts of the last `lookback_days` and,
for each post Facebook marks as updated since the last run, its comments newest first
(`filter=stream` includes replies to comments) back to the bookmark. When the posts of the
window take more than `max_pages` pages, the runs sweep through them (`StreamWalk.walk_outer`),
and both bookmarks (visitor posts, comments) stay at their floor until the sweep is through.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Iterator, Mapping, Optional

from connectors._graph import (GraphClient, ObjectMissing, graph_options, graph_token, reply_object,
                              thread_comment)
from connectors._limits import REPLY_LIMITS
from connectors._reconcile import ThreadComment, our_reply, thread_replies
from connectors._options import Options
from connectors._paging import (OVERLAP, entries_page, Entry, Mark, StreamWalk, backfill_floor, close_stream, isolated,
                                load_stream, need, now_utc, optional_int, parse_time, read_entries, time_of)
from connectors.base import (CredentialInfo, CollectedItem, Connector, Page, PostRejected,
                             ReplyTarget, Secrets)

log = logging.getLogger(__name__)

POST_FIELDS = "id,message,created_time,updated_time,from{id,name},permalink_url"
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url,like_count,comment_count"
FIND_REPLY_PAGES = 5


class FacebookConnector(Connector):
    platform = "facebook"
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, page_id: str, access_token: str, base_url: str, version: str,
                 page_size: int, max_pages: int, lookback_days: int, backfill_days: int, timeout: float):
        super().__init__(name)
        self.page_id = page_id
        self.page_size = page_size
        self.max_pages = max_pages
        self.lookback_days = lookback_days
        self.backfill_days = backfill_days
        self.graph = GraphClient("facebook", access_token, base_url=base_url, version=version, timeout=timeout)

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "FacebookConnector":
        opts = Options(name, options)
        page_id = opts.text("page_id", pattern=r"\d{1,30}", hint="the numeric id of the Facebook page")
        values = graph_options(opts)
        opts.finish()
        return cls(name, page_id=page_id, access_token=graph_token(name, secrets), **values)

    # --- collect ---------------------------------------------------------------------------

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        """Two streams over one feed: visitor posts ("posts") and comments ("comments"). The
        comments are found through the feed, so a feed that cannot be read fails both."""
        floor = backfill_floor(self.backfill_days)
        walk = StreamWalk(load_stream(bookmarks, "comments", self.name), floor_time=floor,
                          max_pages=self.max_pages, where=f"source {self.name}: facebook comments")
        posts: list[dict[str, Any]] = []
        feed_error: Optional[Page] = None
        for page in isolated("posts", self._collect_posts(bookmarks, walk, floor, posts), self.name):
            if page.error is not None:
                feed_error = page
            yield page
        if feed_error is not None:
            yield Page([], stream="comments", error=feed_error.error)
            return
        yield from isolated("comments", self._collect_comments(walk, posts), self.name)

    def _collect_posts(self, bookmarks: Mapping[str, Optional[str]], walk: StreamWalk, floor: datetime,
                       posts: list[dict[str, Any]]) -> Iterator[Page]:
        posts_floor, posts_top = self._posts_marks(load_stream(bookmarks, "posts", self.name), walk.sweeping)
        since = now_utc() - timedelta(days=self.lookback_days)
        seen_posts: list[tuple[Any, str]] = []
        feed = lambda cursor: self.graph.page(  # noqa: E731
            self.page_id, "feed", cursor, action="reading the page feed", fields=POST_FIELDS,
            since=int(since.timestamp()), limit=self.page_size)
        for data in walk.walk_outer(feed):
            entries, read = self._feed_entries(data)
            items = []
            for post in read:
                posts.append(post)
                if post["by_page"]:
                    continue
                seen_posts.append((post["created"], post["id"]))
                if post["created"] >= floor and posts_floor.is_new(post["created"], post["id"]):
                    items.append(post["item"])
            unreadable = [e.unreadable for e in entries if e.unreadable is not None]
            for entry in entries:  # an unreadable post that shows its id: its comments are still read
                if entry.unreadable is not None and entry.external_id:
                    posts.append({"id": entry.external_id, "created": None, "updated": None, "by_page": False,
                                  "item": None})
            if items or unreadable:
                yield Page(items, stream="posts", unreadable=unreadable)
        posts_top = posts_top.advanced(seen_posts)
        if walk.outer_left is None:
            yield close_stream("posts", posts_top.dump())
        else:  # visitor posts further down the feed are judged against the floor in the next runs
            yield close_stream("posts", {**(posts_floor.dump() or {}), "resume": {"top": posts_top.dump() or {"recent": {}}}})

    def _feed_entries(self, data: list[Any]) -> tuple[list[Entry], list[dict[str, Any]]]:
        """A feed page: an entry per post (unreadable ones kept as such), and the posts read."""
        read: list[dict[str, Any]] = []

        def read_post(raw: Any) -> Entry:
            post = self._read_post(raw)
            read.append(post)
            return Entry(post["created"], post["id"], post["item"])

        return read_entries(data, read_post, when=lambda raw: time_of(raw, "created_time")), read

    def _collect_comments(self, walk: StreamWalk, posts: list[dict[str, Any]]) -> Iterator[Page]:
        newest = walk.floor.newest
        # No comment since the last run when a post's time is older (Facebook updates it on comments).
        fresh = [post["id"] for post in posts if newest is None or post["updated"] is None
                 or post["updated"] >= newest - OVERLAP]
        listed = {post["id"] for post in posts}
        own_texts = {post["id"]: post["text"] for post in posts if post["by_page"]}
        # While resuming, the posts left unfinished are walked on from their cursors; while sweeping
        # the feed, also the posts on the feed pages read now.
        for post_id in walk.listings(fresh, known=None if walk.sweeping else list(listed)):
            fetch = lambda cursor, post_id=post_id: self._comments_page(post_id, cursor)  # noqa: E731
            try:
                for entries in walk.walk(post_id, fetch):
                    for entry in entries:    # the page's own post, shown to whoever answers the comment
                        if entry.item is not None and own_texts.get(post_id):
                            entry.item.extra["thread_text"] = own_texts[post_id][:2000]
                    page = entries_page(entries, "comments")
                    if page is not None:
                        yield page
            except ObjectMissing:
                if post_id in listed:
                    raise
                log.info("source %s: facebook post %s is gone; nothing left there to resume", self.name, post_id)
        yield close_stream("comments", walk.value())

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        if stream == "posts":
            item = self._read_post(payload)["item"]
        else:
            post_id = need(payload, "post_id", str, "quarantined facebook comment")
            item = self._read_comment(need(payload, "comment", dict, "quarantined facebook comment"), post_id).item
        return [item] if item is not None else []

    @staticmethod
    def _posts_marks(value: Any, sweeping: bool) -> tuple[Mark, Mark]:
        """The visitor posts' floor (what is new) and top (what to finalise to); while the feed is
        swept the floor stays where the sweep began."""
        floor = Mark.load(value)
        resume = value.get("resume") if isinstance(value, dict) else None
        if sweeping and isinstance(resume, dict):
            return floor, floor.advanced(Mark.load(resume.get("top")).recent)
        return floor, floor

    def _read_post(self, raw: Any) -> dict[str, Any]:
        where = "facebook feed post"
        post_id = need(raw, "id", str, where)
        created = parse_time(need(raw, "created_time", str, f"{where} {post_id}"), where)
        updated = parse_time(raw["updated_time"], where) if raw.get("updated_time") else None
        author = raw.get("from") if isinstance(raw.get("from"), dict) else {}
        by_page = str(author.get("id", "")) == self.page_id
        item = None
        if not by_page:
            item = CollectedItem(
                external_id=post_id, kind="mention", text=str(raw.get("message") or ""), created_at=created,
                author_handle=str(author.get("name") or ""), url=_text(raw.get("permalink_url")),
                thread_id=post_id, extra={"reply_object": post_id, "post_id": post_id})
        return {"id": post_id, "created": created, "updated": updated, "by_page": by_page, "item": item,
                "text": str(raw.get("message") or "") if by_page else ""}

    def _comments_page(self, post_id: str, cursor: Optional[str]) -> tuple[list[Entry], Optional[str]]:
        data, next_cursor = self.graph.page(
            post_id, "comments", cursor, action="reading comments", fields=COMMENT_FIELDS,
            filter="stream", order="reverse_chronological", limit=self.page_size)
        return self._comment_entries(data, post_id), next_cursor

    def _comment_entries(self, data: list[Any], post_id: str) -> list[Entry]:
        return read_entries(data, lambda raw: self._read_comment(raw, post_id),
                            payload=lambda raw: {"post_id": post_id, "comment": raw},
                            when=lambda raw: time_of(raw, "created_time"))

    def _read_comment(self, raw: Any, post_id: str) -> Entry:
        where = f"facebook comment on {post_id}"
        comment_id = need(raw, "id", str, where)
        created = parse_time(need(raw, "created_time", str, f"{where} ({comment_id})"), where)
        author = raw.get("from") if isinstance(raw.get("from"), dict) else {}
        if str(author.get("id", "")) == self.page_id:
            return Entry(created, comment_id, None)  # the page's own reply
        parent = raw.get("parent") if isinstance(raw.get("parent"), dict) else None
        parent_id = str(parent["id"]) if parent and parent.get("id") else None
        item = CollectedItem(
            external_id=comment_id, kind="reply" if parent_id else "comment",
            text=str(raw.get("message") or ""), created_at=created,
            author_handle=str(author.get("name") or ""), url=_text(raw.get("permalink_url")),
            thread_id=post_id, parent_id=parent_id or post_id,
            likes=optional_int(raw, "like_count"), replies=optional_int(raw, "comment_count"),
            # Facebook nests one level: a reply to a reply goes under the top comment.
            extra={"reply_object": parent_id or comment_id, "post_id": post_id})
        return Entry(created, comment_id, item)

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the reply has {len(text)} characters; Facebook allows {self.max_reply_length}")
        result = self.graph.post(reply_object(target), "comments", action="replying", message=text)
        return str(result["id"])

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The page's comment with this text directly under the object our reply went under (see
        `connectors._reconcile.thread_replies` for what tells an answer's target there)."""
        under = reply_object(target)
        comments: list[ThreadComment] = []
        cursor: Optional[str] = None
        complete = False
        for _ in range(FIND_REPLY_PAGES):
            data, cursor = self.graph.page(under, "comments", cursor, action="looking for an earlier reply",
                                           fields="id,message,from{id,name},created_time,parent{id}",
                                           filter="toplevel", limit=100)
            for raw in data:
                author = raw.get("from") if isinstance(raw, dict) and isinstance(raw.get("from"), dict) else {}
                comment = thread_comment(raw, text_key="message", time_key="created_time",
                                         by_brand=str(author.get("id", "")) == self.page_id)
                if comment:
                    comments.append(comment)
            if not cursor:
                complete = True
                break
        return our_reply(thread_replies(comments, target, under), text, target.approved_at, complete=complete,
                         where=f"facebook ({self.name}): the reply to {target.external_id}")

    def check_credentials(self) -> CredentialInfo:
        return self.graph.check_token()

    def close(self) -> None:
        self.graph.close()



def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None
