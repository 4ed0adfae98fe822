"""Instagram business account: comments (and their replies) on the account's recent media,
through the same Graph client as Facebook; replies go to the top-level comment's `replies`.

The order of a media's comments is not documented, so every comment page of each recent media
is read (bounded by `max_pages`) and filtered against the bookmark. When the media of the last
`lookback_days` take more than `max_pages` pages, the runs sweep through them
(`StreamWalk.walk_outer`) and the bookmark stays at its floor until the sweep is through.
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
from connectors._paging import (entries_page, Entry, StreamWalk, backfill_floor, close_stream, isolated, load_stream, need,
                                now_utc, optional_int, parse_time, read_entries, time_of)
from connectors.base import (CredentialInfo, CollectedItem, Connector, MalformedPayload, Page, PostRejected,
                             ReplyTarget, Secrets, Unreadable)

log = logging.getLogger(__name__)

MEDIA_FIELDS = "id,caption,timestamp,permalink,comments_count"
_COMMENT = "id,text,timestamp,username,from{id,username},like_count"
COMMENT_FIELDS = f"{_COMMENT},replies{{{_COMMENT}}}"
FIND_REPLY_PAGES = 5


class InstagramConnector(Connector):
    platform = "instagram"
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, account_id: str, access_token: str, base_url: str, version: str,
                 page_size: int, max_pages: int, lookback_days: int, backfill_days: int, timeout: float):
        super().__init__(name)
        self.account_id = account_id
        self.page_size = page_size
        self.max_pages = max_pages
        self.lookback_days = lookback_days
        self.backfill_days = backfill_days
        self.graph = GraphClient("instagram", access_token, base_url=base_url, version=version, timeout=timeout)
        self._username: Optional[str] = None

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "InstagramConnector":
        opts = Options(name, options)
        account_id = opts.text("account_id", pattern=r"\d{1,30}",
                               hint="the numeric Instagram business account id (not the @name)")
        values = graph_options(opts)
        opts.finish()
        return cls(name, account_id=account_id, access_token=graph_token(name, secrets), **values)

    def _own_username(self) -> str:
        if self._username is None:
            result = self.graph.get(self.account_id, action="reading the account", fields="username")
            self._username = str(need(result, "username", str, "instagram account"))
        return self._username

    def _by_brand(self, raw: Mapping[str, Any]) -> bool:
        author = raw.get("from") if isinstance(raw.get("from"), dict) else {}
        if author.get("id"):
            return str(author["id"]) == self.account_id
        return str(raw.get("username") or "").lower() == self._own_username().lower()

    # --- collect ---------------------------------------------------------------------------

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        yield from isolated("comments", self._collect_comments(bookmarks), self.name)

    def _collect_comments(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        floor = backfill_floor(self.backfill_days)
        walk = StreamWalk(load_stream(bookmarks, "comments", self.name), floor_time=floor,
                          max_pages=self.max_pages, where=f"source {self.name}: instagram comments")
        since = now_utc() - timedelta(days=self.lookback_days)

        media: dict[str, tuple[Optional[str], Any]] = {}  # id -> (permalink, comments_count)
        listing = lambda cursor: self.graph.page(  # noqa: E731
            self.account_id, "media", cursor, action="reading media", fields=MEDIA_FIELDS, limit=self.page_size)
        for data in walk.walk_outer(listing):
            older = False
            entries, read = self._media_entries(data)
            for media_id, created, permalink, count in read:
                if created < since:
                    older = True
                    continue
                media[media_id] = (permalink, count)
            unreadable = [e.unreadable for e in entries if e.unreadable is not None]
            for entry in entries:  # an unreadable media that shows its id: its comments are still read
                if entry.unreadable is not None and entry.external_id:
                    media.setdefault(entry.external_id, (None, None))
            if unreadable:  # a person sees it
                yield Page([], stream="comments", unreadable=unreadable)
            if older:
                break  # the look-back window is read to its end

        # While resuming, the media left unfinished are walked on from their cursors; while sweeping
        # the media list, also the media on the pages read now.
        fresh = [media_id for media_id, (_, count) in media.items() if count != 0]
        for media_id in walk.listings(fresh, known=None if walk.sweeping else list(media)):
            permalink = media[media_id][0] if media_id in media else self._permalink(media_id)
            fetch = lambda cursor, m=media_id, p=permalink: self._comments_page(m, p, cursor)  # noqa: E731
            try:
                for entries in walk.walk(media_id, fetch, ordered=False):
                    page = entries_page(entries, "comments")
                    if page is not None:
                        yield page
            except ObjectMissing:
                if media_id in media:
                    raise
                log.info("source %s: instagram media %s is gone; nothing left there to resume", self.name, media_id)
        yield close_stream("comments", walk.value())

    def _permalink(self, media_id: str) -> Optional[str]:
        """The link of a media not listed in this run (its walk resumes from an earlier one)."""
        try:
            result = self.graph.get(media_id, action="reading a media", fields="permalink")
        except (ObjectMissing, MalformedPayload):
            return None  # gone (the walk says so) or unreadable: its comments are stored without a link
        permalink = result.get("permalink")
        return permalink if isinstance(permalink, str) else None

    def _media_entries(self, data: list[Any]) -> tuple[list[Entry], list[tuple[str, datetime, Optional[str], Any]]]:
        """A media page: unreadable media as entries, and (id, time, permalink, comments count) of the rest."""
        read: list[tuple[str, datetime, Optional[str], Any]] = []
        entries = read_entries(data, lambda raw: self._media_entry(raw, read), payload=lambda raw: {"media": raw},
                               when=lambda raw: time_of(raw, "timestamp"))
        return entries, read

    @staticmethod
    def _media_entry(raw: Any, read: list[tuple[str, datetime, Optional[str], Any]]) -> Optional[Entry]:
        media_id = need(raw, "id", str, "instagram media")
        created = parse_time(need(raw, "timestamp", str, f"instagram media {media_id}"), "instagram media")
        permalink = raw.get("permalink") if isinstance(raw.get("permalink"), str) else None
        read.append((media_id, created, permalink, raw.get("comments_count")))
        return None  # media are not items; their comments are

    def _comments_page(self, media_id: str, permalink: Optional[str],
                       cursor: Optional[str]) -> tuple[list[Entry], Optional[str]]:
        data, next_cursor = self.graph.page(media_id, "comments", cursor, action="reading comments",
                                            fields=COMMENT_FIELDS, limit=self.page_size)
        return self._comment_entries(data, media_id, permalink), next_cursor

    def _comment_entries(self, data: list[Any], media_id: str, permalink: Optional[str]) -> list[Entry]:
        """A comments page: an entry per comment and per reply (unreadable ones kept as such)."""
        entries: list[Entry] = []
        for raw in data:
            top = read_entries([raw], lambda r: self._entry(r, media_id, permalink, parent=None),
                               payload=lambda r: _payload(media_id, permalink, None, r),
                               when=lambda r: time_of(r, "timestamp"))
            entries.extend(top)
            if not top or top[0].unreadable is not None:
                continue  # its payload holds its replies: they are read again with it
            replies = raw.get("replies")
            if replies is None:
                continue
            if not isinstance(replies, dict) or not isinstance(replies.get("data"), list):
                entries.append(Entry(None, "", None, Unreadable(
                    f"instagram comment {raw['id']}: 'replies' is not a list", _payload(media_id, permalink, None, raw),
                    str(raw["id"]))))
                continue
            parent = str(raw["id"])
            entries.extend(read_entries(replies["data"], lambda r: self._entry(r, media_id, permalink, parent=parent),
                                        payload=lambda r: _payload(media_id, permalink, parent, r),
                                        when=lambda r: time_of(r, "timestamp")))
        return entries

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        where = "quarantined instagram comment"
        if isinstance(payload, dict) and "media" in payload:
            self._media_entry(payload["media"], [])
            return []  # the media is readable now; its comments are collected by the next polls
        media_id = need(payload, "media_id", str, where)
        permalink = payload.get("permalink") if isinstance(payload.get("permalink"), str) else None
        parent = payload.get("parent") if isinstance(payload.get("parent"), str) else None
        raw = need(payload, "comment", dict, where)
        found = [self._entry(raw, media_id, permalink, parent=parent)]
        replies = raw.get("replies") if parent is None else None
        if replies is not None:
            if not isinstance(replies, dict) or not isinstance(replies.get("data"), list):
                raise MalformedPayload(f"instagram comment {raw.get('id')}: 'replies' is not a list")
            found += [self._entry(r, media_id, permalink, parent=str(raw["id"])) for r in replies["data"]]
        return [entry.item for entry in found if entry.item is not None]

    def _entry(self, raw: Any, media_id: str, permalink: Optional[str], parent: Optional[str]) -> Entry:
        where = f"instagram comment on {media_id}"
        comment_id = need(raw, "id", str, where)
        created = parse_time(need(raw, "timestamp", str, f"{where} ({comment_id})"), where)
        if self._by_brand(raw):
            return Entry(created, comment_id, None)
        author = raw.get("from") if isinstance(raw.get("from"), dict) else {}
        handle = str(raw.get("username") or author.get("username") or "")
        item = CollectedItem(
            external_id=comment_id, kind="reply" if parent else "comment",
            text=str(raw.get("text") or ""), created_at=created, author_handle=handle,
            url=permalink, thread_id=media_id, parent_id=parent or media_id,
            likes=optional_int(raw, "like_count"),
            # Instagram answers only top-level comments: a reply to a reply goes under its parent.
            extra={"reply_object": parent or comment_id, "media_id": media_id})
        return Entry(created, comment_id, item)

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the reply has {len(text)} characters; Instagram allows {self.max_reply_length}")
        result = self.graph.post(reply_object(target), "replies", action="replying", message=text)
        return str(result["id"])

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The account's reply with this text under the top-level comment our reply went under
        (see `connectors._reconcile.thread_replies` for what tells an answer's target there)."""
        under = reply_object(target)
        comments: list[ThreadComment] = []
        cursor: Optional[str] = None
        complete = False
        for _ in range(FIND_REPLY_PAGES):
            data, cursor = self.graph.page(under, "replies", cursor, action="looking for an earlier reply",
                                           fields="id,text,timestamp,username,from{id,username}", limit=100)
            for raw in data:
                comment = thread_comment(raw, text_key="text", time_key="timestamp",
                                         by_brand=isinstance(raw, dict) and self._by_brand(raw))
                if comment:
                    comments.append(comment)
            if not cursor:
                complete = True
                break
        return our_reply(thread_replies(comments, target, under), text, target.approved_at, complete=complete,
                         where=f"instagram ({self.name}): the reply to {target.external_id}")

    def check_credentials(self) -> CredentialInfo:
        return self.graph.check_token()

    def close(self) -> None:
        self.graph.close()



def _payload(media_id: str, permalink: Optional[str], parent: Optional[str], comment: Any) -> dict[str, Any]:
    """What `read_item` needs to read a quarantined comment again."""
    return {"media_id": media_id, "permalink": permalink, "parent": parent, "comment": comment}
