"""The Graph API client Facebook pages and Instagram share (facebook-sdk 3.1.0).

Traps handled here, once: the library accepts only API versions up to 3.1 in its constructor
(the version is set afterwards); it ignores HTTP statuses and raises `GraphAPIError` for any
JSON body with "error"; a body that is not JSON raises `KeyError` or a "Maintype" error; the
token travels in URLs, so nothing from a request may reach a message unscrubbed; and
`get_all_connections` breaks on `paging.next` URLs without a token, so paging follows
`paging.cursors.after` here instead.
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

import facebook
import requests

from connectors._http import platform_session, protect, scrub
from connectors._options import Options
from connectors._paging import now_utc, parse_time
from connectors._reconcile import ThreadComment
from connectors.base import (AuthExpired, ConnectorError, CredentialInfo, MalformedPayload, PostRejected,
                             RateLimited, ReplyTarget, Secrets)

log = logging.getLogger(__name__)

REAL_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
TOKEN_CODES = {102, 190}                         # session/token invalid, expired or revoked
THROTTLE_CODES = {4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006, 80008, 80014}
UNCERTAIN_CODES = {1, 2}                         # "unknown error", "service temporarily unavailable"
DEFAULT_THROTTLE = timedelta(minutes=15)


class ObjectMissing(ConnectorError):
    """Graph says the object does not exist (code 100, e.g. a post deleted since it was listed)."""


def graph_options(opts: Options) -> dict[str, Any]:
    """The keys both Graph connectors take."""
    return dict(
        base_url=opts.url("base_url", REAL_BASE),
        version=opts.text("graph_version", DEFAULT_VERSION, pattern=r"v\d{1,2}\.\d",
                          hint="e.g. 'v21.0'"),
        page_size=opts.integer("page_size", 50, 1, 100),
        max_pages=opts.integer("max_pages", 20, 1, 500),
        lookback_days=opts.integer("lookback_days", 14, 1, 90),
        backfill_days=opts.integer("backfill_days", 7, 1, 90),
        timeout=opts.number("timeout_seconds", 20, 1, 300),
    )


def graph_token(name: str, secrets: Secrets) -> str:
    token = secrets.require(name, "access_token")
    protect(token)
    return token


class GraphClient:
    def __init__(self, platform: str, access_token: str, *, base_url: str, version: str, timeout: float):
        self.platform = platform
        self.session, self.adapter = platform_session(REAL_BASE, base_url, timeout)
        self.api = facebook.GraphAPI(access_token=access_token, timeout=timeout, session=self.session)
        self.api.version = version  # after construction: the constructor refuses versions > 3.1

    def get(self, object_id: str, connection: Optional[str] = None, *, action: str, **args: Any) -> dict[str, Any]:
        if connection:
            result = self._call(lambda: self.api.get_connections(object_id, connection, **args), action)
        else:
            result = self._call(lambda: self.api.get_object(object_id, **args), action)
        if not isinstance(result, dict):
            raise MalformedPayload(f"{self.platform}: {action}: the answer is not a JSON object")
        return result

    def page(self, object_id: str, connection: str, cursor: Optional[str], *, action: str,
             **args: Any) -> tuple[list[Any], Optional[str]]:
        """One page of a connection and the cursor of the next one (None at the end)."""
        if cursor:
            args["after"] = cursor
        return self.read_page(self.get(object_id, connection, action=action, **args), action)

    def read_page(self, result: Any, action: str) -> tuple[list[Any], Optional[str]]:
        """A connection page as Graph sends it: its data and the cursor of the next page."""
        if not isinstance(result, dict):
            raise MalformedPayload(f"{self.platform}: {action}: the answer is not a JSON object")
        data = result.get("data")
        if not isinstance(data, list):
            raise MalformedPayload(f"{self.platform}: {action}: the answer has no 'data' list")
        paging = result.get("paging") if isinstance(result.get("paging"), dict) else {}
        if not paging.get("next"):
            return data, None
        after = (paging.get("cursors") or {}).get("after") if isinstance(paging.get("cursors"), dict) else None
        if not after and isinstance(paging["next"], str):
            try:
                after = (parse_qs(urlsplit(paging["next"]).query).get("after") or [None])[0]
            except ValueError:  # e.g. an unbalanced bracket in the host part
                after = None
        if not after or not isinstance(after, (str, int)) or isinstance(after, bool):
            raise MalformedPayload(f"{self.platform}: {action}: 'paging.next' without a cursor")
        return data, str(after)

    def post(self, object_id: str, connection: str, *, action: str, **data: Any) -> dict[str, Any]:
        result = self._call(lambda: self.api.put_object(object_id, connection, **data), action, posting=True)
        if not isinstance(result, dict) or not result.get("id"):
            raise ConnectorError(f"{self.platform} answered the reply without an id; it may have been posted")
        return result

    def check_token(self) -> CredentialInfo:
        """debug_token: valid or not, and when it expires (0 means never, as for page tokens
        made from a long-lived user token)."""
        result = self.get("debug_token", action="checking the token", input_token=self.api.access_token)
        data = result.get("data") if isinstance(result.get("data"), dict) else None
        if data is None:
            raise MalformedPayload(f"{self.platform}: debug_token answered without 'data'")
        if not data.get("is_valid", False):
            raise AuthExpired(f"{self.platform}: the access token is no longer valid; create a new long-lived page token")
        expires = data.get("expires_at")
        expires_at = datetime.fromtimestamp(expires, UTC) if isinstance(expires, (int, float)) and expires > 0 else None
        scopes = ", ".join(str(s) for s in data.get("scopes") or []) or "none listed"
        kind = str(data.get("type") or "token").lower()
        return CredentialInfo(f"valid {kind} token (scopes: {scopes})"
                              + ("" if expires_at else "; does not expire"), expires_at)

    def close(self) -> None:
        self.session.close()

    def _call(self, function: Callable[[], Any], action: str, posting: bool = False) -> Any:
        where = f"{self.platform} ({action})"
        try:
            return function()
        except facebook.GraphAPIError as exc:
            raise self._map_graph_error(exc, where, posting) from None
        except (requests.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError) as exc:
            # No Content-Type, a body that is not JSON, or an unexpected structure.
            if posting:
                raise ConnectorError(f"{where}: unreadable answer ({type(exc).__name__}); the reply may have been posted") from None
            raise MalformedPayload(f"{where}: unreadable answer ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise ConnectorError(f"network error: {where} ({type(exc).__name__})") from None

    def _map_graph_error(self, exc: facebook.GraphAPIError, where: str, posting: bool) -> ConnectorError:
        code = exc.code if isinstance(exc.code, int) else None
        error = exc.result.get("error") if isinstance(exc.result, dict) else None
        subcode = error.get("error_subcode") if isinstance(error, dict) else None
        message = scrub(exc.message if isinstance(exc.message, str) else "unexpected answer")[:300]
        detail = f"code {code}" + (f", subcode {subcode}" if subcode else "")
        if code in TOKEN_CODES:
            return AuthExpired(f"{where}: the access token expired or was revoked ({detail}); "
                               "create a new long-lived page token and set it again")
        if code in THROTTLE_CODES:
            until = self._throttled_until()
            return RateLimited(f"{where}: Graph API throttled this app ({detail}) until {until:%H:%M} UTC", until)
        if code == 10 or (code is not None and 200 <= code < 300):
            return AuthExpired(f"{where}: the token lacks a permission ({detail}: {message}); "
                               "grant it in the app and create a new token")
        if code is None:
            if posting:
                return ConnectorError(f"{where}: unreadable answer ({message}); the reply may have been posted")
            return MalformedPayload(f"{where}: unreadable answer ({message})")
        if posting:
            if code in UNCERTAIN_CODES:
                return ConnectorError(f"{where}: Graph API error ({detail}: {message}); the reply may have been posted")
            return PostRejected(f"{where}: Graph API refused the reply ({detail}: {message})")
        if code == 100 and (subcode == 33 or "does not exist" in message):
            return ObjectMissing(f"{where}: Graph API error ({detail}: {message})")
        return ConnectorError(f"{where}: Graph API error ({detail}: {message})")

    def _throttled_until(self) -> datetime:
        """Graph says how long in X-Business-Use-Case-Usage (minutes); facebook-sdk drops the
        headers, the adapter kept them."""
        minutes = 0
        headers = self.adapter.last_headers or {}
        for name in ("x-business-use-case-usage", "x-ad-account-usage"):
            try:
                usage = json.loads(headers.get(name, "") or "{}")
            except ValueError:
                continue
            entries = [e for values in usage.values() if isinstance(values, list) for e in values] \
                if isinstance(usage, dict) else []
            for entry in entries:
                if isinstance(entry, dict):
                    value = entry.get("estimated_time_to_regain_access")
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        minutes = max(minutes, int(value))
        return now_utc() + (timedelta(minutes=minutes) if minutes > 0 else DEFAULT_THROTTLE)


def reply_object(target: ReplyTarget) -> str:
    """The Graph object a reply goes under (the comment itself, or the thread's top comment)."""
    value = (target.extra or {}).get("reply_object")
    if value is not None and not isinstance(value, str):
        raise PostRejected("the stored post has an unreadable reply_object; nothing was posted")
    return value or target.external_id


def thread_comment(raw: Any, *, text_key: str, time_key: str, by_brand: bool) -> Optional[ThreadComment]:
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    try:
        created: Optional[datetime] = parse_time(raw.get(time_key), "graph comment")
    except MalformedPayload:
        created = None
    parent = raw.get("parent") if isinstance(raw.get("parent"), dict) else {}
    return ThreadComment(str(raw["id"]), str(raw.get(text_key) or ""), created, by_brand,
                         str(parent["id"]) if parent.get("id") else None)


