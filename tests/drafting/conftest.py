"""Shared fixtures for the drafting tests: one settings object, one drafter (the encoder and the
topic examples are embedded once per session), the demo posts."""
from __future__ import annotations

import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from monitor.analysis.base import Analysis, PostView
from monitor.drafting import build_drafter, build_safety_checker
from monitor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEMO_POSTS = ROOT / "monitor" / "data" / "demo_posts.toml"
HOLDOUT = Path(__file__).parent / "data" / "topic_holdout.csv"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


# A Wednesday, 11:00 in Warsaw: during opening hours, so holding replies say "today by 17:00".
CLOCK = datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def drafter(settings):
    drafter = build_drafter(settings)
    drafter.clock = lambda: CLOCK
    return drafter


@pytest.fixture(scope="session")
def checker(settings):
    return build_safety_checker(settings)


def _analysis_for(language, negative: bool, severity: float = 0.0, flags=()) -> Analysis:
    return Analysis(language=language, sentiment="negative" if negative else "neutral", scores={}, flags=tuple(flags),
                    severity=severity or (0.8 if negative else 0.1), flagged=negative, model_version="test")


@pytest.fixture(scope="session")
def analysis_for():
    """analysis_for(language, negative, severity=0, flags=()) -> Analysis, as an analyser would say."""
    return _analysis_for


@pytest.fixture(scope="session")
def demo_posts() -> list[dict]:
    if not DEMO_POSTS.exists():
        pytest.skip("monitor/data/demo_posts.toml is not there yet")
    return tomllib.loads(DEMO_POSTS.read_text("utf-8"))["posts"]


def _post_view(post: dict) -> PostView:
    return PostView(text=post["text"], platform=post["platform"], kind=post.get("kind", "comment"),
                    author_handle=post.get("author", ""), author_reach=post.get("reach", 0),
                    rating=post.get("rating"), language=post["lang"])


@pytest.fixture(scope="session")
def post_view():
    """post_view(demo_post_dict) -> PostView."""
    return _post_view
