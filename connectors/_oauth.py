"""OAuth 2 refresh-token access for the REST platforms without a maintained client (Allegro,
Trustpilot), on plain `requests`, and the HTTP-status-to-error mapping they share.

The access token is renewed when missing or refused (once per request: a 401 means the request
was not carried out, so sending it again after renewing is safe, also for a reply). Both platforms
may hand out a new refresh token at every renewal; it replaces the old one for the life of the
process, and, with a `token_file`, beyond it (`RefreshTokenFile`). The one in the secrets store is
the start, and needs renewing by a person only when it has expired or been revoked.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Mapping, Optional

import requests

from connectors._http import platform_session, protect, scrub
from connectors._paging import now_utc
from connectors.base import AuthExpired, ConnectorError, MalformedPayload, PostRejected, RateLimited

DEFAULT_WAIT = timedelta(minutes=1)
log = logging.getLogger(__name__)


class RefreshTokenFile:
    """Keeps the newest refresh token across restarts: a JSON file (mode 0600, replaced
    atomically) with the token and a fingerprint of the configured one. When the configured token
    changes (a person authorised the app again), it wins over the file."""

    def __init__(self, path: Path, configured: str):
        self.path = path
        self.configured = configured
        self.fingerprint = hashlib.sha256(configured.encode()).hexdigest()[:16]

    def current(self) -> str:
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return self.configured
        except (OSError, ValueError) as exc:
            log.warning("token file %s is not readable (%s); using the configured refresh token", self.path,
                        type(exc).__name__)
            return self.configured
        token = stored.get("refresh_token") if isinstance(stored, dict) else None
        if isinstance(token, str) and token and stored.get("configured") == self.fingerprint:
            return token
        return self.configured

    def save(self, token: str) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"configured": self.fingerprint, "refresh_token": token}, handle)
            os.replace(temporary, self.path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            log.warning("could not keep the renewed refresh token in %s (%s); after a restart the configured "
                        "one is used again", self.path, type(exc).__name__)


class OAuthClient:
    def __init__(self, platform: str, *, base_url: str, token_uri: str, client_id: str, client_secret: str,
                 refresh_token: str, timeout: float, headers: Optional[Mapping[str, str]] = None,
                 token_params: Optional[Mapping[str, str]] = None, token_file: Optional[Path] = None):
        self.platform = platform
        self.base_url = base_url
        self.token_uri = token_uri
        self.timeout = timeout
        self._client = (client_id, client_secret)
        self._store = RefreshTokenFile(token_file, refresh_token) if token_file else None
        self.refresh_token = self._store.current() if self._store else refresh_token
        protect(self.refresh_token)
        self._token_params = dict(token_params or {})
        self.access_token: Optional[str] = None
        # When the refresh token stops working, where the platform says so at a renewal.
        self.refresh_expires_at: Optional[datetime] = None
        self.session, self.adapter = platform_session(base_url, base_url, timeout)
        self.session.headers.update(headers or {})
        self._token_session, _ = platform_session(token_uri, token_uri, timeout)

    # --- tokens ----------------------------------------------------------------------------

    def renew(self) -> None:
        data = {"grant_type": "refresh_token", "refresh_token": self.refresh_token, **self._token_params}
        try:
            response = self._token_session.post(self.token_uri, data=data, auth=self._client, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ConnectorError(f"network error renewing the {self.platform} token ({type(exc).__name__})") from None
        if response.status_code in (400, 401):
            raise AuthExpired(f"{self.platform} refused to renew the access token ({error_text(response)}): the "
                              "refresh token expired or was revoked, or the app's keys changed; authorise the "
                              "app again and set the new refresh token")
        if response.status_code == 429:
            raise RateLimited(f"{self.platform} throttled the token renewal", now_utc() + retry_after(response))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.ok or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ConnectorError(f"{self.platform} answered the token renewal unexpectedly ({response.status_code})")
        self.access_token = body["access_token"]
        protect(self.access_token)
        lifetime = body.get("refresh_token_expires_in")
        if isinstance(lifetime, (int, str)) and str(lifetime).isdigit() and int(lifetime) > 0:
            self.refresh_expires_at = now_utc() + timedelta(seconds=int(lifetime))
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            if body["refresh_token"] != self.refresh_token:
                self.refresh_token = body["refresh_token"]  # rotated: the old one may no longer work
                protect(self.refresh_token)
                if self._store:
                    self._store.save(self.refresh_token)

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The response of an authorised request; the token is renewed once if refused.
        Network errors propagate (the caller knows whether something may have been posted)."""
        renewed = False
        if self.access_token is None:
            self.renew()
            renewed = True
        while True:
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self.access_token}"}
            response = self.session.request(method, self.base_url + path, headers=headers, timeout=self.timeout,
                                            **kwargs)
            if response.status_code != 401 or renewed:
                return response
            self.renew()
            renewed = True
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}

    # --- requests with errors mapped -------------------------------------------------------

    def request(self, method: str, path: str, *, action: str, posting: bool = False, body: bool = True,
                before_posting: bool = False, **kwargs: Any) -> Any:
        """The JSON answer (None when `body=False`), or the matching ConnectorError.
        `before_posting`: a read that decides whether to post: a missing item rejects the post."""
        maybe = "; it may have been posted" if posting else ""
        try:
            response = self.send(method, path, **kwargs)
        except requests.RequestException as exc:
            raise ConnectorError(f"network error while {action} on {self.platform} ({type(exc).__name__}){maybe}") from None
        status = response.status_code
        if status == 429:
            until = now_utc() + retry_after(response)
            raise RateLimited(f"{self.platform} rate limit reached while {action}; try again after {until:%H:%M} UTC",
                              until)
        if status == 401:
            raise AuthExpired(f"{self.platform} refused the renewed access token while {action} (401: "
                              f"{error_text(response)}); it expired or was revoked: authorise the app again")
        if status == 403:
            raise AuthExpired(f"{self.platform} denied access while {action} (403: {error_text(response)}); the "
                              "app or account lacks a permission")
        if before_posting and status == 404:
            raise PostRejected(f"{self.platform}: the item is gone ({error_text(response)}); nothing was posted")
        if posting and status in (400, 404, 409, 422):
            raise PostRejected(f"{self.platform} refused the reply ({status}: {error_text(response)})")
        if not 200 <= status < 300:
            raise ConnectorError(f"{self.platform} answered {status} while {action} ({error_text(response)}){maybe}")
        if not body:
            return None
        try:
            return response.json()
        except ValueError:
            if posting:
                raise ConnectorError(f"{self.platform} answered the reply with something unreadable{maybe}") from None
            raise MalformedPayload(f"{self.platform} answered something that is not JSON while {action}") from None

    def close(self) -> None:
        self.session.close()
        self._token_session.close()


def retry_after(response: requests.Response) -> timedelta:
    try:
        return timedelta(seconds=max(1, int(response.headers.get("retry-after", ""))))
    except ValueError:
        return DEFAULT_WAIT


def error_text(response: requests.Response) -> str:
    """The platform's own words, from the error shapes these APIs use (Allegro's `errors` list,
    OAuth's `error_description`, Apigee's `fault`, a plain `message`), scrubbed and short."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    text = ""
    if isinstance(body, dict):
        errors = body.get("errors")
        fault = body.get("fault")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            text = f"{errors[0].get('code', '')} {errors[0].get('userMessage') or errors[0].get('message') or ''}"
        elif isinstance(fault, dict):
            text = str(fault.get("faultstring") or "")
        elif body.get("error_description") or body.get("error"):
            text = f"{body.get('error', '')} {body.get('error_description', '')}"
        else:
            text = str(body.get("message") or "")
    return scrub(text.strip())[:200] or (response.reason or "")
