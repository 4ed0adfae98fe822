"""Who is signed in, and proof that a form came from our own page.

Sessions live in a signed cookie (itsdangerous, through Starlette's SessionMiddleware):
HttpOnly, SameSite=Lax, Secure when `[web] secure_cookies`. The cookie holds the user id, a
fingerprint of the password hash (a changed password ends old sessions) and the CSRF token;
every request reloads the user, so a disabled user is out at once.

The signing key comes from the secret `web.secret_key` (environment or secrets file); when it
is absent it is generated once and kept in a file readable only by its owner, beside the
database: never in settings.toml.
"""
from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from fastapi import Request
from sqlalchemy.engine import make_url

from models import Role, User
from monitor.decisions import Actor
from monitor.settings import SecretStore, Settings, SettingsError
from monitor.users import session_stamp

log = logging.getLogger(__name__)
MIN_KEY_CHARS = 32
KEY_FILE_NAME = "monitor-session.key"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


# ---- the signing key -------------------------------------------------------------------------
def key_file_path(settings: Settings) -> Optional[Path]:
    """Where a generated key is kept: [web] session_key_file, else beside the SQLite file, else
    beside settings.toml (or in the working folder). None for an in-memory database."""
    if settings.web.session_key_file:
        return Path(settings.web.session_key_file).expanduser()
    url = make_url(settings.app.database_url if "://" in settings.app.database_url else "sqlite://")
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file::memory:"):
            return None
        database = Path(url.database).expanduser()
        return database.with_name(database.name + ".session-key")
    base = Path(settings.path).parent if settings.path else Path.cwd()
    return base / KEY_FILE_NAME


def session_key(settings: Settings, store: SecretStore) -> str:
    value = store.get("web", "secret_key")
    if value:
        if len(value) < MIN_KEY_CHARS:
            raise SettingsError("secret web.secret_key", f"too short: use at least {MIN_KEY_CHARS} random characters")
        return value
    path = key_file_path(settings)
    if path is None:
        log.warning("no web.secret_key and an in-memory database: sessions end when the server stops")
        return secrets.token_urlsafe(48)
    return _read_or_create_key(path)


def _read_or_create_key(path: Path) -> str:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise SettingsError("[web] session_key_file", f"cannot create {path}: {exc.strerror}") from None
    else:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        log.info("generated a session signing key in %s", path)
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError("[web] session_key_file", f"cannot read {path} ({type(exc).__name__})") from None
    if len(value) < MIN_KEY_CHARS:
        raise SettingsError("[web] session_key_file", f"{path} holds a key shorter than {MIN_KEY_CHARS} characters")
    return value


# ---- the signed-in person ------------------------------------------------------------------------
@dataclass(frozen=True)
class WebUser:
    id: int
    name: str
    role: Role

    @property
    def actor(self) -> Actor:
        return Actor(name=self.name, role=self.role)

    @property
    def can_decide(self) -> bool:
        return self.role in (Role.approver, Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def sign_in(request: Request, user: User) -> None:
    """A fresh session (a new CSRF token too: nothing from before sign-in is carried over)."""
    request.session.clear()
    request.session.update({"uid": user.id, "stamp": session_stamp(user), "csrf": secrets.token_urlsafe(32),
                            "at": int(time.time())})


def sign_out(request: Request) -> None:
    request.session.clear()


def session_user(request: Request, user: Optional[User]) -> Optional[WebUser]:
    """The WebUser for the session's user row, or None when it is gone, disabled or re-keyed."""
    if user is None or not user.active or not hmac.compare_digest(str(request.session.get("stamp", "")),
                                                                  session_stamp(user)):
        return None
    try:
        role = Role(user.role)
    except ValueError:
        return None
    return WebUser(id=user.id, name=user.username, role=role)


# ---- CSRF -------------------------------------------------------------------------------------
def csrf_token(request: Request) -> str:
    """The session's token (made on first use, so the sign-in form has one too)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_valid(request: Request) -> bool:
    expected = request.session.get("csrf")
    if not expected:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return bool(sent) and hmac.compare_digest(sent, expected)


# ---- sign-in throttle ---------------------------------------------------------------------------
class LoginThrottle:
    """At most `attempts` failed sign-ins per user name (and per client address) in `window`
    seconds; bounded memory. Argon2 already makes each guess slow; this makes guessing slower."""

    def __init__(self, attempts: int = 5, window: float = 300.0, capacity: int = 10_000):
        self.attempts, self.window, self.capacity = attempts, window, capacity
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        return [t for t in self._failures.get(key, []) if now - t < self.window]

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.attempts for key in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.capacity:
                self._failures = {k: v for k, v in self._failures.items() if self._recent(k, now)}
                if len(self._failures) >= self.capacity:
                    self._failures.clear()
            for key in keys:
                self._failures[key] = self._recent(key, now) + [now]

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
