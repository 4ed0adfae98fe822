"""Google Business Profile reviews (API v4; no maintained client: requests + google-auth):
reviews of one location with their star rating, and the owner's reply.

Reviews are listed by update time, newest first, so an edited review is collected again (the
store updates it). Google's reply is an upsert (PUT): sending the same reply twice leaves one
reply, and `find_reply` sees any owner reply, also one written in Google's own interface.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any, Iterator, Mapping, Optional

import google.auth.exceptions
import requests
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2.credentials import Credentials

from connectors._http import platform_session, protect, scrub
from connectors._limits import REPLY_LIMITS
from connectors._options import Options
from connectors._paging import (Entry, StreamWalk, backfill_floor, isolated, load_stream, need, now_utc,
                                parse_time, read_entries, time_of, walk_listing)
from connectors._reconcile import BrandReply, our_reply
from connectors.base import (CredentialInfo, AuthExpired, CollectedItem, Connector, ConnectorError,
                             MalformedPayload, Page, PostRejected, RateLimited, ReplyTarget,
                             Secrets)

log = logging.getLogger(__name__)

REAL_BASE = "https://mybusiness.googleapis.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/business.manage"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
REVIEW_NAME = re.compile(r"accounts/[^/\s]+/locations/[^/\s]+/reviews/[^/\s]+")
DEFAULT_WAIT = timedelta(minutes=1)


class GoogleReviewsConnector(Connector):
    platform = "google_reviews"
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, account_id: str, location_id: str, base_url: str, token_uri: str,
                 page_size: int, max_pages: int, backfill_days: int, timeout: float,
                 client_id: str, client_secret: str, refresh_token: str):
        super().__init__(name)
        self.parent = f"accounts/{account_id}/locations/{location_id}"
        self.base_url = base_url
        self.page_size = page_size
        self.max_pages = max_pages
        self.backfill_days = backfill_days
        self.timeout = timeout
        self.token_uri = token_uri
        credentials = Credentials(token=None, refresh_token=refresh_token, token_uri=token_uri,
                                  client_id=client_id, client_secret=client_secret, scopes=[SCOPE])
        token_session, _ = platform_session(token_uri, token_uri, timeout)
        self.session = AuthorizedSession(credentials, max_refresh_attempts=1, refresh_timeout=timeout,
                                         auth_request=Request(token_session))
        self._token_session = token_session
        platform_session(base_url, base_url, timeout, self.session)

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "GoogleReviewsConnector":
        opts = Options(name, options)
        values = dict(
            account_id=opts.text("account_id", pattern=r"(accounts/)?\d{1,30}").removeprefix("accounts/"),
            location_id=opts.text("location_id", pattern=r"(locations/)?\d{1,30}").removeprefix("locations/"),
            base_url=opts.url("base_url", REAL_BASE),
            token_uri=opts.url("token_uri", TOKEN_URI),
            page_size=opts.integer("page_size", 50, 1, 50),
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
        yield from isolated("reviews", self._collect_reviews(bookmarks), self.name)

    def _collect_reviews(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        walk = StreamWalk(load_stream(bookmarks, "reviews", self.name), floor_time=backfill_floor(self.backfill_days),
                          max_pages=self.max_pages, where=f"source {self.name}: google reviews")
        yield from walk_listing(walk, "reviews", self._reviews_page)  # its cursor is Google's pageToken

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        item = self._entry(payload).item
        return [item] if item is not None else []

    def _reviews_page(self, cursor: Optional[str]) -> tuple[list[Entry], Optional[str]]:
        params: dict[str, Any] = {"pageSize": self.page_size, "orderBy": "updateTime desc"}
        if cursor:
            params["pageToken"] = cursor
        payload = self._request("GET", f"/v4/{self.parent}/reviews", action="reading reviews", params=params)
        return self._read_reviews(payload)

    def _read_reviews(self, payload: Any) -> tuple[list[Entry], Optional[str]]:
        if not isinstance(payload, dict):
            raise MalformedPayload("google reviews: the answer is not a JSON object")
        reviews = payload.get("reviews", [])
        if not isinstance(reviews, list):
            raise MalformedPayload("google reviews: 'reviews' is not a list")
        next_token = payload.get("nextPageToken") or None
        if next_token is not None and not isinstance(next_token, str):
            raise MalformedPayload("google reviews: 'nextPageToken' is not a string")
        entries = read_entries(reviews, self._entry,
                               when=lambda raw: time_of(raw, "updateTime") or time_of(raw, "createTime"))
        return entries, next_token

    def _entry(self, raw: Any) -> Entry:
        where = "google review"
        name = need(raw, "name", str, where)
        review_id = str(raw.get("reviewId") or name.rsplit("/", 1)[-1])
        created = parse_time(need(raw, "createTime", str, f"{where} {review_id}"), where)
        updated = parse_time(raw.get("updateTime") or raw["createTime"], where)
        stars = need(raw, "starRating", str, f"{where} {review_id}")
        reviewer = raw.get("reviewer") if isinstance(raw.get("reviewer"), dict) else {}
        owner_reply = raw.get("reviewReply") if isinstance(raw.get("reviewReply"), dict) else None
        item = CollectedItem(
            external_id=review_id, kind="review", text=str(raw.get("comment") or ""), created_at=created,
            author_handle="anonymous" if reviewer.get("isAnonymous") else str(reviewer.get("displayName") or ""),
            rating=STARS.get(stars), thread_id=review_id,
            extra={"review_name": name, "has_owner_reply": owner_reply is not None})
        if stars not in STARS:
            log.info("source %s: review %s has no star rating (%s)", self.name, review_id, stars[:30])
        return Entry(updated, review_id, item)

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the reply has {len(text)} characters; Google allows {self.max_reply_length}")
        name = self._review_name(target)
        payload = self._request("PUT", f"/v4/{name}/reply", action="replying", json={"comment": text})
        if not isinstance(payload, dict) or "comment" not in payload:
            raise ConnectorError("Google answered the reply unexpectedly; it may have been posted")
        return f"{name}/reply"

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The review's owner reply (a review has at most one) if it carries this text; an owner
        reply with other text written since the approval (in Google's own interface) is for a
        person to judge, since sending ours would replace it."""
        name = self._review_name(target)
        payload = self._request("GET", f"/v4/{name}", action="looking for an earlier reply")
        if not isinstance(payload, dict):
            raise MalformedPayload("google review: the answer is not a JSON object")
        owner_reply = payload.get("reviewReply")
        found = []
        if isinstance(owner_reply, dict) and owner_reply.get("comment"):
            try:
                updated: Optional[datetime] = parse_time(owner_reply.get("updateTime"), "google review reply")
            except MalformedPayload:
                updated = None
            found.append(BrandReply(f"{name}/reply", str(owner_reply["comment"]), updated, exact=True))
        return our_reply(found, text, target.approved_at, complete=True,
                         where=f"google ({self.name}): the reply to {target.external_id}")

    def _review_name(self, target: ReplyTarget) -> str:
        name = (target.extra or {}).get("review_name") or f"{self.parent}/reviews/{target.external_id}"
        if not isinstance(name, str) or not REVIEW_NAME.fullmatch(name):
            raise PostRejected("the stored review has no usable review name; nothing was posted")
        return name

    def check_credentials(self) -> CredentialInfo:
        """One review (renews the access token on the way), then Google's token info for the scope.
        A refresh token's end is not told by Google; the access token's is, and it renews itself."""
        self._request("GET", f"/v4/{self.parent}/reviews", action="checking the credentials", params={"pageSize": 1})
        info_url = self.token_uri.rsplit("/", 1)[0] + "/tokeninfo"
        try:
            response = self._token_session.get(info_url, params={"access_token": self.session.credentials.token},
                                               timeout=self.timeout)
            info = response.json() if response.status_code == 200 else {}
        except (requests.RequestException, ValueError):
            info = {}
        scopes = str(info.get("scope") or "").split()
        if info and SCOPE not in scopes:
            raise AuthExpired(f"Google: the token lacks the scope {SCOPE}; authorise the app again with it")
        return CredentialInfo("refresh token works" + (f"; scope {SCOPE.rsplit('/', 1)[-1]} granted" if info else ""))

    def close(self) -> None:
        self.session.close()
        self._token_session.close()

    # --- HTTP and errors -------------------------------------------------------------------

    def _request(self, method: str, path: str, *, action: str, **kwargs: Any) -> Any:
        posting = method != "GET"
        maybe = "; it may have been posted" if posting else ""
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except google.auth.exceptions.RefreshError:
            raise AuthExpired(f"Google refused to renew the access token while {action}: the refresh token "
                              "expired or was revoked; authorise the app again") from None
        except google.auth.exceptions.TransportError as exc:
            raise ConnectorError(f"network error renewing the Google token ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise ConnectorError(f"network error while {action} on Google ({type(exc).__name__}){maybe}") from None
        status = response.status_code
        if status == 429:
            until = now_utc() + _retry_after(response)
            raise RateLimited(f"Google quota exceeded while {action}; try again after {until:%H:%M} UTC", until)
        if status == 401:
            raise AuthExpired(f"Google refused the credentials while {action} (401); authorise the app again")
        if status == 403:
            raise AuthExpired(f"Google denied access while {action} (403: {_error_text(response)}); "
                              "the account needs the business.manage scope and access to the location")
        if posting and status in (400, 404, 409, 412):
            raise PostRejected(f"Google refused the reply ({status}: {_error_text(response)})")
        if not 200 <= status < 300:
            raise ConnectorError(f"Google answered {status} while {action} ({_error_text(response)}){maybe}")
        try:
            return response.json()
        except ValueError:
            if posting:
                raise ConnectorError(f"Google answered the reply with something unreadable{maybe}") from None
            raise MalformedPayload(f"Google answered something that is not JSON while {action}") from None


def _retry_after(response: requests.Response) -> timedelta:
    try:
        return timedelta(seconds=max(1, int(response.headers.get("retry-after", ""))))
    except ValueError:
        return DEFAULT_WAIT


def _error_text(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
        return scrub(f"{error.get('status', '')} {error.get('message', '')}".strip())[:200]
    except (ValueError, AttributeError):
        return response.reason or ""
