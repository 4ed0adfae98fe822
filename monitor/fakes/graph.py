"""Fake Graph API: a Facebook page's feed and comments, an Instagram business account's media,
comments and replies, and posting comments/replies."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Optional
from urllib.parse import urlencode

from monitor.fakes.http import Answer, Request, graph_time, paginate
from monitor.fakes.state import FakeState, Item, utc

PATH = re.compile(r"/v\d{1,2}\.\d/([^/]+)(?:/([a-z_]+))?/?")


def platform_of(state: FakeState, path: str) -> Optional[str]:
    match = PATH.fullmatch(path)
    if not match:
        return None
    object_id = match.group(1)
    if object_id == state.brand.instagram_user_id:
        return "instagram"
    item = state.items.get(object_id)
    return item.platform if item else "facebook"


# --- seeding ---------------------------------------------------------------------------------

def _container(state: FakeState, platform: str) -> Item:
    """The brand's newest page post / media, created on first use."""
    kind = "fb_post" if platform == "facebook" else "ig_media"
    existing = [i for i in state.of(platform, kind) if i.by_brand]
    if existing:
        return existing[0]
    brand = state.brand
    created = utc(minutes_ago=3 * 24 * 60)
    if platform == "facebook":
        item_id = f"{brand.facebook_page_id}_{9000 + state.next_number()}"
        return state.add(Item(id=item_id, platform="facebook", kind="fb_post", text="New collection is in!",
                              author=brand.facebook_page_name, author_id=brand.facebook_page_id,
                              created=created, root=item_id, by_brand=True))
    item_id = str(18000000000000000 + state.next_number())
    return state.add(Item(id=item_id, platform="instagram", kind="ig_media", text="Spring sale",
                          author=brand.instagram_username, author_id=brand.instagram_user_id,
                          created=created, root=item_id, by_brand=True))


def add_post(state: FakeState, platform: str, text: str, *, kind: str, author: str, created: datetime,
             parent: Optional[str] = None, **fields: Any) -> Item:
    number = state.next_number()
    author_id = state.author_id(platform, author, 5000000000 if platform == "facebook" else 7000000000)
    if platform == "facebook" and kind == "mention":
        item_id = f"{state.brand.facebook_page_id}_{10000 + number}"
        return state.add(Item(id=item_id, platform=platform, kind="fb_post", text=text, author=author,
                              author_id=author_id, created=created, root=item_id, **fields))
    comment_kind = "fb_comment" if platform == "facebook" else "ig_comment"
    if kind == "reply":
        parent_item = state.items.get(parent or "") or next(iter(state.of(platform, comment_kind)), None)
        if parent_item is None:
            raise ValueError(f"{platform}: a reply needs a comment to answer")
        if parent_item.parent and parent_item.parent != parent_item.root:  # one level of nesting
            parent_item = state.items[parent_item.parent]
        parent_id, root = parent_item.id, parent_item.root
    else:
        container = state.items.get(parent or "") or _container(state, platform)
        parent_id, root = container.id, container.id
    item_id = f"{root.rsplit('_', 1)[-1]}_{20000 + number}" if platform == "facebook" else str(17900000000000000 + number)
    return state.add(Item(id=item_id, platform=platform, kind=comment_kind, text=text, author=author,
                          author_id=author_id, created=created, parent=parent_id, root=root, **fields))


# --- answers ---------------------------------------------------------------------------------

def _fb_post(item: Item, state: FakeState) -> dict[str, Any]:
    comments = [c.created for c in state.of("facebook", "fb_comment") if c.root == item.id]
    return {"id": item.id, "message": item.text, "created_time": graph_time(item.created),
            "updated_time": graph_time(max([item.created, *comments])),
            "from": {"id": item.author_id, "name": item.author},
            "permalink_url": f"https://www.facebook.com/{item.id}"}


def _fb_comment(item: Item, state: FakeState) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id, "message": item.text, "created_time": graph_time(item.created),
        "from": {"id": item.author_id, "name": item.author},
        "permalink_url": f"https://www.facebook.com/{item.root}?comment_id={item.id}",
        "like_count": item.likes, "comment_count": len(state.children(item.id))}
    if item.parent and item.parent != item.root:
        body["parent"] = {"id": item.parent}
    return body


def _ig_comment(item: Item, state: FakeState, nested: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id, "text": item.text, "timestamp": graph_time(item.created), "username": item.author,
        "from": {"id": item.author_id, "username": item.author}, "like_count": item.likes}
    if nested:
        replies = state.children(item.id)
        if replies:
            body["replies"] = {"data": [_ig_comment(r, state, nested=False) for r in replies]}
    return body


def _ig_media(item: Item, state: FakeState) -> dict[str, Any]:
    return {"id": item.id, "caption": item.text, "timestamp": graph_time(item.created),
            "permalink": f"https://www.instagram.com/p/{item.id}/",
            "comments_count": len([c for c in state.of("instagram", "ig_comment") if c.root == item.id])}


def _page(state: FakeState, request: Request, items: list[Item], render) -> Answer:
    size = min(state.page_size, request.int_param("limit", 25))
    page, cursor, valid = paginate(items, request.param("after"), size)
    if not valid:
        return _error(400, 100, "Invalid cursor")
    body: dict[str, Any] = {"data": [render(i, state) for i in page]}
    if page:
        body["paging"] = {"cursors": {"before": "b", "after": cursor or "end"}}
        if cursor:
            query = {k: v for k, v in request.query.items() if k != "after"}
            query["after"] = cursor
            body["paging"]["next"] = f"{request.base_url}{request.path}?{urlencode(query)}"
    return Answer(200, body)


