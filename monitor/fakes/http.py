"""The request and answer shapes the fake platform handlers work with, and small helpers."""
from __future__ import annotations

import base64
import json
import re
import secrets as random_tokens
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Optional, Sequence

from monitor.fakes.state import Item


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    json: Any
    headers: Mapping[str, str]
    base_url: str

    def param(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.query.get(name, self.form.get(name, default))

    def int_param(self, name: str, default: int) -> int:
        try:
            return int(self.param(name, str(default)) or default)
        except ValueError:
            return default


@dataclass
class Answer:
    status: int = 200
    body: Any = None                   # dict/list -> JSON; str/bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=UTF-8"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> Optional[str]:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def paginate(items: Sequence[Item], cursor: Optional[str], size: int) -> tuple[list[Item], Optional[str], bool]:
    """A page after the item the cursor names, the next cursor, and whether the cursor was valid."""
    start = 0
    if cursor:
        last = decode_cursor(cursor)
        ids = [i.id for i in items]
        if last not in ids:
            return [], None, False
        start = ids.index(last) + 1
    page = list(items[start:start + max(1, size)])
    more = start + len(page) < len(items)
    return page, (encode_cursor(page[-1].id) if more and page else None), True


def query_terms(query: str) -> list[str]:
    """Plain words of a search query (operators such as -is:retweet, lang:pl, OR are ignored)."""
    terms = []
    for token in re.findall(r'"[^"]+"|\S+', query or ""):
        token = token.strip('"()').strip()
        if not token or token.upper() in ("OR", "AND") or token.startswith("-") or ":" in token:
            continue
        terms.append(token.lower())
    return terms


def matches(text: str, terms: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(term in lowered for term in terms) if terms else True


def iso_z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def graph_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+0000")


def bearer_ok(state: Any, request: Request) -> bool:
    """Whether the request carries an access token the fake issued."""
    auth = request.headers.get("Authorization", "") or ""
    return auth.startswith("Bearer ") and auth.split(" ", 1)[1] in state.tokens


def issue_token(state: Any, request: Request, prefix: str, *, rotate: bool = False,
                expires_in: int = 3600, extra: Optional[Mapping[str, Any]] = None) -> Answer:
    """An OAuth refresh-token grant (RFC 6749 6): a new access token, and with `rotate` a new
    refresh token as well (Allegro and Trustpilot hand out a new one at every renewal); `extra`
    fields a platform adds to the answer."""
    if request.param("grant_type") != "refresh_token" or not request.param("refresh_token"):
        return Answer(400, {"error": "invalid_request", "error_description": "refresh_token required"})
    state.refresh_tokens_used.append(request.param("refresh_token"))
    token = f"fake-{prefix}-" + random_tokens.token_hex(8)
    state.tokens.add(token)
    body: dict[str, Any] = {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    if rotate:
        body["refresh_token"] = f"fake-{prefix}-refresh-" + random_tokens.token_hex(8)
    body.update(extra or {})
    return Answer(200, body)


def invalid_grant() -> Answer:
    return Answer(400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})
