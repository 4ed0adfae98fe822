"""Fixtures: a running fake of every platform on 127.0.0.1, connectors built from settings the way
the application builds them, and a guard that fails any test trying to leave this machine or
to sleep inside a client library."""
from __future__ import annotations

import json
import socket
import time
from typing import Any, Callable, Optional

import pytest

from connectors import registry
from connectors.base import CollectedItem, Connector, ReplyTarget
from monitor.fakes import FakePlatforms
from monitor.fakes.demo import demo_secret_env, demo_sources
from monitor.settings import SecretStore, Settings

PLATFORMS = ["x", "facebook", "instagram", "reddit", "google_reviews", "allegro", "vk", "youtube", "trustpilot"]
KIND = {"x": "mention", "facebook": "comment", "instagram": "comment", "reddit": "comment",
        "google_reviews": "review", "allegro": "review", "vk": "comment", "youtube": "comment", "trustpilot": "review"}
# Platforms whose short-lived access token is renewed from a refresh token by the connector.
RENEWING = ["reddit", "google_reviews", "allegro", "youtube", "trustpilot"]
# The stream each platform reads first (where an unreadable item would once have stopped the rest).
FIRST_STREAM = {"x": "mentions", "facebook": "posts", "instagram": "comments", "reddit": "mentions",
                "google_reviews": "reviews", "allegro": "ratings", "vk": "comments", "youtube": "comments",
                "trustpilot": "reviews"}
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Any connection or name lookup beyond this machine fails the test."""
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in LOOPBACK and not str(host).startswith("/"):
            raise AssertionError(f"test tried to connect to {host!r}")
        return real_connect(sock, address)

    def lookup(host, *args, **kwargs):
        if host not in LOOPBACK and host is not None:
            raise AssertionError(f"test tried to resolve {host!r}")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)


@pytest.fixture(autouse=True)
def no_long_sleep(monkeypatch):
    """Client libraries must not sleep on rate limits or retries (the daemon moves on instead).
    Yields the seconds slept so far (a list of each sleep), for tests that count them."""
    real_sleep = time.sleep
    slept: list[float] = []

    def sleep(seconds):
        if seconds > 0.5:
            raise AssertionError(f"a client library tried to sleep {seconds:.1f} s")
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    yield slept


@pytest.fixture
def fake():
    with FakePlatforms.start(page_size=2) as platforms:
        yield platforms


def monitor_on(base_url: str, make_settings: Callable[..., Any]) -> Any:
    """The application (stand-in analysis, real connectors) with one source per platform of the
    fake at `base_url`; the caller closes it."""
    from monitor.service import Monitor
    from tests.core.support import BACKENDS
    sources = demo_sources(base_url)
    toml = '[app]\nuser = "anna"\n'
    for source in sources:
        toml += "\n[[sources]]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in source.items())
    env = demo_secret_env(sources)
    monitor = Monitor(make_settings(toml, env), environ=env, **BACKENDS)
    monitor.init()
    return monitor


@pytest.fixture
def shop(fake, make_settings):
    monitor = monitor_on(fake.base_url, make_settings)
    yield monitor
    monitor.close()


@pytest.fixture
def connect(fake) -> Callable[..., Connector]:
    made: list[Connector] = []

    def build(platform: str, **overrides: Any) -> Connector:
        source = next(s for s in demo_sources(fake.base_url, fake.brand) if s["platform"] == platform)
        options = {k: v for k, v in source.items() if k not in ("name", "platform")}
        options.update(overrides)
        secrets = SecretStore(Settings(), environ=demo_secret_env([source]))
        connector = registry()[platform].from_settings(source["name"], options, secrets)
        made.append(connector)
        return connector

    yield build
    for connector in made:
        connector.close()


class Collector:
    """What the application's collector does, in a few lines: store each page, then take the
    bookmark it carries (one transaction each in the real thing)."""

    def __init__(self, connector: Connector):
        self.connector = connector
        self.items: dict[str, CollectedItem] = {}
        self.bookmark: Optional[str] = None

    def run(self) -> list[CollectedItem]:
        """Collect once; returns the items new to the store. Errors propagate (after storing)."""
        new = []
        for page in self.connector.collect(self.bookmark):
            for item in page.items:
                if item.external_id not in self.items:
                    new.append(item)
                self.items[item.external_id] = item
            if page.bookmark is not None:
                self.bookmark = page.bookmark
        return new


def seed(fake: FakePlatforms, platform: str, count: int, *, start: float = 60, tag: str = "post") -> list[str]:
    """`count` posts naming the brand, one minute apart, the newest last; returns their ids."""
    ids = []
    for n in range(count):
        text = f"@DemoShop {tag} {n}: where is my parcel? DemoShop please answer"
        ids.append(fake.add_post(platform, text, kind=KIND[platform], author=f"customer{n}",
                                 minutes_ago=start - n, rating=(n % 5) + 1, likes=n))
    return ids


def target_of(item: CollectedItem) -> ReplyTarget:
    return ReplyTarget(item.external_id, item.kind, item.thread_id, item.parent_id, dict(item.extra))
