"""Fake Google Business Profile API v4 (reviews of a location, the owner's reply) and the OAuth
token endpoint google-auth renews its access token at."""
from __future__ import annotations

import re
import secrets as random_tokens
from datetime import datetime
from typing import Any, Optional

from monitor.fakes.http import Answer, Request, iso_z, paginate
from monitor.fakes.state import FakeState, Item, utc

TOKEN_PATH = "/token"
SCOPE = "https://www.googleapis.com/auth/business.manage"
STARS = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}
REVIEWS = re.compile(r"/v4/accounts/([^/]+)/locations/([^/]+)/reviews(?:/([^/]+)(/reply)?)?")


TOKENINFO_PATH = "/tokeninfo"


def owns(path: str) -> bool:
    return path in (TOKEN_PATH, TOKENINFO_PATH) or path.startswith("/v4/")


def add_post(state: FakeState, text: str, *, author: str, created: datetime, rating: Optional[int] = None,
             **fields: Any) -> Item:
    review_id = f"AbFvOq{state.next_number():08d}"
    return state.add(Item(id=review_id, platform="google_reviews", kind="review", text=text, author=author,
                          author_id="", created=created, root=review_id, rating=rating or 3, **fields))


def _review(item: Item, state: FakeState) -> dict[str, Any]:
    brand = state.brand
    body: dict[str, Any] = {
        "name": f"accounts/{brand.google_account_id}/locations/{brand.google_location_id}/reviews/{item.id}",
        "reviewId": item.id, "reviewer": {"displayName": item.author, "profilePhotoUrl": ""},
        "starRating": STARS.get(item.rating or 0, "STAR_RATING_UNSPECIFIED"),
        "createTime": iso_z(item.created), "updateTime": iso_z(item.created)}
    if item.text:
        body["comment"] = item.text
    if item.owner_reply:
        body["reviewReply"] = dict(item.owner_reply)
    return body


def _error(status: int, state_name: str, message: str) -> Answer:
    return Answer(status, {"error": {"code": status, "message": message, "status": state_name}})


def handle(state: FakeState, request: Request) -> Answer:
    if request.path == TOKEN_PATH:
        if request.param("grant_type") != "refresh_token" or not request.param("refresh_token"):
            return Answer(400, {"error": "invalid_request", "error_description": "refresh_token required"})
        token = "fake-google-" + random_tokens.token_hex(8)
        state.tokens.add(token)
        return Answer(200, {"access_token": token, "expires_in": 3599, "scope": SCOPE, "token_type": "Bearer"})
    if request.path == TOKENINFO_PATH:
        if request.param("access_token") not in state.tokens:
            return Answer(400, {"error": "invalid_token", "error_description": "Invalid Value"})
        return Answer(200, {"azp": "fake-client", "scope": SCOPE, "expires_in": "3599", "access_type": "offline"})
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or auth.split(" ", 1)[1] not in state.tokens:
        return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    match = REVIEWS.fullmatch(request.path)
    brand = state.brand
    if not match or match.group(1) != brand.google_account_id or match.group(2) != brand.google_location_id:
        return _error(404, "NOT_FOUND", "Requested entity was not found.")
    review_id, reply = match.group(3), match.group(4)
    reviews = state.of("google_reviews")
    if review_id is None and request.method == "GET":
        size = min(state.page_size, request.int_param("pageSize", 50))
        page, cursor, valid = paginate(reviews, request.param("pageToken"), size)
        if not valid:
            return _error(400, "INVALID_ARGUMENT", "Invalid page token.")
        body: dict[str, Any] = {"reviews": [_review(r, state) for r in page], "totalReviewCount": len(reviews),
                                "averageRating": round(sum(r.rating or 0 for r in reviews) / max(1, len(reviews)), 1)}
        if cursor:
            body["nextPageToken"] = cursor
        return Answer(200, body)
    item = state.items.get(review_id or "")
    if item is None or item.platform != "google_reviews":
        return _error(404, "NOT_FOUND", "Requested entity was not found.")
    if request.method == "GET" and not reply:
        return Answer(200, _review(item, state))
    if request.method == "PUT" and reply:
        comment = (request.json or {}).get("comment") if isinstance(request.json, dict) else None
        if not isinstance(comment, str) or not comment.strip():
            return _error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
        item.owner_reply = {"comment": comment, "updateTime": iso_z(utc())}
        state.replies.append({"platform": "google_reviews", "id": f"{_review(item, state)['name']}/reply",
                              "in_reply_to": item.id, "text": comment, "created_at": utc().isoformat()})
        return Answer(200, dict(item.owner_reply))
    return _error(400, "INVALID_ARGUMENT", "Unsupported request.")


def failure(state: FakeState, request: Request, kind: str) -> Optional[Answer]:
    if kind == "auth_expired":
        if request.path == TOKEN_PATH:
            return Answer(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    if kind in ("rate_limit", "api_ratelimit"):
        return _error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Requests'.")
    if kind == "server_error":
        return _error(503, "UNAVAILABLE", "The service is currently unavailable.")
    if kind == "malformed":
        if request.method == "PUT":
            handle(state, request)  # carried out; the answer is not a ReviewReply
            return Answer(200, {"unexpected": True})
        return Answer(200, {"reviews": [{"comment": "a review without name or time"}]})
    return None
