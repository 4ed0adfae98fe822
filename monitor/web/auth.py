"""Who is signed in, and proof that a form came from our own page.

Sessions are rows of `websession`; the signed cookie (itsdangerous, through Starlette's
SessionMiddleware: HttpOnly, SameSite=Lax, Secure when `[web] secure_cookies`) carries only the
session's random token and the CSRF token. Every request reads the row and the user, so
signing out, disabling the user and a password change end a session at once (an old cookie is
worth nothing), and `[web] session_hours` after sign-in it ends however often it is used. Each
sign-in makes a new token.

Failed sign-ins are throttled in the database (`LoginThrottle`), per client address and per user
name, by a delay that doubles with each failure: a guesser is slowed without a lock-out of the
real person, whose wait for their name is capped at `NAME_DELAY_CAP`.

The signing key comes from the secret `web.secret_key` (environment or secrets file); when it
is absent it is generated once and kept in a file readable only by its owner, beside the
database: never in settings.toml.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Optional

from fastapi import Request
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from models import Role, User, WebSession, as_utc, utcnow
from models import LoginThrottle as LoginThrottleRow
from monitor.decisions import Actor
from monitor.settings import SecretStore, Settings, SettingsError

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


def _token_id(token: str) -> str:
    """The row id of a session token: its SHA-256, so the table alone cannot sign anyone in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign_in(db_session: Session, request: Request, user: User, hours: int) -> None:
    """A fresh session row and cookie (a new CSRF token too: nothing from before is carried over)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db_session.add(WebSession(id=_token_id(token), user_id=user.id, created_at=now, expires_at=now + timedelta(hours=hours),
                              address=client_address(request)))
    request.session.clear()
    request.session.update({"sid": token, "csrf": secrets.token_urlsafe(32)})


def sign_out(db_session: Optional[Session], request: Request, why: str = "sign_out") -> None:
    token = request.session.get("sid")
    if db_session is not None and isinstance(token, str):
        db_session.execute(update(WebSession).where(col(WebSession.id) == _token_id(token),
                                                    col(WebSession.ended_at).is_(None))
                           .values(ended_at=utcnow(), ended_why=why))
    request.session.clear()


def session_user(db_session: Session, request: Request) -> Optional[WebUser]:
    """The signed-in WebUser, or None when the session is unknown, ended, past its lifetime, or
    its user is gone or disabled."""
    token = request.session.get("sid")
    if not isinstance(token, str) or len(token) > 100:
        return None
    row = db_session.get(WebSession, _token_id(token))
    if row is None or row.ended_at is not None:
        return None
    if as_utc(row.expires_at) <= utcnow():
        row.ended_at, row.ended_why = utcnow(), "expired"
        db_session.add(row)
        return None
    user = db_session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    try:
        role = Role(user.role)
    except ValueError:
        return None
    return WebUser(id=user.id, name=user.username, role=role)


def client_address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:100]


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
FREE_FAILURES = 3                 # failures per key before any delay
FIRST_DELAY = 1.0                 # seconds after the first failure past the free ones; doubles each time
NAME_DELAY_CAP = 30.0             # a user name waits at most this long: its owner is never locked out
ADDRESS_DELAY_CAP = 15 * 60.0     # one address guessing many names waits up to this long
FORGET_AFTER = timedelta(hours=1)  # a key with no failure for this long starts again from zero


class LoginThrottle:
    """Failed sign-ins per key ("addr:10.0.0.7", "name:anna"), kept in the database so that a
    restart does not reset them. Past `FREE_FAILURES` each failure doubles the wait before that
    key's next attempt is even checked (a 429 with the wait). Argon2 already makes each guess
    slow; this makes guessing many slower."""

    def __init__(self, clock=utcnow):
        self.clock = clock

    @staticmethod
    def keys(address: str, username: str) -> tuple[str, str]:
        return f"addr:{address}"[:200], f"name:{username.lower()}"[:200]

    def wait_seconds(self, session: Session, *keys: str) -> float:
        now = self.clock()
        waits = [(as_utc(row.next_attempt_at) - now).total_seconds()
                 for row in session.exec(select(LoginThrottleRow).where(col(LoginThrottleRow.key).in_(keys)))
                 if row.next_attempt_at is not None]
        return max([0.0, *waits])

    def failed(self, session: Session, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            row = session.get(LoginThrottleRow, key)
            if row is None:
                row = LoginThrottleRow(key=key, failures=0, last_failure_at=now)
            elif as_utc(row.last_failure_at) < now - FORGET_AFTER:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            over = row.failures - FREE_FAILURES
            cap = NAME_DELAY_CAP if key.startswith("name:") else ADDRESS_DELAY_CAP
            row.next_attempt_at = now + timedelta(seconds=min(cap, FIRST_DELAY * 2 ** (over - 1))) if over > 0 else None
            session.add(row)

    def succeeded(self, session: Session, name_key: str) -> None:
        """The name's own counter ends; the address keeps its count (a guesser with an account of
        their own cannot wipe it by signing in between guesses)."""
        row = session.get(LoginThrottleRow, name_key)
        if row is not None:
            session.delete(row)