def _error(status: int, code: int, message: str, subcode: Optional[int] = None) -> Answer:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode:
        error["error_subcode"] = subcode
    return Answer(status, {"error": error})


def handle(state: FakeState, request: Request) -> Answer:
    if not request.param("access_token"):
        return _error(400, 104, "An access token is required to request this resource.")
    match = PATH.fullmatch(request.path)
    if not match:
        return _error(400, 2500, "Unknown path components")
    object_id, connection = match.group(1), match.group(2)
    brand = state.brand
    if request.method == "GET":
        if object_id == "debug_token":
            expires = state.token_expires_at
            return Answer(200, {"data": {"app_id": "1000", "type": "PAGE", "is_valid": True,
                                         "expires_at": int(expires.timestamp()) if expires else 0,
                                         "scopes": ["pages_show_list", "pages_read_engagement",
                                                    "pages_read_user_content", "pages_manage_engagement"]}})
        if object_id == brand.instagram_user_id and connection is None:
            return Answer(200, {"id": object_id, "username": brand.instagram_username})
        if object_id == brand.facebook_page_id and connection == "feed":
            since = request.int_param("since", 0)
            posts = [p for p in state.of("facebook", "fb_post") if p.created.timestamp() >= since]
            return _page(state, request, posts, _fb_post)
        if object_id == brand.instagram_user_id and connection == "media":
            return _page(state, request, state.of("instagram", "ig_media"), _ig_media)
        item = state.items.get(object_id)
        if item is None:
            return _error(400, 100, f"Unsupported get request. Object with ID '{object_id}' does not exist")
        if connection is None and item.kind == "ig_media":
            return Answer(200, _ig_media(item, state))
        if connection == "comments" and item.kind == "fb_post":
            filter_stream = request.param("filter") == "stream"
            comments = [c for c in state.of("facebook", "fb_comment")
                        if c.root == item.id and (filter_stream or c.parent == item.id)]
            if request.param("order") != "reverse_chronological":
                comments.reverse()
            return _page(state, request, comments, _fb_comment)
        if connection == "comments" and item.kind == "fb_comment":
            return _page(state, request, state.children(item.id), _fb_comment)
        if connection == "comments" and item.kind == "ig_media":
            return _page(state, request, [c for c in state.children(item.id)], _ig_comment)
        if connection == "replies" and item.kind == "ig_comment":
            return _page(state, request, state.children(item.id), lambda i, s: _ig_comment(i, s, nested=False))
        return _error(400, 100, "Tried accessing nonexisting field")
    if request.method == "POST" and connection in ("comments", "replies"):
        return _create(state, request, object_id, connection)
    return _error(400, 100, "Unsupported request")


def _create(state: FakeState, request: Request, object_id: str, connection: str) -> Answer:
    parent = state.items.get(object_id)
    message = request.param("message") or ""
    if parent is None:
        return _error(400, 100, f"Unsupported post request. Object with ID '{object_id}' does not exist", 33)
    if not message.strip():
        return _error(400, 100, "(#100) The parameter message is required")
    brand = state.brand
    if parent.platform == "facebook":
        if connection != "comments":
            return _error(400, 100, "Unsupported post request")
        if parent.kind == "fb_comment" and parent.parent != parent.root:
            parent = state.items[parent.parent]  # Facebook nests one level
        item = Item(id=f"{parent.root.rsplit('_', 1)[-1]}_{20000 + state.next_number()}", platform="facebook",
                    kind="fb_comment", text=message, author=brand.facebook_page_name,
                    author_id=brand.facebook_page_id, created=utc(), parent=parent.id, root=parent.root,
                    by_brand=True)
    else:
        if connection != "replies" or parent.kind != "ig_comment" or parent.parent != parent.root:
            return _error(400, 100, "Replies are only allowed on top-level comments")
        item = Item(id=str(17900000000000000 + state.next_number()), platform="instagram", kind="ig_comment",
                    text=message, author=brand.instagram_username, author_id=brand.instagram_user_id,
                    created=utc(), parent=parent.id, root=parent.root, by_brand=True)
    state.add(item)
    state.replies.append({"platform": parent.platform, "id": item.id, "in_reply_to": object_id, "text": message,
                          "created_at": item.created.isoformat()})
    return Answer(200, {"id": item.id})


def failure(state: FakeState, request: Request, kind: str) -> Optional[Answer]:
    if kind in ("rate_limit", "api_ratelimit"):
        answer = _error(400, 32, "(#32) Page request limit reached")
        usage = {state.brand.facebook_page_id: [{"type": "pages", "call_count": 100, "total_cputime": 30,
                                                 "total_time": 30, "estimated_time_to_regain_access": 12}]}
        answer.headers["x-business-use-case-usage"] = json.dumps(usage)
        return answer
    if kind == "auth_expired":
        expired = (utc() - timedelta(hours=1)).strftime("%A, %d-%b-%y %H:%M:%S UTC")
        return _error(400, 190, f"Error validating access token: Session has expired on {expired}.", 463)
    if kind == "server_error":
        return Answer(502, "<html><body>Bad Gateway</body></html>", content_type="text/html")
    if kind == "malformed":
        if request.method == "POST":
            handle(state, request)  # carried out; the answer lacks the id
            return Answer(200, {"success": True})
        return Answer(200, {"data": [{"message": "an item without id or time"}]})
    return None
