"""SQLModel tables: the one schema every stage, the CLI, the daemon and the web app share.

Times are aware UTC datetimes; `models.utcnow()` makes them and `models.as_utc()` normalises others.
JSON columns hold small structured values (scores, flags, findings) that are read whole.
"""
from models.tables import (
    AuditEvent,
    Assessment,
    Decision,
    Draft,
    DraftEdit,
    FlagLabel,
    LoginThrottle,
    OutboxReply,
    Post,
    QuarantinedItem,
    SavedReply,
    Source,
    SourceStream,
    User,
    WebSession,
    as_utc,
    utcnow,
)
from models.enums import DecisionAction, OutboxState, PostKind, PostStatus, QuarantineState, Role

__all__ = [
    "AuditEvent", "Assessment", "Decision", "Draft", "DraftEdit", "FlagLabel", "LoginThrottle", "OutboxReply", "Post", "QuarantinedItem", "SavedReply", "Source",
    "SourceStream", "User", "WebSession",
    "utcnow", "as_utc", "DecisionAction", "OutboxState", "PostKind", "PostStatus", "QuarantineState", "Role",
]
