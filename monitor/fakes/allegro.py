"""Fake Allegro REST API: the seller's sales ratings (newest change first, offset paging), one
rating, the seller's public answer, and the OAuth token endpoint (refresh tokens rotate)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional

from monitor.fakes.http import Answer, Request, bearer_ok, invalid_grant, iso_z, issue_token
from monitor.fakes.state import FakeState, Item, utc

TOKEN_PATH = "/auth/oauth/token"
RATINGS = re.compile(r"/sale/user-ratings(?:/([^/]+)(/answer)?)?")
ME_PATH = "/me"
MEDIA_TYPE = "application/vnd.allegro.public.v1+json"


def owns(path: str) -> bool:
    return path in (TOKEN_PATH, ME_PATH) or RATINGS.fullmatch(path) is not None


def add_post(state: FakeState, text: str, *, author: str, created: datetime, rating: Optional[int] = None,
             **fields: Any) -> Item:
    number = state.next_number()
    rating_id = f"{number:08x}-7a1e-4c3b-9d2f-{number:012d}"
    return state.add(Item(id=rating_id, platform="allegro", kind="rating", text=text, author=author,
                          author_id=str(40000000 + number), created=created, root=rating_id,
                          rating=rating or 5, **fields))


def _rating(item: Item) -> dict[str, Any]:
    stars = max(1, min(5, item.rating or 5))
    return {"id": item.id, "buyer": {"id": item.author_id, "login": item.author},
            "comment": item.text or None, "createdAt": iso_z(item.created), "editedAt": None,
            "lastChangedAt": iso_z(item.created), "recommended": stars >= 3,
            # Since February 2025 buyers only recommend or not: newer ratings carry no marks.
            "rates": None if item.extra.get("no_marks") else
            {"delivery": stars, "deliveryCost": stars, "description": stars, "service": stars},
            "answer": dict(item.owner_reply) if item.owner_reply else None,
            "order": {"offers": [{"id": "10000000001", "title": "Demo product"}]}}


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"errors": [{"code": code, "message": message, "details": None, "path": None,
                                       "userMessage": message}]}, content_type=MEDIA_TYPE)


def handle(state: FakeState, request: Request) -> Answer:
    if request.path == TOKEN_PATH:
        if not (request.headers.get("Authorization") or "").startswith("Basic "):
            return Answer(401, {"error": "unauthorized", "error_description": "Full authentication is required"})
        return issue_token(state, request, "allegro", rotate=True, expires_in=43199)
    if not bearer_ok(state, request):
        return Answer(401, {"error": "invalid_token", "error_description": "Invalid access token"})
    if request.path == ME_PATH:
        brand = state.brand
        return Answer(200, {"id": brand.allegro_user_id, "login": brand.allegro_login, "firstName": "Demo", "lastName": "Shop",
                            "email": "sklep@example.com", "baseMarketplace": {"id": "allegro-pl"}},
                      content_type=MEDIA_TYPE)
    match = RATINGS.fullmatch(request.path)
    assert match is not None
    rating_id, answer = match.group(1), match.group(2)
    if rating_id is None and request.method == "GET":
        try:
            offset = int(request.param("offset", "0") or 0)
            limit = int(request.param("limit", "20") or 20)
        except ValueError:
            return _error(422, "VALIDATION_ERROR", "offset and limit must be numbers")
        if offset < 0 or not 1 <= limit <= 100:
            return _error(422, "VALIDATION_ERROR", "offset or limit out of range")
        ratings = state.of("allegro", "rating")
        size = min(state.page_size, limit)
        return Answer(200, {"ratings": [_rating(r) for r in ratings[offset:offset + size]]}, content_type=MEDIA_TYPE)
    item = state.items.get(rating_id or "")
    if item is None or item.platform != "allegro":
        return _error(404, "NOT_FOUND", "Rating not found")
    if request.method == "GET" and not answer:
        return Answer(200, _rating(item), content_type=MEDIA_TYPE)
    if request.method == "PUT" and answer:
        message = (request.json or {}).get("message") if isinstance(request.json, dict) else None
        if not isinstance(message, str) or not message.strip():
            return _error(422, "VALIDATION_ERROR", "Answer message must not be empty")
        if item.owner_reply:
            return _error(422, "ANSWER_ALREADY_EXISTS", "The rating has already been answered")
        item.owner_reply = {"message": message, "createdAt": iso_z(utc())}
        state.replies.append({"platform": "allegro", "id": f"{item.id}/answer", "in_reply_to": item.id,
                              "text": message, "created_at": utc().isoformat()})
        return Answer(201, dict(item.owner_reply), content_type=MEDIA_TYPE)
    return _error(405, "METHOD_NOT_ALLOWED", "Unsupported request")


def failure(state: FakeState, request: Request, kind: str) -> Optional[Answer]:
    if kind == "auth_expired":
        if request.path == TOKEN_PATH:
            return invalid_grant()
        return Answer(401, {"error": "invalid_token", "error_description": "Access token expired"})
    if kind in ("rate_limit", "api_ratelimit"):
        return _error(429, "TOO_MANY_REQUESTS", "Too many requests")
    if kind == "server_error":
        return _error(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
    if kind == "malformed" and request.method == "PUT":  # (reads: the server damages the real page)
        handle(state, request)  # carried out; the answer is not an Answer
        return Answer(201, {"unexpected": True}, content_type=MEDIA_TYPE)
    return None


def listed(body: Any) -> list[Any]:
    """The items of a listing answer (the server damages the first one for a "malformed" read)."""
    return body.get("ratings") or [] if isinstance(body, dict) else []
