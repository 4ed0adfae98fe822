"""Fake YouTube Data API v3: comment threads on a channel's videos (newest first, page tokens,
up to five replies inline), the replies of one thread, posting a reply, and the Google OAuth
token endpoint google-auth renews the access token at."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Optional

from monitor.fakes.http import Answer, Request, bearer_ok, invalid_grant, iso_z, issue_token, paginate
from monitor.fakes.state import FakeState, Item, utc

PREFIX = "/youtube/v3/"
TOKEN_PATH = "/youtube/oauth2/token"
INLINE_REPLIES = 5


def owns(path: str) -> bool:
    return path == TOKEN_PATH or path.startswith(PREFIX)


def _comment_id(state: FakeState) -> str:
    return "Ugz" + hashlib.sha1(str(state.next_number()).encode()).hexdigest()[:20] + "4AaABAg"


def _video(state: FakeState) -> Item:
    existing = state.of("youtube", "yt_video")
    if existing:
        return existing[0]
    brand = state.brand
    video_id = "dQw" + hashlib.sha1(str(state.next_number()).encode()).hexdigest()[:8]
    return state.add(Item(id=video_id, platform="youtube", kind="yt_video", text="Unboxing our spring collection",
                          author=brand.youtube_channel_name, author_id=brand.youtube_channel_id,
                          created=utc(minutes_ago=3 * 24 * 60), root=video_id, by_brand=True))


def add_post(state: FakeState, text: str, *, kind: str, author: str, created: datetime,
             parent: Optional[str] = None, **fields: Any) -> Item:
    author_id = "UC" + hashlib.sha1(author.encode()).hexdigest()[:22]
    if kind == "reply":
        top = state.items.get(parent or "") or next(iter(state.of("youtube", "yt_comment")), None)
        if top is None:
            raise ValueError("youtube: a reply needs a comment to answer")
        if top.parent and top.parent != top.root:  # replies nest one level, under the top comment
            top = state.items[top.parent]
        reply_id = f"{top.id}.{hashlib.sha1(str(state.next_number()).encode()).hexdigest()[:22]}"
        return state.add(Item(id=reply_id, platform="youtube", kind="yt_comment", text=text, author=author,
                              author_id=author_id, created=created, parent=top.id, root=top.root, **fields))
    video = state.items.get(parent or "") or _video(state)
    return state.add(Item(id=_comment_id(state), platform="youtube", kind="yt_comment", text=text, author=author,
                          author_id=author_id, created=created, parent=video.id, root=video.id, **fields))


def _comment(item: Item, state: FakeState) -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "channelId": state.brand.youtube_channel_id, "videoId": item.root, "textDisplay": item.text,
        "textOriginal": item.text, "authorDisplayName": f"@{item.author}",
        "authorChannelUrl": f"http://www.youtube.com/@{item.author}", "authorChannelId": {"value": item.author_id},
        "canRate": True, "viewerRating": "none", "likeCount": item.likes,
        "publishedAt": iso_z(item.created).replace(".000", ""), "updatedAt": iso_z(item.created).replace(".000", "")}
    if item.parent and item.parent != item.root:
        snippet["parentId"] = item.parent
    return {"kind": "youtube#comment", "etag": "e" + item.id[-6:], "id": item.id, "snippet": snippet}


def _thread(top: Item, state: FakeState) -> dict[str, Any]:
    replies = state.children(top.id)
    thread: dict[str, Any] = {
        "kind": "youtube#commentThread", "etag": "t" + top.id[-6:], "id": top.id,
        "snippet": {"channelId": state.brand.youtube_channel_id, "videoId": top.root,
                    "topLevelComment": _comment(top, state), "canReply": True, "totalReplyCount": len(replies),
                    "isPublic": True}}
    if replies:
        thread["replies"] = {"comments": [_comment(r, state) for r in replies[:INLINE_REPLIES]]}
    return thread


def _error(status: int, reason: str, message: str, domain: str = "youtube.commentThread") -> Answer:
    return Answer(status, {"error": {"code": status, "message": message,
                                     "errors": [{"message": message, "domain": domain, "reason": reason}]}})


def _listing(state: FakeState, request: Request, items: list[Item], render) -> Answer:
    size = min(state.page_size, request.int_param("maxResults", 20))
    page, cursor, valid = paginate(items, request.param("pageToken"), size)
    if not valid:
        return _error(400, "invalidPageToken", "The request specifies an invalid page token.", "youtube.parameter")
    body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse",
                            "pageInfo": {"totalResults": len(page), "resultsPerPage": size},
                            "items": [render(i, state) for i in page]}
    if cursor:
        body["nextPageToken"] = cursor
    return Answer(200, body)


def handle(state: FakeState, request: Request) -> Answer:
    if request.path == TOKEN_PATH:
        if not request.param("client_id") or not request.param("client_secret"):
            return Answer(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        return issue_token(state, request, "youtube", expires_in=3599)
    if not bearer_ok(state, request):
        return _error(401, "authError", "Request had invalid authentication credentials.", "global")
    resource = request.path[len(PREFIX):].strip("/")
    if resource == "commentThreads" and request.method == "GET":
        if request.param("allThreadsRelatedToChannelId") != state.brand.youtube_channel_id:
            return _error(403, "forbidden", "The comment threads could not be retrieved.")
        tops = [i for i in state.of("youtube", "yt_comment") if i.parent == i.root]
        return _listing(state, request, tops, _thread)
    if resource == "channels" and request.method == "GET":  # mine=true: the token's own channel
        if request.param("mine") != "true":
            return _error(400, "missingRequiredParameter", "No filter selected.", "youtube.parameter")
        return Answer(200, {"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
                            "items": [{"kind": "youtube#channel", "etag": "c0", "id": state.brand.youtube_channel_id}]})
    if resource == "comments" and request.method == "GET":
        parent = state.items.get(request.param("parentId") or "")
        if parent is None or parent.platform != "youtube":
            return _error(404, "commentNotFound", "The comment could not be found.", "youtube.comment")
        return _listing(state, request, state.children(parent.id), _comment)
    if resource == "comments" and request.method == "POST":
        snippet = (request.json or {}).get("snippet") if isinstance(request.json, dict) else None
        snippet = snippet if isinstance(snippet, dict) else {}
        text, parent_id = snippet.get("textOriginal"), snippet.get("parentId")
        parent = state.items.get(parent_id or "")
        if parent is None or parent.platform != "youtube" or parent.kind != "yt_comment" or parent.parent != parent.root:
            return _error(404, "parentCommentNotFound", "The parent comment could not be found.", "youtube.comment")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "commentTextRequired", "The comment must contain text.", "youtube.comment")
        brand = state.brand
        reply = state.add(Item(id=f"{parent.id}.{hashlib.sha1(str(state.next_number()).encode()).hexdigest()[:22]}",
                               platform="youtube", kind="yt_comment", text=text, author=brand.youtube_channel_name,
                               author_id=brand.youtube_channel_id, created=utc(), parent=parent.id,
                               root=parent.root, by_brand=True))
        state.replies.append({"platform": "youtube", "id": reply.id, "in_reply_to": parent.id, "text": text,
                              "created_at": reply.created.isoformat()})
        return Answer(200, _comment(reply, state))
    return _error(404, "notFound", f"no route {request.path}", "global")


def failure(state: FakeState, request: Request, kind: str) -> Optional[Answer]:
    if kind == "auth_expired":
        if request.path == TOKEN_PATH:
            return invalid_grant()
        return _error(401, "authError", "Request had invalid authentication credentials.", "global")
    if kind == "rate_limit":
        return _error(403, "rateLimitExceeded", "The request cannot be completed because you have exceeded the "
                      "rate limit.", "youtube.quota")
    if kind == "api_ratelimit":  # the project's daily quota is spent (it resets at midnight Pacific time)
        return _error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your "
                      "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "youtube.quota")
    if kind == "server_error":
        return _error(503, "backendError", "Backend Error", "global")
    if kind == "malformed" and request.method == "POST":  # (reads: the server damages the real page)
        handle(state, request)  # carried out; the answer lacks the id
        return Answer(200, {"kind": "youtube#comment"})
    return None


def listed(body: Any) -> list[Any]:
    """The comments of a listing answer: a thread's top comment, or a reply (the server damages the
    first one's snippet for a "malformed" read)."""
    items = body.get("items") if isinstance(body, dict) else None
    found = []
    for item in items or []:
        snippet = item.get("snippet") if isinstance(item, dict) else None
        top = snippet.get("topLevelComment") if isinstance(snippet, dict) else None
        comment = top if isinstance(top, dict) else item
        found.append(comment.get("snippet") if isinstance(comment, dict) else None)
    return found
