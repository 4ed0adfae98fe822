"""Allegro sales ratings (REST API; no maintained Python client: requests): the ratings buyers
leave the seller, with the seller's public answer.

Ratings are listed by their last change (creation or the buyer's edit), newest first, with offset
paging; an edited rating is collected again (the store updates it). A rating's answer is written
once (`PUT /sale/user-ratings/{id}/answer`); `find_reply` reads the rating back and accepts its
answer only with the approved text.

One stream, `ratings`. A rating that cannot be read (no time, no recommendation) is handed over
as unreadable and the walk goes on past it.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from connectors._limits import REPLY_LIMITS
from connectors._oauth import OAuthClient
from connectors._options import Options
from connectors._paging import (Entry, StreamWalk, backfill_floor, isolated, load_stream, need, parse_time,
                                read_entries, time_of, walk_listing)
from connectors._reconcile import BrandReply, our_reply
from connectors._http import protect
from connectors.base import (CollectedItem, Connector, ConnectorError, CredentialInfo, MalformedPayload, Page,
                             PostRejected, ReplyTarget, Secrets)

REAL_BASE = "https://api.allegro.pl"
TOKEN_URI = "https://allegro.pl/auth/oauth/token"
MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
RATING_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


class AllegroConnector(Connector):
    platform = "allegro"
    # The API reference states no limit for an answer; a longer one is refused here, not half-posted.
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, base_url: str, token_uri: str, redirect_uri: Optional[str], page_size: int,
                 max_pages: int, backfill_days: int, timeout: float, client_id: str, client_secret: str,
                 refresh_token: str, token_file: Optional[Path] = None):
        super().__init__(name)
        self.page_size = page_size
        self.max_pages = max_pages
        self.backfill_days = backfill_days
        self.api = OAuthClient("Allegro", base_url=base_url, token_uri=token_uri, client_id=client_id,
                               client_secret=client_secret, refresh_token=refresh_token, timeout=timeout,
                               headers={"Accept": MEDIA_TYPE, "Accept-Language": "pl-PL"},
                               token_params={"redirect_uri": redirect_uri} if redirect_uri else None,
                               token_file=token_file)

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "AllegroConnector":
        opts = Options(name, options)
        redirect_uri = opts.text("redirect_uri", None)
        if redirect_uri is not None and not re.fullmatch(r"https?://\S+", redirect_uri):
            raise opts.error("redirect_uri", "must be the app's redirect URL (authorization-code flow) or left out")
        values = dict(
            base_url=opts.url("base_url", REAL_BASE),
            token_uri=opts.url("token_uri", TOKEN_URI),
            redirect_uri=redirect_uri,
            page_size=opts.integer("page_size", 100, 1, 100),
            max_pages=opts.integer("max_pages", 20, 1, 500),
            backfill_days=opts.integer("backfill_days", 30, 1, 3650),
            timeout=opts.number("timeout_seconds", 20, 1, 300),
            token_file=opts.writable_file("token_file"),
        )
        opts.finish()
        credentials = {key: secrets.require(name, key) for key in ("client_id", "client_secret", "refresh_token")}
        protect(*credentials.values())
        return cls(name, **values, **credentials)

    # --- collect ---------------------------------------------------------------------------

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        yield from isolated("ratings", self._collect_ratings(bookmarks), self.name)

    def _collect_ratings(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        walk = StreamWalk(load_stream(bookmarks, "ratings", self.name), floor_time=backfill_floor(self.backfill_days),
                          max_pages=self.max_pages, where=f"source {self.name}: allegro ratings")
        yield from walk_listing(walk, "ratings", self._ratings_page)  # its cursor is the offset

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        item = self._entry(payload).item
        return [item] if item is not None else []

    def _ratings_page(self, cursor: Optional[str]) -> tuple[list[Entry], Optional[str]]:
        if cursor is not None and not cursor.isdigit():
            raise ConnectorError(f"allegro ratings: unreadable resume offset {cursor[:20]!r}")
        offset = int(cursor or 0)
        payload = self.api.request("GET", "/sale/user-ratings", action="reading ratings",
                                   params={"offset": offset, "limit": self.page_size})
        return self._read_ratings(payload, offset)

    def _read_ratings(self, payload: Any, offset: int) -> tuple[list[Entry], Optional[str]]:
        ratings = need(payload, "ratings", list, "allegro ratings")
        # No total is given: a page with fewer ratings than asked for is the last one.
        next_cursor = str(offset + len(ratings)) if len(ratings) >= self.page_size else None
        entries = read_entries(ratings, self._entry,
                               when=lambda raw: time_of(raw, "lastChangedAt") or time_of(raw, "createdAt"))
        return entries, next_cursor

    def _entry(self, raw: Any) -> Entry:
        where = "allegro rating"
        rating_id = need(raw, "id", str, where)
        created = parse_time(need(raw, "createdAt", str, f"{where} {rating_id}"), where)
        changed = parse_time(raw.get("lastChangedAt") or raw["createdAt"], where)
        buyer = raw.get("buyer") if isinstance(raw.get("buyer"), dict) else {}
        rates = raw.get("rates") if isinstance(raw.get("rates"), dict) else {}
        stars = [v for v in rates.values() if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5]
        recommended = raw.get("recommended")
        if not isinstance(recommended, bool):
            raise MalformedPayload(f"{where} {rating_id}: field 'recommended' is missing")
        item = CollectedItem(
            external_id=rating_id, kind="review", text=str(raw.get("comment") or ""), created_at=created,
            author_handle=str(buyer.get("login") or ""),
            # The worst of the buyer's marks, which is what needs an answer; a rating without marks
            # counts as 5 when recommended, 1 when not.
            rating=min(stars) if stars else (5 if recommended else 1),
            thread_id=rating_id,
            extra={"recommended": recommended, "rates": {k: v for k, v in rates.items() if isinstance(v, int)},
                   "has_answer": isinstance(raw.get("answer"), dict)})
        return Entry(changed, rating_id, item)

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the answer has {len(text)} characters; this connector allows {self.max_reply_length}")
        rating_id = self._rating_id(target)
        answer = self.api.request("PUT", f"/sale/user-ratings/{rating_id}/answer", action="answering", posting=True,
                                  json={"message": text}, headers={"Content-Type": MEDIA_TYPE})
        if not isinstance(answer, dict) or "message" not in answer:
            raise ConnectorError("Allegro answered the reply unexpectedly; it may have been posted")
        return f"{rating_id}/answer"

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The rating's answer (one at most) if it carries this text; an answer with another text
        (written in Allegro's own pages) is for a person: Allegro takes no second one."""
        rating_id = self._rating_id(target)
        rating = self.api.request("GET", f"/sale/user-ratings/{rating_id}", action="looking for an earlier answer")
        if not isinstance(rating, dict):
            raise MalformedPayload("allegro rating: the answer is not a JSON object")
        answer = rating.get("answer")
        found = []
        if isinstance(answer, dict):
            created: Optional[datetime]
            try:
                created = parse_time(answer.get("createdAt"), "allegro answer")
            except MalformedPayload:
                created = None
            found.append(BrandReply(f"{rating_id}/answer", str(answer.get("message") or ""), created, exact=True))
        return our_reply(found, text, target.approved_at, complete=True,
                         where=f"allegro ({self.name}): the answer to rating {rating_id}")

    def check_credentials(self) -> CredentialInfo:
        """GET /me (renews the access token on the way): whose token it is. Allegro does not say
        when the refresh token ends (3 months after it was issued; each renewal issues a new one)."""
        me = self.api.request("GET", "/me", action="checking the credentials")
        login = str(me.get("login") or "") if isinstance(me, dict) else ""
        return CredentialInfo(f"signed in as seller {login}" if login else "the refresh token works")

    @staticmethod
    def _rating_id(target: ReplyTarget) -> str:
        if not RATING_ID.fullmatch(target.external_id or ""):
            raise PostRejected("the stored rating has no usable id; nothing was posted")
        return target.external_id

    def close(self) -> None:
        self.api.close()
