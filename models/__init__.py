"""SQLModel tables: the one schema every stage, the CLI, the daemon and the web app share.

Times are aware UTC datetimes; `models.utcnow()` makes them and `models.as_utc()` normalises others.
JSON columns hold small structured values (scores, flags, findings) that are read whole.
"""
from models.tables import (
    AuditEvent,
    Assessment,
    Decision,
    Draft,
    LoginThrottle,
    OutboxReply,
    Post,
    Source,
    User,
    WebSession,
    as_utc,
    utcnow,
)
from models.enums import DecisionAction, OutboxState, PostKind, PostStatus, Role

__all__ = [
    "AuditEvent", "Assessment", "Decision", "Draft", "OutboxReply", "Post", "Source", "User", "WebSession", "LoginThrottle",
    "utcnow", "as_utc", "DecisionAction", "OutboxState", "PostKind", "PostStatus", "Role",
]
