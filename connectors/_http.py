"""HTTP plumbing the connectors share: where requests go, how long they may take, and keeping
secrets out of every message and log line.

The client libraries have no host setting (tweepy) or only a process-wide one (facebook-sdk),
so each connector gives its library a `requests.Session` with `PlatformAdapter` mounted: it
sends requests for the real API host to the configured `base_url` (a local fake, a proxy),
puts a timeout on every request (the libraries set none), and remembers the last response's
headers (facebook-sdk drops them, but Graph's throttling headers say when to come back).
"""
from __future__ import annotations

import logging
from typing import Iterable, Optional

import requests
from requests.adapters import HTTPAdapter

from connectors._scrub import register_secret, scrub

DEFAULT_TIMEOUT = 20.0

# Loggers of the client libraries that write URLs, headers or bodies at DEBUG level.
LIBRARY_LOGGERS = (
    "tweepy.client", "requests_oauthlib.oauth1_auth", "oauthlib.oauth1.rfc5849",
    "urllib3.connectionpool", "prawcore", "prawcore.sessions", "prawcore.auth", "praw",
    "google.auth.transport.requests", "google.oauth2._client", "google.auth._default",
    "facebook",
)

_installed = False


def protect(*secrets: Optional[str]) -> None:
    """Register a connector's secrets and make sure the client libraries' logs are scrubbed."""
    for value in secrets:
        register_secret(value)
    install_log_scrubbing()


class _ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: drop the arguments, keep the record
            message = str(record.msg)
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def install_log_scrubbing(extra: Iterable[str] = ()) -> None:
    """Scrub the DEBUG output of the client libraries (tweepy logs the bearer header, urllib3
    logs Graph URLs with `access_token=`). A logger's filter sees only its own records, so each
    library logger is named here."""
    global _installed
    names = list(extra) + ([] if _installed else list(LIBRARY_LOGGERS))
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _ScrubFilter) for f in logger.filters):
            logger.addFilter(_ScrubFilter())
    _installed = True


class PlatformAdapter(HTTPAdapter):
    """Rewrites `real_base` to `base_url`, adds a timeout, remembers the last response headers."""

    def __init__(self, real_base: str, base_url: str, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(max_retries=0)
        self.real_base = real_base.rstrip("/")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.last_headers: Optional[requests.structures.CaseInsensitiveDict] = None
        self.requests_sent = 0

    def send(self, request, **kwargs):  # type: ignore[override]
        if self.base_url != self.real_base and request.url.startswith(self.real_base + "/"):
            request.url = self.base_url + request.url[len(self.real_base):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        self.requests_sent += 1
        self.last_headers = None
        response = super().send(request, **kwargs)
        self.last_headers = response.headers
        return response


def platform_session(real_base: str, base_url: str, timeout: float = DEFAULT_TIMEOUT,
                     session: Optional[requests.Session] = None) -> tuple[requests.Session, PlatformAdapter]:
    """A session (or the given one) whose every request goes through a `PlatformAdapter`."""
    session = session or requests.Session()
    adapter = PlatformAdapter(real_base, base_url, timeout)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, adapter
