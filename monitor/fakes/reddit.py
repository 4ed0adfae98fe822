"""Fake Reddit: the OAuth token endpoint, subreddit listings (comments, new, search), inbox
mentions, a user's comments, and posting a comment."""
from __future__ import annotations

import re
import secrets as random_tokens
from datetime import datetime
from typing import Any, Optional

from monitor.fakes.http import Answer, Request, encode_cursor, matches, paginate, query_terms
from monitor.fakes.state import FakeState, Item, utc

TOKEN_PATH = "/api/v1/access_token"
ROUTES = re.compile(r"/(api/v1/access_token|api/v1/me|api/comment|r/[^/]+/(comments|new|search)|"
                    r"message/mentions|user/[^/]+/comments)/?")
RATE_HEADERS = {"x-ratelimit-remaining": "599.0", "x-ratelimit-used": "1", "x-ratelimit-reset": "300"}


def owns(path: str) -> bool:
    return ROUTES.fullmatch(path) is not None


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text.rjust(7, "0")


# --- seeding ---------------------------------------------------------------------------------

def _thread(state: FakeState, subreddit: str) -> Item:
    """A submission in the subreddit for seeded comments to live under, created on first use."""
    for item in state.of("reddit", "t3"):
        if item.extra.get("subreddit") == subreddit and item.extra.get("container"):
            return item
    return state.add(Item(id=f"t3_{_base36(state.next_number() + 36 ** 5)}", platform="reddit", kind="t3",
                          text="Where do you buy online? Experiences thread", author="shopping_mod",
                          author_id="", created=utc(minutes_ago=3 * 24 * 60),
                          extra={"subreddit": subreddit, "title": "Where do you buy online? Experiences thread",
                                 "container": True}))


def add_post(state: FakeState, text: str, *, kind: str, author: str, created: datetime,
             parent: Optional[str] = None, subreddit: Optional[str] = None, **fields: Any) -> Item:
    subreddit = subreddit or state.brand.subreddit
    fullname_number = _base36(state.next_number() + 36 ** 5)
    if kind in ("post", "submission"):
        title, _, body = text.partition("\n")
        item_id = f"t3_{fullname_number}"
        return state.add(Item(id=item_id, platform="reddit", kind="t3", text=body.strip(), author=author,
                              author_id="", created=created, root=item_id,
                              extra={"subreddit": subreddit, "title": title.strip()}, **fields))
    if parent and parent in state.items:
        parent_item = state.items[parent]
    elif kind == "reply":
        parent_item = next(iter(state.of("reddit", "t1")), None) or _thread(state, subreddit)
    else:
        parent_item = _thread(state, subreddit)
    root = parent_item.root or parent_item.id
    return state.add(Item(id=f"t1_{fullname_number}", platform="reddit", kind="t1", text=text, author=author,
                          author_id="", created=created, parent=parent_item.id, root=root,
                          mentions_brand=(kind == "mention"),
                          extra={"subreddit": state.items[root].extra.get("subreddit", subreddit)}, **fields))


# --- answers ---------------------------------------------------------------------------------

def _data(item: Item, state: FakeState, mention: bool = False) -> dict[str, Any]:
    short = item.id.split("_", 1)[1]
    subreddit = item.extra.get("subreddit", "")
    if item.kind == "t3":
        return {"id": short, "name": item.id, "title": item.extra.get("title", ""), "selftext": item.text,
                "author": item.author, "created_utc": item.created.timestamp(), "subreddit": subreddit,
                "permalink": f"/r/{subreddit}/comments/{short}/_/", "num_comments": len(state.children(item.id)),
                "score": item.likes, "url": f"https://www.reddit.com/r/{subreddit}/comments/{short}/_/"}
    link_short = (item.root or "t3_").split("_", 1)[1]
    body = {"id": short, "name": item.id, "body": item.text, "author": item.author,
            "created_utc": item.created.timestamp(), "link_id": item.root, "parent_id": item.parent,
            "subreddit": subreddit, "permalink": f"/r/{subreddit}/comments/{link_short}/_/{short}/",
            "score": item.likes, "ups": item.likes}
    if mention:
        body.update({"context": f"/r/{subreddit}/comments/{link_short}/_/{short}/?context=3", "was_comment": True,
                     "new": True, "type": "username_mention", "subject": "username mention"})
    return body


def _listing(state: FakeState, request: Request, items: list[Item], mention: bool = False) -> Answer:
    size = min(state.page_size, request.int_param("limit", 25))
    page, cursor, valid = paginate(items, _cursor_of(request.param("after")), size)
    if not valid:
        page, cursor = [], None  # Reddit answers an empty listing for an unknown 'after'
    children = [{"kind": i.kind, "data": _data(i, state, mention)} for i in page]
    after = page[-1].id if cursor and page else None
    return Answer(200, {"kind": "Listing", "data": {"after": after, "before": None, "dist": len(children),
                                                     "children": children}})


