"""Fake X API v2: mentions, recent search, a user's tweets, and posting a tweet.

Tweets come back as X sends them: `&`, `<`, `>` escaped in `text`; a post over 280 characters
cut in `text` and whole in `note_tweet` (only when `tweet.fields` asks for it); a retweet with
its own cut "RT @author: ..." text and `referenced_tweets: [{"type": "retweeted"}]`, its
original in `includes.tweets` (only with the `referenced_tweets.id` expansion) and the
original's author in `includes.users` (with `referenced_tweets.id.author_id`)."""
from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any, Optional

from monitor.fakes.http import Answer, Request, iso_z, matches, paginate, query_terms
from monitor.fakes.state import FakeState, Item, utc

PREFIX = "/2/"
TWITTER_EPOCH_MS = 1288834974657
MAX_LENGTH = 280


def snowflake(state: FakeState, created: datetime) -> str:
    ms = int(created.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((ms << 22) + state.next_number() % 4096)


def add_post(state: FakeState, text: str, *, author: str, created: datetime, parent: Optional[str] = None,
             **fields: Any) -> Item:
    tweet_id = snowflake(state, created)
    root = state.items[parent].root if parent and parent in state.items else None
    return state.add(Item(id=tweet_id, platform="x", kind="tweet", text=text, author=author,
                          author_id=state.author_id("x", author, 3000000000), created=created, parent=parent,
                          root=root or parent or tweet_id, mentions_brand=True, **fields))


def add_retweet(state: FakeState, original: str, *, author: str, created: datetime, **fields: Any) -> Item:
    source = state.items[original]
    source.shares += 1  # X counts it on the original's public_metrics.retweet_count
    text = f"RT @{source.author}: {source.text}"
    if len(text) > 140:
        text = text[:139] + "\u2026"
    return state.add(Item(id=snowflake(state, created), platform="x", kind="tweet", text=text, author=author,
                          author_id=state.author_id("x", author, 3000000000), created=created,
                          root=source.root or source.id, mentions_brand=source.mentions_brand,
                          extra={"retweet_of": original}, **fields))


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tweet(item: Item, fields: set[str]) -> dict[str, Any]:
    text = item.text
    cut = len(text) > MAX_LENGTH and not item.extra.get("retweet_of")
    body: dict[str, Any] = {
        "id": item.id, "text": _escaped(text[:MAX_LENGTH - 1] + "\u2026" if cut else text),
        "author_id": item.author_id, "created_at": iso_z(item.created),
        "conversation_id": item.root or item.id, "edit_history_tweet_ids": [item.id],
        "public_metrics": {"like_count": item.likes, "retweet_count": item.shares, "reply_count": item.replies,
                           "quote_count": 0},
    }
    if cut and "note_tweet" in fields:
        body["note_tweet"] = {"text": _escaped(text), "entities": {}}
    if item.parent:
        body["referenced_tweets"] = [{"type": "replied_to", "id": item.parent}]
    if item.extra.get("retweet_of"):
        body["referenced_tweets"] = [{"type": "retweeted", "id": item.extra["retweet_of"]}]
    return {key: value for key, value in body.items() if key in fields or key in ("id", "text", "edit_history_tweet_ids")} \
        if fields else body


def _fields(request: Request, name: str) -> set[str]:
    return {f for f in (request.param(name) or "").split(",") if f}


def _user(item: Item) -> dict[str, Any]:
    return {"id": item.author_id, "name": item.author, "username": item.author,
            "public_metrics": {"followers_count": item.reach}}


def _listing(state: FakeState, request: Request, tweets: list[Item], token_param: str) -> Answer:
    since = request.param("since_id")
    if since and since.isdigit():
        tweets = [t for t in tweets if int(t.id) > int(since)]
    until = request.param("until_id")
    if until is not None and not until.isdigit():
        return Answer(400, {"title": "Invalid Request", "status": 400,
                            "detail": f"The `until_id` query parameter value [{until}] is not valid"})
    if until:
        tweets = [t for t in tweets if int(t.id) < int(until)]
    start = request.param("start_time")
    if start:
        floor = datetime.fromisoformat(start.replace("Z", "+00:00"))
        tweets = [t for t in tweets if t.created >= floor]
    size = min(state.page_size, request.int_param("max_results", 10))
    page, cursor, valid = paginate(tweets, request.param(token_param), size)
    if not valid:
        return Answer(400, {"title": "Invalid Request", "detail": "invalid pagination token", "status": 400})
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
    if cursor:
        meta["next_token"] = cursor
    body: dict[str, Any] = {"meta": meta}
    if page:
        fields, expansions = _fields(request, "tweet.fields"), _fields(request, "expansions")
        body["data"] = [_tweet(t, fields) for t in page]
        includes: dict[str, list[Any]] = {}
        referenced = [state.items[r["id"]] for t in body["data"] for r in t.get("referenced_tweets") or []
                      if r["id"] in state.items] if "referenced_tweets.id" in expansions else []
        if referenced:
            includes["tweets"] = [_tweet(t, fields) for t in {t.id: t for t in referenced}.values()]
        authors = list(page) if "author_id" in expansions else []
        if "referenced_tweets.id.author_id" in expansions:
            authors += referenced
        if authors:
            includes["users"] = list({t.author_id: _user(t) for t in authors}.values())
        if includes:
            body["includes"] = includes
    return Answer(200, body)


def handle(state: FakeState, request: Request) -> Answer:
    auth = request.headers.get("Authorization", "")
    if not (auth.startswith("Bearer ") or auth.startswith("OAuth ")):
        return Answer(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
    path = request.path
    if request.method == "GET" and path == "/2/users/me":
        return Answer(200, {"data": {"id": state.brand.x_user_id, "name": "Demo Shop", "username": state.brand.x_username}})
    if request.method == "GET" and (m := re.fullmatch(r"/2/users/(\d+)/mentions", path)):
        tweets = [t for t in state.of("x") if t.mentions_brand and not t.by_brand]
        return _listing(state, request, tweets, "pagination_token")
    if request.method == "GET" and path == "/2/tweets/search/recent":
        terms = query_terms(request.param("query", "") or "")
        tweets = [t for t in state.of("x") if matches(t.text, terms)]
        return _listing(state, request, tweets, "next_token")
    if request.method == "GET" and (m := re.fullmatch(r"/2/users/(\d+)/tweets", path)):
        tweets = [t for t in state.of("x") if t.author_id == m.group(1)]
        return _listing(state, request, tweets, "pagination_token")
    if request.method == "POST" and path == "/2/tweets":
        return _create(state, request)
    return Answer(404, {"title": "Not Found Error", "detail": f"no route {path}", "status": 404})


def _create(state: FakeState, request: Request) -> Answer:
    body = request.json if isinstance(request.json, dict) else {}
    text = str(body.get("text") or "")
    parent = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
    if not text or len(text) > MAX_LENGTH:
        return Answer(400, {"title": "Invalid Request", "detail": "tweet text is empty or too long", "status": 400})
    if parent and parent not in state.items:
        return Answer(403, {"title": "Forbidden", "status": 403,
                            "detail": "You attempted to reply to a Tweet that is deleted or not visible to you."})
    if any(t.by_brand and t.text == text for t in state.of("x")):
        return Answer(403, {"title": "Forbidden", "status": 403,
                            "detail": "You are not allowed to create a Tweet with duplicate content."})
    brand = state.brand
    created = utc()
    tweet = state.add(Item(id=snowflake(state, created), platform="x", kind="tweet", text=text,
                           author=brand.x_username, author_id=brand.x_user_id, created=created,
                           parent=parent or None, root=(state.items[parent].root if parent else None),
                           by_brand=True))
    state.replies.append({"platform": "x", "id": tweet.id, "in_reply_to": parent, "text": text,
                          "created_at": created.isoformat()})
    return Answer(201, {"data": {"id": tweet.id, "text": text, "edit_history_tweet_ids": [tweet.id]}})


def failure(state: FakeState, request: Request, kind: str) -> Optional[Answer]:
    if kind in ("rate_limit", "api_ratelimit"):
        return Answer(429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                            "status": 429},
                      headers={"x-rate-limit-limit": "10", "x-rate-limit-remaining": "0",
                               "x-rate-limit-reset": str(int(time.time()) + 900)})
    if kind == "auth_expired":
        return Answer(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
    if kind == "server_error":
        return Answer(503, {"title": "Service Unavailable", "status": 503, "detail": "Service Unavailable"})
    if kind == "malformed":
        if request.method == "POST":
            handle(state, request)  # carried out, but the answer lacks the id
            return Answer(201, {"data": {"text": "?"}})
        return Answer(200, {"data": [{"text": "a tweet without id or author"}], "meta": {"result_count": 1}})
    return None
