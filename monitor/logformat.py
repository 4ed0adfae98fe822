"""`[app] log_format = "json"`: one JSON object per log line, for log shippers (journald, Loki,
Elasticsearch, CloudWatch).

Each line carries the time, level, logger and message, and the post id, source and worker where
the code that logged knows them: set for a stretch of work with `log_context(...)`, or per call
with `extra={"post_id": ...}`. Every message and traceback goes through the connectors' scrubber
first, so a secret that reaches a log call still never reaches the line.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Iterator

from connectors._scrub import scrub

FIELDS = ("post_id", "source", "worker")
_context: ContextVar[dict[str, Any]] = ContextVar("monitor_log_context", default={})


@contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Every line logged inside (in this thread or task) names these values (None: unknown)."""
    token = _context.set({**_context.get(), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        known = _context.get()
        for name in FIELDS:
            value = getattr(record, name, None)
            value = known.get(name) if value is None else value
            if value is not None:
                line[name] = value if isinstance(value, int) else scrub(value)
        if record.exc_info:
            line["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)
