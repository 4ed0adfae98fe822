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
from connectors._options import Options
from connectors._paging import (dump_bookmark, load_bookmark, need, now_utc, optional_int,
                                parse_time)
from connectors._reconcile import CLOCK_SKEW, BrandReply, our_reply
from connectors.base import (AuthExpired, CollectedItem, CredentialInfo, Connector, ConnectorError,
                             MalformedPayload, Page, PostRejected, RateLimited, ReplyTarget,
                             Secrets)

log = logging.getLogger(__name__)

REAL_BASE = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "conversation_id", "public_metrics", "referenced_tweets", "author_id"]
USER_FIELDS = ["username", "public_metrics"]
FIND_REPLY_PAGES = 5


class XConnector(Connector):
    platform = "x"
    max_reply_length = 280

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

    def collect(self, bookmark: Optional[str]) -> Iterator[Page]:
        """Per stream, newest first down to `since_id`. A stream stopped at `max_pages` stores
        `{"since", "top", "until"}`: the next run walks the tweets older than `until` (the oldest
        id stored, X's exclusive `until_id`) down to `since`, then finalises to `top`."""
        marks = load_bookmark(bookmark, self.name)
        streams = [("mentions", self._fetch_mentions)]
        if self.query:
            streams.append(("search", self._fetch_search))
        yielded: set[str] = set()  # a tweet found by both streams is stored once per run
        for stream, fetch in streams:
            since, top, until = _stream_state(marks.get(stream), f"source {self.name}: x {stream}")
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
                items, meta = self._parse_page(payload, stream)
                ids = [meta.get("newest_id"), meta.get("oldest_id"), *(i.external_id for i in items)]
                newest, oldest = _max_id(newest, *ids), _min_id(oldest, *ids)
                items = [i for i in items if i.external_id not in yielded]
                yielded.update(i.external_id for i in items)
                if items:
                    yield Page(items)
                token = meta.get("next_token")
                if not token:
                    break
            if token and oldest:
                log.warning("source %s: %s stopped after %d pages; the next poll goes on below tweet %s "
                            "(raise max_pages or poll more often)", self.name, stream, self.max_pages, oldest)
                marks[stream] = {"since": since, "top": newest, "until": oldest}
            elif newest:
                marks[stream] = newest
            yield Page([], dump_bookmark(marks))

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
            self.account_id, max_results=self.page_size, expansions=["author_id"],
            tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS, user_auth=self._read_as_user, **params)

    def _fetch_search(self, since: Optional[str], until: Optional[str], token: Optional[str]) -> Any:
        params = self._window(since, until)
        if token:
            params["next_token"] = token
        return self.client.search_recent_tweets(
            self.query, max_results=max(10, self.page_size), expansions=["author_id"],
            tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS, user_auth=self._read_as_user, **params)

    def _parse_page(self, payload: Any, stream: str) -> tuple[list[CollectedItem], dict[str, Any]]:
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
        users = {}
        for user in (payload.get("includes") or {}).get("users") or []:
            if isinstance(user, dict) and user.get("id"):
                users[str(user["id"])] = user
        items = []
        for tweet in data:
            tweet_id = need(tweet, "id", str, where)
            author_id = need(tweet, "author_id", str, f"{where} tweet {tweet_id}")
            if author_id == self.account_id:
                continue  # the brand's own tweets are not posts to answer
            text = need(tweet, "text", str, f"{where} tweet {tweet_id}")
            created = parse_time(need(tweet, "created_at", str, f"{where} tweet {tweet_id}"), where)
            user = users.get(author_id, {})
            handle = user.get("username") or author_id
            metrics = tweet.get("public_metrics") or {}
            parent = None
            for ref in tweet.get("referenced_tweets") or []:
                if isinstance(ref, dict) and ref.get("type") == "replied_to":
                    parent = str(ref.get("id"))
            items.append(CollectedItem(
                external_id=tweet_id, kind="mention", text=text, created_at=created,
                author_handle=str(handle), author_reach=optional_int(user.get("public_metrics") or {}, "followers_count"),
                url=f"https://x.com/{handle}/status/{tweet_id}",
                thread_id=str(tweet.get("conversation_id") or tweet_id), parent_id=parent,
                likes=optional_int(metrics, "like_count"),
                shares=optional_int(metrics, "retweet_count") + optional_int(metrics, "quote_count"),
                replies=optional_int(metrics, "reply_count"),
                extra={"conversation_id": str(tweet.get("conversation_id") or tweet_id), "stream": stream},
            ))
        return items, meta

    # --- reply -----------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> str:
        if len(text) > self.max_reply_length:
            raise PostRejected(f"the reply has {len(text)} characters; X allows {self.max_reply_length}")
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
