"""Logging as an operator reads it: one line per event, each with a UTC timestamp, the level and
where it comes from. `configure` is the one place that sets it up (the CLI calls it once per
command); `formatter` is the one place that decides what a line looks like.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Iterable

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose INFO lines only repeat ours (migrations run at every start; HTTP connections).
QUIET = ("alembic", "urllib3", "httpx", "prawcore")


def formatter(kind: str = "text") -> logging.Formatter:
    """The formatter for `[app] log_format`: "text" (ISO 8601 UTC timestamps) or "json" (one
    object per line, monitor/logformat.py)."""
    if kind == "json":
        from monitor.logformat import JsonFormatter
        return JsonFormatter()
    text = logging.Formatter(TEXT_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
    text.converter = time.gmtime
    return text


def configure(level: str = "INFO", kind: str = "text") -> None:
    """Log to stderr at `level`. A root logger that already has handlers (a test harness, an
    embedding application) is left as it is."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(kind))
        root.addHandler(handler)
        root.setLevel(level)
    elif kind == "json":  # log shippers read every line as JSON, whoever set the handlers up
        for handler in root.handlers:
            handler.setFormatter(formatter(kind))
    for name in QUIET:
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)


def start_line(version: str, database: Any, sources: Iterable[Any], worker: str) -> str:
    """What a daemon says when it starts: enough to tell, from a log alone, which build ran
    against which database (never its password) and which sources."""
    names = [f"{s.name} ({s.platform})" for s in sources if getattr(s, "enabled", True)]
    return (f"monitor {version} starting as {worker}: database {database!r}; "
            f"{len(names)} source(s): {', '.join(names) or 'none'}")


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed
    try:
        return installed("reply-monitor")
    except PackageNotFoundError:
        return "unknown"
