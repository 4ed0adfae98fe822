"""Evidence about a post -> flags with reasons, one severity and one summary line.

Every backend (embedded heads, transformers, keywords only) hands its model scores here, so
the same post gets the same kind of reasons whichever model scored it. The numbers live in
`data/severity.toml`.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Optional, Sequence

from monitor.analysis.base import Flag, PostView
from monitor.analysis.lexicon import Match


def _ramp(value: float, zero_at: float, full_at: float) -> float:
    if full_at <= zero_at:
        return 1.0 if value >= full_at else 0.0
    return min(1.0, max(0.0, (value - zero_at) / (full_at - zero_at)))


def compact_number(value: int) -> str:
    """48000 -> '48k', 1250000 -> '1.2M'."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if value >= 10_000:
        return f"{value // 1000}k"
    if value >= 1000:
        return f"{value / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return str(value)


@dataclass(frozen=True)
class SeverityRules:
    raw: dict[str, Any]

    @classmethod
    def from_toml(cls, text: str) -> "SeverityRules":
        return cls(tomllib.loads(text))

    def section(self, name: str) -> dict[str, Any]:
        return self.raw.get(name, {})


    def to_toml(self) -> str:
        """The rules as TOML (sections of numbers and flags; enough for severity.toml)."""
        def value(v: Any) -> str:
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, (int, float)):
                return repr(round(v, 4) if isinstance(v, float) else v)
            return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

        lines = [f"{key} = {value(v)}" for key, v in self.raw.items() if not isinstance(v, dict)]
        for name, body in self.raw.items():
            if isinstance(body, dict):
                lines += ["", f"[{name}]"] + [f'"{key}" = {value(v)}' for key, v in body.items()]
        return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def default_rules() -> SeverityRules:
    return SeverityRules.from_toml(
        resources.files("monitor.analysis").joinpath("data/severity.toml").read_text("utf-8"))


def _quote(words: Sequence[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def assess_evidence(post: PostView, scores: dict[str, float], matches: Sequence[Match],
                    rules: Optional[SeverityRules] = None,
                    negative_sentence: Optional[str] = None) -> tuple[tuple[Flag, ...], float]:
    """The flags (content by strength, reach last) and the combined severity."""
    rules = rules or default_rules()
    flags: list[Flag] = []
    negative = scores.get("negative", 0.0)
    positive = scores.get("positive", 0.0)

    rule = rules.section("negative")
    if negative >= rule.get("show_from", 0.5):
        weight = rule.get("weight", 0.8) * _ramp(negative, rule.get("zero_at", 0.4), rule.get("full_at", 0.9))
        flags.append(Flag("negative", f"negative, {negative:.2f}", (f"{negative:.2f}",), round(weight, 4)))

    if "anger" in scores:
        anger = scores["anger"]
        rule = rules.section("anger")
        if anger >= rule.get("show_from", 0.5):
            weight = rule.get("weight", 0.6) * _ramp(anger, rule.get("zero_at", 0.35), rule.get("full_at", 0.9))
            flags.append(Flag("anger", f"angry or abusive, {anger:.2f}", (f"{anger:.2f}",), round(weight, 4)))

    worst = scores.get("negative_sentence")
    rule = rules.section("negative_sentence")
    if worst is not None and worst >= rule.get("show_from", 0.7) and worst > negative:
        weight = rule.get("weight", 0.5) * _ramp(worst, rule.get("zero_at", 0.6), rule.get("full_at", 0.95))
        quoted = f": '{_shorten(negative_sentence)}'" if negative_sentence else ""
        flags.append(Flag("negative_sentence", f"negative sentence, {worst:.2f}{quoted}",
                          tuple(s for s in (negative_sentence,) if s), round(weight, 4)))
        positive *= 1.0 - worst          # a furious sentence is not cancelled by polite ones

    damping = rules.section("signals").get("positive_damping", 0.7)
    overrides = rules.section("signal_weights")       # a shop's own fit (model train --from-decisions)
    for match in matches:
        weight = float(overrides.get(match.code, match.weight)) * (1.0 - damping * positive)
        flags.append(Flag(match.code, f"{match.reason}: {_quote(match.evidence)}", match.evidence, round(weight, 4)))

    if post.rating is not None:
        weight = float(rules.section("rating").get(str(post.rating), 0.0))
        if weight > 0:
            flags.append(Flag("rating", f"rated {post.rating}/5", (f"{post.rating}/5",), weight))

    rule = rules.section("reach")
    has_evidence = any(flag.weight > 0 for flag in flags)
    if has_evidence or not rule.get("only_with_other_evidence", True):
        audience = (max(0, post.author_reach) + max(0, post.likes) * rule.get("like_factor", 10)
                    + max(0, post.shares) * rule.get("share_factor", 30) + max(0, post.replies) * rule.get("reply_factor", 10))
        if audience > 0:
            weight = rule.get("weight", 0.5) * _ramp(
                math.log10(1 + audience), math.log10(rule.get("zero_at", 300)), math.log10(rule.get("full_at", 100000)))
            if weight > 0:
                flags.append(Flag("reach", _reach_reason(post), (str(audience),), round(weight, 4)))

    # what the post says first (strongest first), then who can see it
    flags.sort(key=lambda flag: (flag.code == "reach", -flag.weight))
    remaining = 1.0
    for flag in flags:
        remaining *= 1.0 - min(1.0, max(0.0, flag.weight))
    return tuple(flags), round(1.0 - remaining, 4)


def _reach_reason(post: PostView) -> str:
    parts = []
    if post.author_reach:
        parts.append(f"author has {compact_number(post.author_reach)} followers")
    engagement = [f"{compact_number(n)} {name}" for n, name in
                  ((post.likes, "likes"), (post.shares, "shares"), (post.replies, "replies")) if n]
    if engagement:
        parts.append(", ".join(engagement))
    return "; ".join(parts) or "wide reach"


def summarise(flags: Sequence[Flag]) -> str:
    return "; ".join(flag.reason for flag in flags)


SENTIMENTS = ("negative", "neutral", "positive")


def build_analysis(post: PostView, *, language: Optional[str], scores: dict[str, float],
                   matches: Sequence[Match], flag_threshold: float, model_version: str,
                   rules: Optional[SeverityRules] = None, extra: Optional[dict[str, Any]] = None):
    """One `Analysis` from model scores plus lexicon matches: the same for every backend."""
    from monitor.analysis.base import Analysis

    scores = {name: round(float(value), 4) for name, value in scores.items()}
    sentiment = max(SENTIMENTS, key=lambda name: scores.get(name, 0.0))
    flags, severity = assess_evidence(post, scores, matches, rules, (extra or {}).get("negative_sentence"))
    return Analysis(
        language=language, sentiment=sentiment, scores=scores, flags=flags, severity=severity,
        flagged=severity >= flag_threshold, model_version=model_version, summary=summarise(flags),
        extra=dict(extra or {}),
    )
