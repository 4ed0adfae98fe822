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


class TooLong(MonitorError):
    """A text field is longer than the service accepts (usage error: exit code 2, HTTP 400)."""

    exit_code = 2


class NeedsSecondApprover(Conflict):
    """Four-eyes: the person who wrote the text cannot override these findings alone."""

    def __init__(self, findings: Sequence[dict[str, Any]], author: str):
        self.findings = list(findings)
        self.author = author
        self.draft_id: int | None = None
        super().__init__(self.describe())

    def describe(self) -> str:
        codes = ", ".join(sorted({str(f["code"]) for f in self.findings}))
        saved = f" Your text is saved as draft {self.draft_id};" if self.draft_id else ""
        return (f"{codes} cannot be overridden by the person who wrote the text ({self.author}).{saved} "
                "a second approver must read it and confirm the override.")


class Forbidden(MonitorError):
    exit_code = 6
