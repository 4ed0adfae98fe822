"""SQLModel tables: the one schema every stage, the CLI, the daemon and the web app share.

Times are stored as naive UTC datetimes (SQLite has no time zones); `models.utcnow()` makes them.
JSON columns hold small structured values (scores, flags, findings) that are read whole.
"""
from models.tables import (
    AuditEvent,
    Assessment,
    Decision,
    Draft,
    OutboxReply,
    Post,
    Source,
    User,
    utcnow,
)
from models.enums import DecisionAction, OutboxState, PostKind, PostStatus, Role

__all__ = [
    "AuditEvent", "Assessment", "Decision", "Draft", "OutboxReply", "Post", "Source", "User",
    "utcnow", "DecisionAction", "OutboxState", "PostKind", "PostStatus", "Role",
]
