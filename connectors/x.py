"""X (Twitter) through tweepy's API v2 client: mentions of the brand account and, optionally, a
recent-search query; replies in the thread.

tweepy has no host setting, so a `PlatformAdapter` on `client.session` sends its requests to
`base_url` (OAuth 1.0a signing happens before the adapter, so signed calls still work there).
`wait_on_rate_limit` stays off: a 429 becomes `RateLimited` with X's reset time and the daemon
moves on to other sources instead of sleeping inside a call.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Iterator, Mapping, Optional

import requests
import tweepy

from connectors._http import platform_session, protect, scrub
from connectors._limits import REPLY_LIMITS
from connectors._options import Options
from connectors._paging import (checked, close_stream, isolated, load_stream, need, now_utc, optional_int,
                                parse_time, unreadable_reason)
from connectors._x_text import MAX_WEIGHTED_LENGTH, unescape, weighted_length
from connectors._reconcile import CLOCK_SKEW, BrandReply, our_reply
from connectors.base import (CredentialInfo, AuthExpired, CollectedItem, Connector, ConnectorError,
                             MalformedPayload, Page, PostRejected, RateLimited, ReplyTarget,
                             Secrets, Unreadable)

log = logging.getLogger(__name__)

REAL_BASE = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "conversation_id", "public_metrics", "referenced_tweets", "author_id", "note_tweet"]
# The original of a retweet (and its author) arrive in `includes`: a retweet's own text is cut.
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["username", "public_metrics"]
FIND_REPLY_PAGES = 5


class XConnector(Connector):
    platform = "x"
    max_reply_length = REPLY_LIMITS[platform]

    def __init__(self, name: str, *, account_id: str, query: Optional[str], base_url: str,
                 page_size: int, max_pages: int, backfill_days: int, timeout: float,
                 consumer_key: str, consumer_secret: str, access_token: str,
                 access_token_secret: str, bearer_token: Optional[str] = None):
        super().__init__(name)
        self.account_id = account_id
        self.query = query
        self.base_url = base_url
        self.page_size = page_size
        self.max_pages = max_pages
        self.backfill_days = backfill_days
        # Reads use the app's bearer token when there is one (its own quota), else user auth.
        self._read_as_user = bearer_token is None
        self.client = tweepy.Client(
            bearer_token=bearer_token, consumer_key=consumer_key, consumer_secret=consumer_secret,
            access_token=access_token, access_token_secret=access_token_secret,
            return_type=dict, wait_on_rate_limit=False)
        self.session, self.adapter = platform_session(REAL_BASE, base_url, timeout, self.client.session)

    @classmethod
    def from_settings(cls, name: str, options: Mapping[str, Any], secrets: Secrets) -> "XConnector":
        opts = Options(name, options)
        values = dict(
            account_id=opts.text("account_id", pattern=r"\d{1,20}",
                                 hint="the numeric user id of the brand account, not the @handle"),
            query=opts.text("query", None),
            base_url=opts.url("base_url", REAL_BASE),
            page_size=opts.integer("page_size", 100, 5, 100),
            max_pages=opts.integer("max_pages", 20, 1, 500),
            backfill_days=opts.integer("backfill_days", 7, 1, 7),
            timeout=opts.number("timeout_seconds", 20, 1, 300),
        )
        opts.finish()
        credentials = {key: secrets.require(name, key) for key in
                       ("consumer_key", "consumer_secret", "access_token", "access_token_secret")}
        credentials["bearer_token"] = secrets.get(name, "bearer_token")
        protect(*credentials.values())
        return cls(name, **values, **credentials)

    # --- collect ---------------------------------------------------------------------------

    def collect_streams(self, bookmarks: Mapping[str, Optional[str]]) -> Iterator[Page]:
        """Per stream, newest first down to `since_id`. A stream stopped at `max_pages` stores
        `{"since", "top", "until"}`: the next run walks the tweets older than `until` (the oldest
        id stored, X's exclusive `until_id`) down to `since`, then finalises to `top`."""
        streams = [("mentions", self._fetch_mentions)]
        if self.query:
            streams.append(("search", self._fetch_search))
        yielded: set[str] = set()  # a tweet found by both streams is stored once per run
        for stream, fetch in streams:
            yield from isolated(stream, self._collect_stream(stream, fetch, bookmarks, yielded), self.name)

    def _collect_stream(self, stream: str, fetch, bookmarks: Mapping[str, Optional[str]],
                        yielded: set[str]) -> Iterator[Page]:
        since, top, until = _stream_state(load_stream(bookmarks, stream, self.name), f"source {self.name}: x {stream}")
        newest, oldest = top, None
        token: Optional[str] = None
        pages = 0
        while pages < self.max_pages:
            try:
                payload = self._call(fetch, since, until, token, action=f"reading {stream}")
            except (RateLimited, AuthExpired, MalformedPayload):
                raise
            except ConnectorError as exc:
                if until is None or token is not None:
                    raise
                log.warning("source %s: X refused to go on below tweet %s (%s); walking %s from the "
                            "newest again", self.name, until, exc, stream)
                until = None
                continue
            pages += 1
            items, unreadable, ids, meta = self._parse_page(payload, stream)
            # The page's own tweet ids bound the walk (meta's ids may count expanded tweets too).
            newest, oldest = _max_id(newest, *ids), _min_id(oldest, *ids)
            items = [i for i in items if i.external_id not in yielded]
            yielded.update(i.external_id for i in items)
            if items or unreadable:
                yield Page(items, stream=stream, unreadable=unreadable)
            token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            if not token:
                break
        if token and oldest:
            log.warning("source %s: %s stopped after %d pages; the next poll goes on below tweet %s "
                        "(raise max_pages or poll more often)", self.name, stream, self.max_pages, oldest)
            yield close_stream(stream, {"since": since, "top": newest, "until": oldest})
        else:
            yield close_stream(stream, newest or since)

    def _window(self, since: Optional[str], until: Optional[str]) -> dict[str, Any]:
        window: dict[str, Any] = {"until_id": until} if until else {}
        if since:
            return {**window, "since_id": since}
        return {**window, "start_time": now_utc() - timedelta(days=self.backfill_days) + timedelta(minutes=1)}

    def _fetch_mentions(self, since: Optional[str], until: Optional[str], token: Optional[str]) -> Any:
        params = self._window(since, until)
        if token:
            params["pagination_token"] = token
        return self.client.get_users_mentions(
            self.account_id, max_results=self.page_size, expansions=EXPANSIONS,
            tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS, user_auth=self._read_as_user, **params)

    def _fetch_search(self, since: Optional[str], until: Optional[str], token: Optional[str]) -> Any:
        params = self._window(since, until)
        if token:
            params["next_token"] = token
        return self.client.search_recent_tweets(
            self.query, max_results=max(10, self.page_size), expansions=EXPANSIONS,
            tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS, user_auth=self._read_as_user, **params)

    def _parse_page(self, payload: Any, stream: str) -> tuple[list[CollectedItem], list[Unreadable], list[str], dict[str, Any]]:
        """A page's posts, the tweets that cannot be read, the ids of every tweet listed, and meta.
        A retweet is not a post: its original (from `includes.tweets`) is, counted with its shares."""
        where = f"x {stream}"
        if not isinstance(payload, dict):
            raise MalformedPayload(f"{where}: the answer is not a JSON object")
        meta = payload.get("meta")
        if not isinstance(meta, dict):
            raise MalformedPayload(f"{where}: the answer has no 'meta' (truncated or not an API answer)")
        data = payload.get("data", [])
        if not isinstance(data, list):
            raise MalformedPayload(f"{where}: 'data' is not a list")
        if payload.get("errors"):
            log.info("source %s: X reported partial errors on %s: %s", self.name, stream,
                     scrub(payload["errors"])[:300])
        includes = payload.get("includes") if isinstance(payload.get("includes"), dict) else {}
        users = _by_id(includes.get("users"))
        originals = _by_id(includes.get("tweets"))
        items: dict[str, CollectedItem] = {}
        unreadable: list[Unreadable] = []
        ids: list[str] = []
        for tweet in data:
            tweet_id = tweet.get("id") if isinstance(tweet, dict) else None
            if isinstance(tweet_id, str) and tweet_id.isdigit():
                ids.append(tweet_id)
            context = _context(tweet, users, originals)
            try:
                for item in self._read_tweet(context, stream):
                    items[item.external_id] = checked(item)
            except Exception as exc:  # MalformedPayload, or odd data the reader did not foresee
                unreadable.append(Unreadable(unreadable_reason(exc), context,
                                             tweet_id if isinstance(tweet_id, str) else None))
        return list(items.values()), unreadable, ids, meta

    def read_item(self, stream: Optional[str], payload: Any) -> list[CollectedItem]:
        return self._read_tweet(payload, stream or "mentions")

    def _read_tweet(self, context: Any, stream: str) -> list[CollectedItem]:
        """Read one listed tweet with what it refers to (`_context`): the post it is, the original
        it retweets, or nothing (the brand's own)."""
        where = f"x {stream}"
        tweet = need(context, "tweet", dict, where)
        tweet_id = need(tweet, "id", str, where)
        refs = tweet.get("referenced_tweets") or []
        if not isinstance(refs, list):
            raise MalformedPayload(f"{where} tweet {tweet_id}: 'referenced_tweets' is not a list")
        retweeted = next((r for r in refs if isinstance(r, dict) and r.get("type") == "retweeted"), None)
        if retweeted is None:
            item = self._tweet_item(tweet, context.get("users") or {}, stream)
            return [item] if item is not None else []
        original_id = need(retweeted, "id", str, f"{where} retweet {tweet_id}")
        original = (context.get("tweets") or {}).get(original_id)
        if not isinstance(original, dict):
            log.info("source %s: retweet %s of tweet %s, which X did not include (deleted or not visible); "
                     "nothing to store", self.name, tweet_id, original_id)
            return []
        item = self._tweet_item(original, context.get("users") or {}, stream)
        return [item] if item is not None else []

    def _tweet_item(self, tweet: Any, users: Mapping[str, Any], stream: str) -> Optional[CollectedItem]:
        where = f"x {stream}"
        tweet_id = need(tweet, "id", str, where)
        if not tweet_id.isdigit():
            raise MalformedPayload(f"{where}: tweet id {tweet_id[:30]!r} is not numeric")
        author_id = need(tweet, "author_id", str, f"{where} tweet {tweet_id}")
        if author_id == self.account_id:
            return None  # the brand's own tweets are not posts to answer
        text = need(tweet, "text", str, f"{where} tweet {tweet_id}")
        note = tweet.get("note_tweet")
        if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"]:
            text = note["text"]  # a long post: `text` holds only its first 280 characters
        created = parse_time(need(tweet, "created_at", str, f"{where} tweet {tweet_id}"), where)
        user = users.get(author_id) if isinstance(users.get(author_id), dict) else {}
        handle = user.get("username") if isinstance(user.get("username"), str) and user.get("username") else author_id
        metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), dict) else {}
        parent = None
        for ref in tweet.get("referenced_tweets") or []:
            if isinstance(ref, dict) and ref.get("type") == "replied_to" and isinstance(ref.get("id"), str):
                parent = ref["id"]
        conversation = tweet.get("conversation_id")
        conversation = conversation if isinstance(conversation, str) and conversation else tweet_id
        return CollectedItem(
            external_id=tweet_id, kind="mention", text=unescape(text), created_at=created,
            author_handle=handle, author_reach=optional_int(user.get("public_metrics") or {}, "followers_count"),
            url=f"https://x.com/{handle}/status/{tweet_id}",
            thread_id=conversation, parent_id=parent,
            likes=optional_int(metrics, "like_count"),
            shares=optional_int(metrics, "retweet_count") + optional_int(metrics, "quote_count"),
            replies=optional_int(metrics, "reply_count"),
            extra={"conversation_id": conversation, "stream": stream},
        )

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        length = weighted_length(text)
        if length > MAX_WEIGHTED_LENGTH:
            raise PostRejected(f"the reply counts {length} as X counts (URLs 23, CJK and emoji 2); "
                               f"X allows {MAX_WEIGHTED_LENGTH}; nothing was posted")
        payload = self._call(self.client.create_tweet, action="replying", text=text,
                             in_reply_to_tweet_id=target.external_id, user_auth=True)
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            raise ConnectorError("X answered the reply without a tweet id; it may have been posted")
        return str(data["id"])

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        """The brand's tweet replying to the target itself with this text (its timeline, newest
        first, back to the approval or the target; bounded)."""
        floor = target.approved_at - CLOCK_SKEW if target.approved_at else None
        token: Optional[str] = None
        found: list[BrandReply] = []
        complete = False
        for _ in range(FIND_REPLY_PAGES):
            params: dict[str, Any] = {"since_id": target.external_id, "max_results": 100,
                                      "tweet_fields": ["referenced_tweets", "created_at"]}
            if token:
                params["pagination_token"] = token
            payload = self._call(self.client.get_users_tweets, self.account_id,
                                 action="looking for an earlier reply", user_auth=self._read_as_user, **params)
            if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
                raise MalformedPayload("x timeline: the answer has no 'meta'")
            older = False
            for tweet in payload.get("data") or []:
                if not isinstance(tweet, dict) or not tweet.get("id"):
                    continue
                created = _time_or_none(tweet.get("created_at"))
                older = older or (floor is not None and created is not None and created < floor)
                refs = tweet.get("referenced_tweets") or []
                if any(isinstance(r, dict) and r.get("type") == "replied_to"
                       and str(r.get("id")) == target.external_id for r in refs):
                    found.append(BrandReply(str(tweet["id"]), str(tweet.get("text", "")), created, exact=True))
            token = payload["meta"].get("next_token")
            if not token or older:  # newest first: past the approval, nothing of ours is left
                complete = True
                break
        return our_reply(found, text, target.approved_at, complete=complete,
                         where=f"x ({self.name}): the reply to {target.external_id}")

    def check_credentials(self) -> CredentialInfo:
        """GET /2/users/me with the user tokens: they work, and they are the brand account's."""
        payload = self._call(self.client.get_me, action="checking the credentials", user_auth=True)
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise MalformedPayload("X answered /2/users/me without 'data'")
        user_id = str(data.get("id") or "")
        if user_id and user_id != self.account_id:
            raise AuthExpired(f"X: the user tokens belong to account {user_id}, not to account_id {self.account_id}")
        return CredentialInfo("user tokens work (OAuth 1.0a tokens do not expire; revoking them ends them)")

    def close(self) -> None:
        self.session.close()

    # --- errors ----------------------------------------------------------------------------

    def _call(self, function, *args, action: str, **kwargs) -> Any:
        """Call tweepy; every exception leaves as a ConnectorError whose message is safe."""
        posting = action == "replying"
        try:
            return function(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            until = _reset_time(exc.response)
            raise RateLimited(f"X rate limit reached while {action}; it resets at {until:%H:%M} UTC", until) from None
        except tweepy.Unauthorized:
            raise AuthExpired(f"X refused the credentials (401) while {action}: the access token was "
                              "revoked or has expired; create new keys for the app and set them again") from None
        except (tweepy.Forbidden, tweepy.BadRequest, tweepy.NotFound) as exc:
            message = f"X refused {action} ({scrub(exc)[:300]})"
            if posting:
                raise PostRejected(message) from None
            raise ConnectorError(message) from None
        except tweepy.HTTPException as exc:  # 5xx and other statuses
            raise ConnectorError(f"X failed while {action} ({scrub(exc)[:200]})") from None
        except (requests.JSONDecodeError, ValueError):  # the body was not JSON (before RequestException:
            # requests' JSONDecodeError is both)
            if posting:
                raise ConnectorError("X answered the reply with something unreadable; it may have been posted") from None
            raise MalformedPayload(f"X answered something that is not JSON while {action}") from None
        except requests.RequestException as exc:
            raise ConnectorError(f"network error while {action} on X ({type(exc).__name__})") from None
        except (KeyError, TypeError, AttributeError) as exc:
            if posting:
                raise ConnectorError(f"X answered the reply unexpectedly ({type(exc).__name__}); "
                                     "it may have been posted") from None
            raise MalformedPayload(f"X answered an unexpected structure while {action} ({type(exc).__name__})") from None


def _by_id(objects: Any) -> dict[str, Any]:
    """`includes` users or tweets by id (odd entries are left out)."""
    if not isinstance(objects, list):
        return {}
    return {obj["id"]: obj for obj in objects if isinstance(obj, dict) and isinstance(obj.get("id"), str)}


def _context(tweet: Any, users: Mapping[str, Any], originals: Mapping[str, Any]) -> dict[str, Any]:
    """A listed tweet with the `includes` it refers to: what reading it needs, and what a
    quarantined tweet keeps so that it can be read again on its own."""
    def text_of(obj: Any, key: str) -> Optional[str]:
        value = obj.get(key) if isinstance(obj, dict) else None
        return value if isinstance(value, str) else None

    refs = tweet.get("referenced_tweets") if isinstance(tweet, dict) else None
    wanted = {text_of(r, "id") for r in refs} if isinstance(refs, list) else set()
    tweets = {key: originals[key] for key in wanted if key is not None and key in originals}
    authors = {text_of(tweet, "author_id")} | {text_of(t, "author_id") for t in tweets.values()}
    return {"tweet": tweet, "users": {key: users[key] for key in authors if key is not None and key in users},
            "tweets": tweets}


def _reset_time(response: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(response.headers["x-rate-limit-reset"]), UTC)
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError, OSError):
        return now_utc() + timedelta(minutes=15)


def _max_id(*ids: Optional[str]) -> Optional[str]:
    numeric = [int(i) for i in ids if i and str(i).isdigit()]
    return str(max(numeric)) if numeric else None


def _min_id(*ids: Optional[str]) -> Optional[str]:
    numeric = [int(i) for i in ids if i and str(i).isdigit()]
    return str(min(numeric)) if numeric else None


def _stream_state(value: Any, where: str) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """(since, top, until) of a stored stream: a plain tweet id (a finished stream, as stored
    before resuming existed), or a dict while a stream is being walked back over several runs."""
    if isinstance(value, str):
        return (value if value.isdigit() else None), None, None
    if not isinstance(value, dict):
        return None, None, None
    since, top = (_max_id(value.get(key)) if isinstance(value.get(key), str) else None for key in ("since", "top"))
    until = value.get("until") if isinstance(value.get("until"), str) and value.get("until") else None
    if not (top and until):
        log.warning("%s: the stored resume point is not readable; walking from the newest again", where)
        return since, None, None
    return since, _max_id(since, top), until


def _time_or_none(value: Any) -> Optional[datetime]:
    try:
        return parse_time(value, "x tweet")
    except MalformedPayload:
        return None
