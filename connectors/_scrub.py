"""Keeping secrets out of every message and log line: the registry of known secrets and
`scrub`, which removes them and anything token-shaped. Apart from `connectors._http` (which
re-exports both) so that code which only scrubs text (quarantine, paging, the outbox, logs)
does not load `requests` with it: the CLI starts faster."""
from __future__ import annotations

import re
import threading
from typing import Optional

_PARAM = re.compile(
    r"(?i)\b(access_token|refresh_token|client_secret|client_id|password|oauth_token|oauth_signature|"
    r"oauth_consumer_key|input_token|appsecret_proof|token)(\"?\s*[=:]\s*\"?)([^&\s\"',}]+)")
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+")
_OAUTH_HEADER = re.compile(r"(?i)\bOAuth\s+oauth_[^'\"\n]*")
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: Optional[str]) -> None:
    """Remember a secret so that `scrub` removes it wherever it turns up."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)


def scrub(text: object) -> str:
    """The text with registered secrets and anything token-shaped replaced by '***'."""
    result = str(text)
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in result:
            result = result.replace(secret, "***")
    result = _OAUTH_HEADER.sub("OAuth ***", result)
    result = _AUTH_HEADER.sub(lambda m: f"{m.group(1)} ***", result)
    return _PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}***", result)
