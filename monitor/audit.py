"""The audit log: append-only events, written in the same transaction as what they describe."""
from __future__ import annotations

from typing import Any, Optional

from sqlmodel import Session

from models import AuditEvent


def record(session: Session, actor: str, action: str, post_id: Optional[int] = None, **details: Any) -> AuditEvent:
    event = AuditEvent(actor=actor, action=action, post_id=post_id, details=_jsonable(details))
    session.add(event)
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
