"""People who sign in to the web app: create, list, disable, check a password.

Passwords are hashed with Argon2id (argon2-cffi, OWASP's first choice); the hash parameters
travel inside the hash, so stronger defaults later re-hash on the next sign-in. The CLI's
`monitor users ...` and the web app's sign-in both come through here.
"""
from __future__ import annotations

import hashlib
import re
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from models import Role, User
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


def set_active(session: Session, username: str, active: bool, *, actor: str) -> User:
    """Disable (or enable again) a user; a disabled user's open sessions stop working at once."""
    user = get_user(session, username)
    if user.active != active:
        user.active = active
        session.add(user)
        audit.record(session, actor, "user.enable" if active else "user.disable", None, username=username)
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> User:
    """A new password; sessions signed in with the old one end (see `session_stamp`)."""
    check_new_password(password)
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    session.add(user)
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


def session_stamp(user: User) -> str:
    """A short fingerprint of the password hash, kept in the session cookie: changing the
    password (or re-hashing it) invalidates every session signed in before."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]
