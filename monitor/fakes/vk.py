"""Fake VK API (api.vk.ru/method/...): a community's wall posts, their comments with threads of
replies, and commenting as the community. VK answers every call with HTTP 200; errors come as
`{"error": {"error_code", "error_msg"}}`. Every call is a form POST (as vk_api sends them): the
request log records reading methods as GET and the others as POST, so read/write failures can be
planned as for the other platforms."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from monitor.fakes.http import Answer, Request
from monitor.fakes.state import FakeState, Item, utc

PREFIX = "/method/"
READS = {"wall.get", "wall.getComments", "wall.getComment", "groups.getById"}
THREAD_ITEMS = 10


def owns(path: str) -> bool:
    return path.startswith(PREFIX)


def verb(request: Request) -> str:
    """GET for the reading methods, POST for the rest (what the call does, not how it is sent)."""
    return "GET" if request.path[len(PREFIX):] in READS else "POST"


def _wall_post(state: FakeState) -> Item:
    existing = [i for i in state.of("vk", "vk_post") if i.by_brand]
    if existing:
        return existing[0]
    brand = state.brand
    return state.add(Item(id=str(100000 + state.next_number()), platform="vk", kind="vk_post",
                          text="Новая коллекция уже в магазине!", author=brand.vk_group_name,
                          author_id=f"-{brand.vk_group_id}", created=utc(minutes_ago=3 * 24 * 60), by_brand=True))


def add_post(state: FakeState, text: str, *, kind: str, author: str, created: datetime,
             parent: Optional[str] = None, **fields: Any) -> Item:
    author_id = state.author_id("vk", author, 500000)
    comment_id = str(100000 + state.next_number())
    if kind == "reply":
        top = state.items.get(parent or "") or next(iter(state.of("vk", "vk_comment")), None)
        if top is None:
            raise ValueError("vk: a reply needs a comment to answer")
        if top.parent != top.root:  # threads are one level deep: replies go under the top comment
            top = state.items[top.parent or ""]
        return state.add(Item(id=comment_id, platform="vk", kind="vk_comment", text=text, author=author,
                              author_id=author_id, created=created, parent=top.id, root=top.root,
                              extra={"reply_to_comment": (parent if parent in state.items else top.id)}, **fields))
    post = state.items.get(parent or "") or _wall_post(state)
    return state.add(Item(id=comment_id, platform="vk", kind="vk_comment", text=text, author=author,
                          author_id=author_id, created=created, parent=post.id, root=post.id, **fields))


def _error(code: int, message: str) -> Answer:
    return Answer(200, {"error": {"error_code": code, "error_msg": message, "request_params": []}})


def _comment(item: Item, state: FakeState, with_thread: bool) -> dict[str, Any]:
    owner = -int(state.brand.vk_group_id)
    body: dict[str, Any] = {"id": int(item.id), "from_id": int(item.author_id), "post_id": int(item.root or 0),
                            "owner_id": owner, "date": int(item.created.timestamp()), "text": item.text,
                            "likes": {"count": item.likes}}
    if item.parent != item.root:
        body["parents_stack"] = [int(item.parent or 0)]
        reply_to = state.items.get(str(item.extra.get("reply_to_comment") or item.parent))
        body["reply_to_comment"] = int(reply_to.id) if reply_to else int(item.parent or 0)
        if reply_to and not reply_to.by_brand:
            body["reply_to_user"] = int(reply_to.author_id)
    else:
        body["parents_stack"] = []
    if with_thread:
        replies = sorted(state.children(item.id), key=lambda i: (i.created, int(i.id)))  # oldest first, as VK
        body["thread"] = {"count": len(replies), "items": [_comment(r, state, False) for r in replies[:THREAD_ITEMS]],
                          "can_post": True, "show_reply_button": True, "groups_can_post": True}
    return body


def _people(items: list[Item], state: FakeState) -> dict[str, list[dict[str, Any]]]:
    profiles, groups = {}, {}
    for item in items:
        if item.author_id.startswith("-"):
            groups[item.author_id] = {"id": int(item.author_id[1:]), "name": item.author,
                                      "screen_name": f"club{item.author_id[1:]}"}
        else:
            first, _, last = item.author.partition(" ")
            profiles[item.author_id] = {"id": int(item.author_id), "first_name": first, "last_name": last,
                                        "screen_name": item.author.lower().replace(" ", "_")}
    return {"profiles": list(profiles.values()), "groups": list(groups.values())}


def _ints(request: Request, *names: str) -> Optional[dict[str, int]]:
    values = {}
    for name in names:
        raw = request.param(name)
        if raw is None:
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            return None
    return values


def handle(state: FakeState, request: Request) -> Answer:
    if not request.param("access_token"):
        return _error(5, "User authorization failed: no access_token passed.")
    if not request.param("v"):
        return _error(8, "Invalid request: v (version) is required")
    method = request.path[len(PREFIX):]
    brand = state.brand
    numbers = _ints(request, "owner_id", "post_id", "offset", "count", "comment_id", "from_group", "reply_to_comment")
    if numbers is None:
        return _error(100, "One of the parameters specified was missing or invalid: not a number")
    if method == "groups.getById":  # API 5.194 and later answer {"groups": [...], "profiles": [...]}
        if request.param("group_id") not in (brand.vk_group_id, f"club{brand.vk_group_id}"):
            return _error(100, "One of the parameters specified was missing or invalid: group_ids is undefined")
        return Answer(200, {"response": {"groups": [{"id": int(brand.vk_group_id), "name": brand.vk_group_name,
                                                     "screen_name": f"club{brand.vk_group_id}", "is_closed": 0,
                                                     "type": "page", "is_admin": 1, "admin_level": 3}],
                                         "profiles": []}})
    if method in ("wall.get", "wall.getComments", "wall.createComment") and numbers.get("owner_id") != -int(brand.vk_group_id):
        return _error(15, "Access denied: wall is disabled")
    offset, count = numbers.get("offset", 0), min(100, numbers.get("count", 20))
    size = min(state.page_size, count)
    if method == "wall.get":
        posts = state.of("vk", "vk_post")
        posts = [p for p in posts if p.extra.get("pinned")] + [p for p in posts if not p.extra.get("pinned")]
        page = posts[offset:offset + size]
        items = [{"id": int(p.id), "owner_id": -int(brand.vk_group_id), "from_id": int(p.author_id), "date":
                  int(p.created.timestamp()), "text": p.text, "post_type": "post",
                  "comments": {"count": sum(1 for c in state.of("vk", "vk_comment") if c.root == p.id),
                               "can_post": 1}, **({"is_pinned": 1} if p.extra.get("pinned") else {})}
                 for p in page]
        return Answer(200, {"response": {"count": len(posts), "items": items}})
    if method == "wall.getComments":
        post = state.items.get(str(numbers.get("post_id", "")))
        if post is None or post.kind != "vk_post":
            return _error(100, "One of the parameters specified was missing or invalid: post_id is undefined")
        parent = str(numbers["comment_id"]) if "comment_id" in numbers else post.id
        if parent not in state.items:
            return _error(100, "One of the parameters specified was missing or invalid: comment_id is undefined")
        level = state.children(parent)  # newest first
        if request.param("sort") == "asc":
            level = list(reversed(level))
        page = level[offset:offset + size]
        threads = parent == post.id and request.int_param("thread_items_count", 0) > 0
        listed = page + [r for c in page for r in state.children(c.id)] if threads else page
        body = {"count": len(level), "current_level_count": len(level), "can_post": True,
                "show_reply_button": True, "groups_can_post": True,
                "items": [_comment(c, state, threads) for c in page]}
        if request.param("extended") == "1":
            body.update(_people(listed, state))
        return Answer(200, {"response": body})
    if method == "wall.createComment":
        post = state.items.get(str(numbers.get("post_id", "")))
        if post is None or post.kind != "vk_post":
            return _error(100, "One of the parameters specified was missing or invalid: post_id is undefined")
        message = request.param("message") or ""
        if not message.strip():
            return _error(100, "One of the parameters specified was missing or invalid: message is empty")
        as_group = numbers.get("from_group") == int(brand.vk_group_id)
        reply_to = str(numbers["reply_to_comment"]) if "reply_to_comment" in numbers else None
        parent = post.id
        if reply_to:
            target = state.items.get(reply_to)
            if target is None or target.kind != "vk_comment" or target.root != post.id:
                return _error(100, "One of the parameters specified was missing or invalid: reply_to_comment is invalid")
            parent = target.id if target.parent == target.root else (target.parent or post.id)
        comment = state.add(Item(id=str(100000 + state.next_number()), platform="vk", kind="vk_comment",
                                 text=message, author=brand.vk_group_name if as_group else "Shop Admin",
                                 author_id=f"-{brand.vk_group_id}" if as_group else "499999", created=utc(),
                                 parent=parent, root=post.id, by_brand=as_group,
                                 extra={"reply_to_comment": reply_to or parent}))
        state.replies.append({"platform": "vk", "id": comment.id, "in_reply_to": reply_to or post.id,
                              "text": message, "created_at": comment.created.isoformat()})
        return Answer(200, {"response": {"comment_id": int(comment.id), "parents_stack": [] if parent == post.id
                                         else [int(parent)]}})
    return _error(3, "Unknown method passed")


def failure(state: FakeState, request: Request, kind: str) -> Optional[Answer]:
    if kind == "auth_expired":
        return _error(5, "User authorization failed: access_token has expired.")
    if kind == "rate_limit":
        return _error(6, "Too many requests per second")
    if kind == "api_ratelimit":
        return _error(29, "Rate limit reached")
    if kind == "server_error":
        return Answer(502, "<html><body>502 Bad Gateway</body></html>", content_type="text/html")
    if kind == "malformed" and verb(request) == "POST":  # (reads: the server damages the real page)
        handle(state, request)  # carried out; the answer lacks the comment id
        return Answer(200, {"response": {}})
    return None


def listed(body: Any) -> list[Any]:
    """The items of a reading method's answer (wall posts or comments; the server damages the
    first one for a "malformed" read)."""
    response = body.get("response") if isinstance(body, dict) else None
    return response.get("items") or [] if isinstance(response, dict) else []
