"""The analysis contract: what the pipeline hands to analysis and what it gets back.

`Analyser.assess` takes a batch (never one post at a time: backends batch their model calls)
and returns one `Analysis` per post, in order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol, Sequence


@dataclass(frozen=True)
class PostView:
    """The parts of a stored post that analysis and drafting may look at."""

    text: str
    platform: str = ""
    kind: str = "comment"
    author_handle: str = ""
    author_reach: int = 0
    likes: int = 0
    shares: int = 0
    replies: int = 0
    rating: Optional[int] = None
    language: Optional[str] = None   # when already known


@dataclass(frozen=True)
class Flag:
    """One reason a post matters, readable at a glance: "threatens court: 'pozew'"."""

    code: str                        # e.g. negative, anger, legal_threat, fraud, reach
    reason: str
    evidence: tuple[str, ...] = ()
    weight: float = 0.0              # contribution to severity

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "evidence": list(self.evidence), "weight": self.weight}


@dataclass(frozen=True)
class Analysis:
    language: Optional[str]
    sentiment: str                   # negative / neutral / positive
    scores: dict[str, float]         # e.g. {"negative": .9, "neutral": .07, "positive": .03, "anger": .6}
    flags: tuple[Flag, ...]
    severity: float                  # 0..1
    flagged: bool
    model_version: str
    summary: str = ""                # "negative, 0.93; threatens court: 'pozew'; author has 48k followers"
    topic: Optional[str] = None      # set when the analyser already knows it (drafting may reuse)
    extra: dict[str, Any] = field(default_factory=dict)


class Analyser(Protocol):
    version: str

    def assess(self, posts: Sequence[PostView]) -> list[Analysis]: ...
