"""Errors the service layer raises for people, each with the exit code scripts can rely on.

0 success; 1 some work failed (details printed); 2 settings or usage error; 3 not found;
4 conflict (already decided, a colleague holds the post, findings need an override);
5 database unavailable; 6 not allowed for this role.
"""
from __future__ import annotations

from typing import Any, Sequence


class MonitorError(Exception):
    exit_code = 1


class SettingsError(Exception):
    """A settings problem, worded for the person who edits settings.toml (exit code 2)."""

    exit_code = 2

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class DatabaseError(Exception):
    """The database cannot be used (unreachable, locked, not writable); message names the cause."""


class NotFound(MonitorError):
    exit_code = 3


class Conflict(MonitorError):
    exit_code = 4


class NeedsOverride(Conflict):
    """The text has public-safety findings: approving it needs an explicit override with a reason."""

    def __init__(self, findings: Sequence[dict[str, Any]]):
        reasons = "; ".join(f"{f['code']}: {f['reason']}" for f in findings)
        super().__init__(f"the reply has public-safety findings ({reasons}); fix the text, or approve with an "
                         "override and a reason")
        self.findings = list(findings)


class Forbidden(MonitorError):
    exit_code = 6
