"""Trustpilot service reviews of one business unit and the company reply (Trustpilot's private
business API over plain requests; it needs a Trustpilot plan with API access).

Reviews are listed newest first by page number. Trustpilot keeps one company reply per review and
a new one replaces it, so `reply` first makes sure the review has none (a colleague's reply is
never overwritten), and `find_reply` accepts the company reply only when it carries the approved
text from the configured business user.

One stream, `reviews`. A review that cannot be read is handed over as unreadable and the walk goes
on past it.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

from connectors._http import protect
from connectors._limits import REPLY_LIMITS
from connectors._oauth import OAuthClient
from connectors._options import Options
from connectors._paging import (Entry, StreamWalk, backfill_floor, isolated, load_stream, need, optional_int,
                                parse_time, read_entries, time_of, walk_listing)
from connectors._reconcile import BrandReply, ReplyUnclear, our_reply, same_text
from connectors.base import (CollectedItem, Connector, ConnectorError, CredentialInfo, MalformedPayload, Page,
                             PostRejected, ReplyTarget, Secrets)

REAL_BASE = "https://api.trustpilot.com"
TOKEN_PATH = "/v1/oauth/oauth-business-users-for-applications/refresh"
OBJECT_ID = r"[0-9a-f]{24}"


class TrustpilotConnector(Connector):
    platform = "trustpilot"
    # Trustpilot documents no limit; a reply is shown in full under the review.
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, business_unit_id: str, business_user_id: str, base_url: str, token_uri: str,
                 page_size: int, max_pages: int, backfill_days: int, timeout: float, api_key: str,
                 api_secret: str, refresh_token: str, token_file: Optional[Path] = None):
        super().__init__(name)
        self.business_unit_id = business_unit_id
        self.business_user_id = business_user_id
        self.page_size = page_size
        self.max_pages = max_pages
        self.backfill_days = backfill_days
        self.api = OAuthClient("Trustpilot", base_url=base_url, token_uri=token_uri, client_id=api_key,
                               client_secret=api_secret, refresh_token=refresh_token, timeout=timeout,
                               headers={"apikey": api_key, "Accept": "application/json"}, token_file=token_file)

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "TrustpilotConnector":
        opts = Options(name, options)
        base_url = opts.url("base_url", REAL_BASE)
        values = dict(
            business_unit_id=opts.text("business_unit_id", pattern=OBJECT_ID,
                                       hint="the 24-character id of the business unit (your domain's profile)"),
            business_user_id=opts.text("business_user_id", pattern=OBJECT_ID,
                                       hint="the 24-character id of the business user replies are posted as"),
            base_url=base_url,
            token_uri=opts.url("token_uri", base_url + TOKEN_PATH),
            page_size=opts.integer("page_size", 100, 1, 100),
            max_pages=opts.integer("max_pages", 20, 1, 500),
            backfill_days=opts.integer("backfill_days", 30, 1, 3650),
            timeout=opts.number("timeout_seconds", 20, 1, 300),
            token_file=opts.writable_file("token_file"),
        )
        opts.finish()
        credentials = {key: secrets.require(name, key) for key in ("api_key", "api_secret", "refresh_token")}
        protect(*credentials.values())
        return cls(name, **values, **credentials)

    # --- collect ---------------------------------------------------------------------------

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        yield from isolated("reviews", self._collect_reviews(bookmarks), self.name)

    def _collect_reviews(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        walk = StreamWalk(load_stream(bookmarks, "reviews", self.name), floor_time=backfill_floor(self.backfill_days),
                          max_pages=self.max_pages, where=f"source {self.name}: trustpilot reviews")
        yield from walk_listing(walk, "reviews", self._reviews_page)  # its cursor is the page number

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        item = self._entry(payload).item
        return [item] if item is not None else []

    def _reviews_page(self, cursor: Optional[str]) -> tuple[list[Entry], Optional[str]]:
        if cursor is not None and not cursor.isdigit():
            raise ConnectorError(f"trustpilot reviews: unreadable resume page {cursor[:20]!r}")
        page = int(cursor or 1)
        payload = self.api.request(
            "GET", f"/v1/private/business-units/{self.business_unit_id}/reviews", action="reading reviews",
            params={"page": page, "perPage": self.page_size, "orderBy": "createdat.desc"})
        return self._read_reviews(payload, page)

    def _read_reviews(self, payload: Any, page: int) -> tuple[list[Entry], Optional[str]]:
        reviews = need(payload, "reviews", list, "trustpilot reviews")
        # The consumer's e-mail and order id in the private answer are not kept (personal data).
        links = payload.get("links")
        if isinstance(links, list):
            more = any(isinstance(link, dict) and link.get("rel") == "next-page" for link in links)
        else:  # no links given: a full page may have more behind it (past the end, a page is empty)
            more = len(reviews) >= self.page_size
        entries = read_entries(reviews, self._entry, payload=_without_personal_data,
                               when=lambda raw: time_of(raw, "createdAt"))
        return entries, (str(page + 1) if more and reviews else None)

    def _entry(self, raw: Any) -> Entry:
        where = "trustpilot review"
        review_id = need(raw, "id", str, where)
        created = parse_time(need(raw, "createdAt", str, f"{where} {review_id}"), where)
        consumer = raw.get("consumer") if isinstance(raw.get("consumer"), dict) else {}
        title, body = str(raw.get("title") or "").strip(), str(raw.get("text") or "")
        stars = optional_int(raw, "stars")
        item = CollectedItem(
            external_id=review_id, kind="review", text=f"{title}\n{body}" if title else body, created_at=created,
            author_handle=str(consumer.get("displayName") or ""), rating=stars if 1 <= stars <= 5 else None,
            url=f"https://www.trustpilot.com/reviews/{review_id}", thread_id=review_id,
            extra={"language": str(raw.get("language") or ""),
                   "has_company_reply": isinstance(raw.get("companyReply"), dict)})
        return Entry(created, review_id, item)

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the reply has {len(text)} characters; this connector allows {self.max_reply_length}")
        review_id = self._review_id(target)
        existing = self._company_reply(review_id, "checking for an earlier reply", before_posting=True)
        if existing is not None and not same_text(str(existing.get("text") or ""), text):
            raise PostRejected("the review already has a company reply (written elsewhere); Trustpilot would "
                               "replace it, so nothing was posted: a person must decide")
        self.api.request("POST", f"/v1/private/reviews/{review_id}/reply", action="replying", posting=True,
                         body=False, json={"message": text, "authorBusinessUserId": self.business_user_id})
        return f"{review_id}/reply"

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The review's company reply (one at most) if the configured business user wrote it with
        this text; another user's reply is for a person (ours would replace it)."""
        review_id = self._review_id(target)
        existing = self._company_reply(review_id, "looking for an earlier reply")
        if existing is None:
            return None
        where = f"trustpilot ({self.name}): the reply to review {review_id}"
        if existing.get("authorBusinessUserId") != self.business_user_id:
            raise ReplyUnclear(f"{where}: another business user replied; a person must decide")
        created: Optional[datetime]
        try:
            created = parse_time(existing.get("updatedAt") or existing.get("createdAt"), "trustpilot reply")
        except MalformedPayload:
            created = None
        found = [BrandReply(f"{review_id}/reply", str(existing.get("text") or ""), created, exact=True)]
        return our_reply(found, text, target.approved_at, complete=True, where=where)

    def check_credentials(self) -> CredentialInfo:
        """One review of the business unit (renews the access token on the way). Trustpilot says
        at each renewal how long the new refresh token lasts (30 days)."""
        self.api.request("GET", f"/v1/private/business-units/{self.business_unit_id}/reviews",
                         action="checking the credentials", params={"page": 1, "perPage": 1})
        return CredentialInfo(f"business user {self.business_user_id} may read the reviews",
                              expires_at=self.api.refresh_expires_at)

    def _company_reply(self, review_id: str, action: str, before_posting: bool = False) -> Optional[dict[str, Any]]:
        review = self.api.request("GET", f"/v1/private/reviews/{review_id}", action=action,
                                  before_posting=before_posting)
        if not isinstance(review, dict) or "id" not in review:
            raise MalformedPayload("trustpilot review: the answer is not a review")
        reply = review.get("companyReply")
        return reply if isinstance(reply, dict) else None

    @staticmethod
    def _review_id(target: ReplyTarget) -> str:
        if not target.external_id or not target.external_id.isalnum():
            raise PostRejected("the stored review has no usable id; nothing was posted")
        return target.external_id

    def close(self) -> None:
        self.api.close()


def _without_personal_data(raw: Any) -> Any:
    """What quarantine keeps of an unreadable review: not the consumer's e-mail or order id."""
    if not isinstance(raw, dict):
        return raw
    return {key: value for key, value in raw.items() if key not in ("consumerEmail", "referenceId", "referralEmail")}