def _cursor_of(after: Optional[str]) -> Optional[str]:
    """Reddit's 'after' is the fullname of the last item; the shared paginator wants a cursor."""
    return encode_cursor(after) if after else None


def _unauthorised() -> Answer:
    return Answer(401, {"message": "Unauthorized", "error": 401},
                  headers={"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})


def handle(state: FakeState, request: Request) -> Answer:
    path = request.path.rstrip("/")
    if path == TOKEN_PATH:
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return Answer(401, {"message": "Unauthorized", "error": 401})
        grant = request.param("grant_type")
        if grant not in ("password", "refresh_token", "client_credentials"):
            return Answer(200, {"error": "unsupported_grant_type"})
        token = "fake-reddit-" + random_tokens.token_hex(8)
        state.tokens.add(token)
        return Answer(200, {"access_token": token, "token_type": "bearer", "expires_in": 86400,
                            "scope": "*" if grant == "password" else "identity read submit privatemessages history"})
    auth = request.headers.get("Authorization", "")
    if not auth.lower().startswith("bearer ") or auth.split(" ", 1)[1] not in state.tokens:
        return _unauthorised()
    answer = _route(state, request, path)
    answer.headers.update(RATE_HEADERS)
    return answer


def _route(state: FakeState, request: Request, path: str) -> Answer:
    if request.method == "GET" and path == "/api/v1/me":
        return Answer(200, {"name": state.brand.reddit_username, "id": "brand01"})
    if request.method == "GET" and (m := re.fullmatch(r"/r/([^/]+)/(comments|new|search)", path)):
        subreddits = {s.lower() for s in m.group(1).split("+")}
        kind = "t1" if m.group(2) == "comments" else "t3"
        items = [i for i in state.of("reddit", kind) if str(i.extra.get("subreddit", "")).lower() in subreddits]
        if m.group(2) == "search":
            terms = query_terms(request.param("q", "") or "")
            items = [i for i in items if matches(f"{i.extra.get('title', '')} {i.text}", terms)]
        return _listing(state, request, items)
    if request.method == "GET" and path == "/message/mentions":
        return _listing(state, request, [i for i in state.of("reddit", "t1") if i.mentions_brand], mention=True)
    if request.method == "GET" and (m := re.fullmatch(r"/user/([^/]+)/comments", path)):
        name = m.group(1).lower()
        return _listing(state, request, [i for i in state.of("reddit", "t1") if i.author.lower() == name])
    if request.method == "POST" and path == "/api/comment":
        return _create(state, request)
    return Answer(404, {"message": "Not Found", "error": 404})


def _create(state: FakeState, request: Request) -> Answer:
    thing = request.param("thing_id") or ""
    text = request.param("text") or ""
    parent = state.items.get(thing)
    if parent is None or parent.platform != "reddit":
        return Answer(200, {"json": {"errors": [["DELETED_COMMENT", "that comment has been deleted", "parent"]]}})
    if not text.strip():
        return Answer(200, {"json": {"errors": [["NO_TEXT", "we need something here", "text"]]}})
    root = parent.root or parent.id
    item = state.add(Item(id=f"t1_{_base36(state.next_number() + 36 ** 5)}", platform="reddit", kind="t1",
                          text=text, author=state.brand.reddit_username, author_id="", created=utc(),
                          parent=parent.id, root=root, by_brand=True,
                          extra={"subreddit": state.items[root].extra.get("subreddit", "")}))
    state.replies.append({"platform": "reddit", "id": item.id, "in_reply_to": thing, "text": text,
                          "created_at": item.created.isoformat()})
    return Answer(200, {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": _data(item, state)}]}}})


def failure(state: FakeState, request: Request, kind: str) -> Optional[Answer]:
    token_call = request.path.rstrip("/") == TOKEN_PATH
    if kind == "auth_expired":
        return Answer(200, {"error": "invalid_grant"}) if token_call else _unauthorised()
    if kind == "rate_limit" or (kind == "api_ratelimit" and request.method == "GET"):
        return Answer(429, "Too Many Requests", content_type="text/plain",
                      headers={"retry-after": "120", "x-ratelimit-remaining": "0", "x-ratelimit-used": "600",
                               "x-ratelimit-reset": "120"})
    if kind == "api_ratelimit":
        return Answer(200, {"json": {"errors": [["RATELIMIT", "Looks like you've been doing that a lot. "
                                                 "Take a break for 9 minutes before trying again.", "ratelimit"]]}},
                      headers=dict(RATE_HEADERS))
    if kind == "server_error":
        return Answer(503, "<html>Service Unavailable</html>", content_type="text/html")
    if kind == "malformed":
        if request.method == "POST":
            handle(state, request)  # carried out; the answer names no comment
            return Answer(200, {"json": {"errors": [], "data": {"things": []}}}, headers=dict(RATE_HEADERS))
        return Answer(200, {"kind": "Listing", "data": {"after": None, "children": [
            {"kind": "t1", "data": {"body": "a comment without id or time"}}]}}, headers=dict(RATE_HEADERS))
    return None
