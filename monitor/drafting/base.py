"""The drafting contract: a suggested reply for a post, and the public-safety findings on a text."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol, Sequence

from monitor.analysis.base import Analysis, PostView


@dataclass(frozen=True)
class Finding:
    """Something in a reply text that must not go out in public as it is."""

    code: str                        # personal_data, blame, deflection, hostile, liability, promise,
                                     # link, length, language, injection, empty ...
    reason: str                      # readable: "phone number '+48 600 ...' in a public reply"
    evidence: str = ""
    severity: str = "block"          # block (needs override with a reason) / warn

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "evidence": self.evidence, "severity": self.severity}


@dataclass(frozen=True)
class SafetyContext:
    """What the check needs to know about where the text goes."""

    post_text: str = ""
    post_language: Optional[str] = None
    platform: str = ""
    author_handle: str = ""
    max_length: Optional[int] = None


@dataclass(frozen=True)
class DraftSuggestion:
    text: str                        # may be "" for do_not_reply
    language: Optional[str]
    topic: str
    strategy: str                    # four_step / holding / thanks / answer / calm_once / do_not_reply / escalate
    findings: tuple[Finding, ...] = ()
    escalate_to: Optional[str] = None
    goodwill: Optional[str] = None
    notes: tuple[str, ...] = ()
    backend: str = ""


class Drafter(Protocol):
    def draft(self, posts: Sequence[PostView], analyses: Sequence[Analysis]) -> list[DraftSuggestion]: ...


class SafetyChecker(Protocol):
    def check(self, text: str, context: SafetyContext) -> list[Finding]: ...
