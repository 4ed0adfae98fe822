"""The scheduling rules as pure functions: interval + jitter, rate limits, back-off, parking."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from monitor.collect import PollResult
from monitor.daemon.schedule import backoff, plan_next

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def plan(result: PollResult, errors: int = 0, jitter: float = 0.0, seed: int = 1):
    return plan_next(result, now=NOW, interval_seconds=300, error_count=errors, jitter_seconds=jitter,
                     backoff_base_seconds=30, backoff_cap_seconds=600, rng=random.Random(seed))


def test_good_poll_waits_the_interval_plus_at_most_the_jitter():
    assert plan(PollResult("s")).next_poll_at == NOW + timedelta(seconds=300)
    times = {plan(PollResult("s"), jitter=20, seed=seed).next_poll_at for seed in range(20)}
    assert len(times) > 10   # spread, so sources configured alike do not stampede together
    assert all(NOW + timedelta(seconds=300) <= t <= NOW + timedelta(seconds=320) for t in times)


def test_errors_back_off_exponentially_up_to_the_cap():
    waits = [(plan(PollResult("s", error="boom"), errors=n).next_poll_at - NOW).total_seconds() for n in range(1, 8)]
    assert waits == [30, 60, 120, 240, 480, 600, 600]
    assert backoff(10_000, 30, 600) == 600


def test_rate_limit_waits_until_the_platform_allows():
    until = NOW + timedelta(minutes=15)
    planned = plan(PollResult("s", error="429", rate_limited_until=until), errors=3)
    assert planned.next_poll_at == until
    past = plan(PollResult("s", error="429", rate_limited_until=NOW - timedelta(minutes=1)), errors=1)
    assert past.next_poll_at == NOW


def test_revoked_credentials_park_the_source():
    planned = plan(PollResult("s", error="token revoked", needs_reauth=True), errors=1)
    assert planned.next_poll_at is None and "re-authorisation" in planned.why


def test_a_poll_stopped_for_fairness_continues_at_once():
    assert plan(PollResult("s", pages=5, complete=False)).next_poll_at == NOW
