"""Fake Trustpilot business API: a business unit's private service reviews (newest first, page
numbers), one review, the company reply, and the OAuth refresh endpoint. Errors come in the
Apigee "fault" shape Trustpilot's gateway answers with."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional

from monitor.fakes.http import Answer, Request, bearer_ok, invalid_grant, iso_z, issue_token
from monitor.fakes.state import FakeState, Item, utc

TOKEN_PATH = "/v1/oauth/oauth-business-users-for-applications/refresh"
REVIEWS = re.compile(r"/v1/private/(?:business-units/([^/]+)/reviews|reviews/([^/]+)(/reply)?)")


def owns(path: str) -> bool:
    return path == TOKEN_PATH or REVIEWS.fullmatch(path) is not None


def add_post(state: FakeState, text: str, *, author: str, created: datetime, rating: Optional[int] = None,
             **fields: Any) -> Item:
    number = state.next_number()
    review_id = f"65{number:022x}"
    return state.add(Item(id=review_id, platform="trustpilot", kind="tp_review", text=text, author=author,
                          author_id=f"5c{number:022x}", created=created, root=review_id, rating=rating or 5,
                          **fields))


def _review(item: Item, state: FakeState) -> dict[str, Any]:
    title, _, body = item.text.partition("\n")
    return {"id": item.id, "stars": item.rating, "title": title.strip() if body else "",
            "text": body.strip() if body else item.text, "language": "en",
            "createdAt": iso_z(item.created), "updatedAt": None,
            "consumer": {"id": item.author_id, "displayName": item.author},
            "businessUnit": {"id": state.brand.trustpilot_business_unit_id},
            # The private answer names the invited consumer (personal data the connector leaves out).
            "referenceId": f"order-{item.id[-6:]}", "referralEmail": f"{item.author_id[-6:]}@customer.example",
            "companyReply": dict(item.owner_reply) if item.owner_reply else None,
            "links": [{"href": f"https://www.trustpilot.com/reviews/{item.id}", "method": "GET",
                       "rel": "reviews"}]}


def _fault(status: int, text: str, code: str) -> Answer:
    return Answer(status, {"fault": {"faultstring": text, "detail": {"errorcode": code}}})


def handle(state: FakeState, request: Request) -> Answer:
    if request.path == TOKEN_PATH:
        if not (request.headers.get("Authorization") or "").startswith("Basic "):
            return _fault(401, "Invalid ApiKey", "oauth.v2.InvalidApiKey")
        # Trustpilot's gateway (Apigee) says how long the new refresh token lasts, as text: 30 days.
        return issue_token(state, request, "trustpilot", rotate=True, expires_in=359999,
                           extra={"refresh_token_expires_in": str(state.refresh_token_lifetime)})
    if not bearer_ok(state, request):
        return _fault(401, "Invalid access token", "oauth.v2.InvalidAccessToken")
    match = REVIEWS.fullmatch(request.path)
    assert match is not None
    unit, review_id, reply = match.groups()
    brand = state.brand
    if unit is not None:
        if unit != brand.trustpilot_business_unit_id:
            return Answer(404, {"message": "Business unit not found", "errorCode": 40401})
        try:
            page = int(request.param("page", "1") or 1)
            per_page = int(request.param("perPage", "20") or 20)
        except ValueError:
            return Answer(400, {"message": "Invalid paging parameters", "errorCode": 40001})
        if page < 1 or not 1 <= per_page <= 100:
            return Answer(400, {"message": "Invalid paging parameters", "errorCode": 40001})
        reviews = state.of("trustpilot", "tp_review")
        size = min(state.page_size, per_page)
        chunk = reviews[(page - 1) * size: page * size]
        links = [{"href": f"{request.base_url}{request.path}?page={page + 1}&perPage={per_page}",
                  "method": "GET", "rel": "next-page"}] if page * size < len(reviews) else []
        return Answer(200, {"reviews": [_review(r, state) for r in chunk], "links": links})
    item = state.items.get(review_id or "")
    if item is None or item.platform != "trustpilot":
        return Answer(404, {"message": "Review not found", "errorCode": 40402})
    if request.method == "GET" and not reply:
        return Answer(200, _review(item, state))
    if request.method == "POST" and reply:
        body = request.json if isinstance(request.json, dict) else {}
        message, author = body.get("message"), body.get("authorBusinessUserId")
        if not isinstance(message, str) or not message.strip() or not isinstance(author, str) or not author:
            return Answer(400, {"message": "message and authorBusinessUserId are required", "errorCode": 40002})
        now = iso_z(utc())
        item.owner_reply = {"text": message, "authorBusinessUserId": author,
                            "authorBusinessUserName": "Demo Shop team", "createdAt": now, "updatedAt": None}
        state.replies.append({"platform": "trustpilot", "id": f"{item.id}/reply", "in_reply_to": item.id,
                              "text": message, "created_at": utc().isoformat()})
        return Answer(201, b"", content_type="application/json")
    return Answer(405, {"message": "Method not allowed", "errorCode": 40501})


def failure(state: FakeState, request: Request, kind: str) -> Optional[Answer]:
    if kind == "auth_expired":
        if request.path == TOKEN_PATH:
            return invalid_grant()
        return _fault(401, "Access Token expired", "keymanagement.service.access_token_expired")
    if kind in ("rate_limit", "api_ratelimit"):
        return _fault(429, "Rate limit quota violation. Quota limit exceeded.", "policies.ratelimit.QuotaViolation")
    if kind == "server_error":
        return Answer(503, "<html><body>Service Unavailable</body></html>", content_type="text/html")
    if kind == "malformed" and request.method == "POST":  # (reads: the server damages the real page)
        handle(state, request)  # carried out; the answer is not what the client expects
        return Answer(201, "{\"unexpected\":", content_type="application/json")
    return None
