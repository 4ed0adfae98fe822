"""Rate limits and expired tokens: the right error, no sleeping, the bookmark untouched, and the
next run after recovery collects everything."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import AuthExpired, ConnectorError, RateLimited
from tests.connectors.conftest import FIRST_STREAM, PLATFORMS, RENEWING, Collector, seed

# How long each fake platform asks to wait (X: reset header 900 s; Graph: 12 min in the usage
# header; Reddit: retry-after 120 s; Google, Allegro, Trustpilot: no hint, a one-minute default;
# YouTube: rateLimitExceeded, a minute; VK: error 6, too many requests per second, five seconds).
EXPECTED_WAIT = {"x": 900, "facebook": 720, "instagram": 720, "reddit": 120, "google_reviews": 60, "allegro": 60,
                 "vk": 5, "youtube": 60, "trustpilot": 60}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rate_limit_reports_when_to_come_back_and_loses_nothing(fake, connect, platform, no_long_sleep):
    ids = seed(fake, platform, 5)
    collector = Collector(connect(platform))
    fake.fail_next(platform, "rate_limit")

    with pytest.raises(RateLimited) as raised:
        collector.run()

    assert sum(no_long_sleep) < 0.5                # reported, not slept through (counted, not timed)
    wait = (raised.value.until - datetime.now(UTC)).total_seconds()
    assert EXPECTED_WAIT[platform] - 30 < wait < EXPECTED_WAIT[platform] + 5
    assert collector.bookmark is None
    collector.connector = connect(platform)  # later (a connector remembers the window it was given)
    assert sorted(i.external_id for i in collector.run()) == sorted(ids)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_expired_token_asks_for_reauthorisation_and_loses_nothing(fake, connect, platform):
    ids = seed(fake, platform, 3)
    collector = Collector(connect(platform))
    collector.run()
    before = collector.bookmark
    later = seed(fake, platform, 3, start=10, tag="later")
    fake.fail_next(platform, "auth_expired", times=3)

    with pytest.raises(AuthExpired) as raised:
        collector.run()

    assert "expired" in str(raised.value) or "revoked" in str(raised.value)
    assert collector.bookmark == before
    fake.clear_failures()  # a person set a new token
    assert sorted(i.external_id for i in collector.run()) == sorted(later)
    assert set(ids) | set(later) <= set(collector.items)


@pytest.mark.parametrize("platform", RENEWING)
def test_an_expired_access_token_is_renewed_without_bothering_anyone(fake, connect, platform):
    seed(fake, platform, 3)
    collector = Collector(connect(platform))
    collector.run()
    later = seed(fake, platform, 2, start=10, tag="later")
    fake.fail_next(platform, "auth_expired", times=1, on="read")  # one 401; the refresh token still works

    assert sorted(i.external_id for i in collector.run()) == sorted(later)


def test_reddit_spent_request_window_is_reported_not_slept(fake, connect):
    seed(fake, "reddit", 5)
    connector = connect("reddit")
    # Reddit said: no requests left for 200 seconds (prawcore alone would sleep that long).
    connector._guard.paused_until = datetime.now(UTC) + timedelta(seconds=200)
    with pytest.raises(RateLimited) as raised:
        Collector(connector).run()
    assert 190 < (raised.value.until - datetime.now(UTC)).total_seconds() <= 200
    assert fake.requests("reddit") == []


def test_reddit_exhausted_ratelimit_headers_pause_the_source(fake, connect):
    seed(fake, "reddit", 5)
    collector = Collector(connect("reddit"))
    fake.fail_next("reddit", "rate_limit", after=1)  # 429 with x-ratelimit-remaining: 0
    with pytest.raises(RateLimited):
        collector.run()
    fake.clear_failures()
    with pytest.raises(RateLimited):  # still inside the window Reddit named: not even asked
        collector.run()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_network_failure_is_a_clear_connector_error(fake, connect, platform):
    seed(fake, platform, 2)
    collector = Collector(connect(platform))
    fake.fail_next(platform, "disconnect", times=3)
    with pytest.raises(ConnectorError) as raised:
        collector.run()
    assert type(raised.value) is ConnectorError
    # The first stream did not move; a later stream that got through may have.
    assert FIRST_STREAM[platform] not in json.loads(collector.bookmark or "{}")
