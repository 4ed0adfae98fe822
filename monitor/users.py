"""People who sign in to the web app: create, list, disable, check a password.

Passwords are hashed with Argon2id (argon2-cffi, OWASP's first choice); the hash parameters
travel inside the hash, so stronger defaults later re-hash on the next sign-in. The CLI's
`monitor users ...` and the web app's sign-in both come through here.
"""
from __future__ import annotations

import re
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import update
from sqlmodel import Session, col, select

from models import Role, User, WebSession, utcnow
from monitor import audit
from monitor.errors import Conflict, NotFound

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024            # argon2 would take any length; a bound keeps sign-in cheap to refuse
_hasher = PasswordHasher()
# Verified against when the user is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only here to spend the same time")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Conflict(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Conflict(f"the password is too long (more than {MAX_PASSWORD} characters)")


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise Conflict(f"unknown role {value!r}; use one of {', '.join(r.value for r in Role)}") from None


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def add_user(session: Session, username: str, password: str, role: str, *, actor: str) -> User:
    """Create a user; refuses a taken name, an odd name, an unknown role and a short password."""
    if not USERNAME.match(username or ""):
        raise Conflict("a user name is 1-64 letters, digits or . _ @ - (starting with a letter or digit)")
    parsed = parse_role(role)
    check_new_password(password)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise Conflict(f"the user {username!r} exists already")
    user = User(username=username, password_hash=hash_password(password), role=parsed.value)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.add", None, username=username, role=parsed.value)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.username))))


def end_sessions(session: Session, user: User, why: str) -> None:
    """End every web session of `user` (re-enabling the user later does not revive them)."""
    session.execute(update(WebSession).where(col(WebSession.user_id) == user.id, col(WebSession.ended_at).is_(None))
                    .values(ended_at=utcnow(), ended_why=why))


def set_active(session: Session, username: str, active: bool, *, actor: str) -> User:
    """Disable (or enable again) a user; a disabled user's open sessions end at once, for good."""
    user = get_user(session, username)
    if not active:
        end_sessions(session, user, "disabled")
    if user.active != active:
        user.active = active
        session.add(user)
        audit.record(session, actor, "user.enable" if active else "user.disable", None, username=username)
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> User:
    """A new password; every session signed in with the old one ends."""
    check_new_password(password)
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    session.add(user)
    end_sessions(session, user, "password")
    audit.record(session, actor, "user.password", None, username=username)
    return user


def authenticate(session: Session, username: str, password: str) -> Optional[User]:
    """The active user with this name and password, or None (same cost for every kind of failure)."""
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    candidate = user.password_hash if user is not None else _DUMMY_HASH
    if not password or len(password) > MAX_PASSWORD:
        return None
    try:
        _hasher.verify(candidate, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user
