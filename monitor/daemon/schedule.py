"""When a source is asked next: its interval plus jitter after a good poll, the platform's
"not before" after a rate limit, exponential back-off (capped) after errors, never again by
itself after the platform said the credentials are gone (parked until a person fixes them).

Pure functions of the poll's outcome, so every rule is tested without a clock or a network.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from models import as_utc
from monitor.collect import PollResult

PARKED_HINT = ("parked until re-authorised: renew the credentials, then restart the daemon "
               "or run `monitor poll --source {name}`")


@dataclass(frozen=True)
class Plan:
    next_poll_at: Optional[datetime]   # None: parked (no automatic poll)
    why: str


def backoff(errors: int, base_seconds: float, cap_seconds: float) -> float:
    """Seconds to wait after the `errors`-th failure in a row: base, 2*base, 4*base ... <= cap."""
    if errors <= 0:
        return 0.0
    return float(min(cap_seconds, base_seconds * 2 ** min(errors - 1, 32)))


def plan_next(result: PollResult, *, now: datetime, interval_seconds: float, error_count: int,
              jitter_seconds: float, backoff_base_seconds: float, backoff_cap_seconds: float,
              rng: random.Random) -> Plan:
    """The next poll of a source after `result`. `error_count` counts this failure too."""
    jitter = timedelta(seconds=rng.uniform(0, jitter_seconds)) if jitter_seconds else timedelta(0)
    if result.needs_reauth:
        return Plan(None, "needs re-authorisation")
    if result.rate_limited_until is not None:
        until = as_utc(result.rate_limited_until)
        return Plan(max(until, now) + jitter, f"rate-limited until {until:%H:%M:%S} UTC")
    if result.error is not None:
        wait = backoff(error_count, backoff_base_seconds, backoff_cap_seconds)
        return Plan(now + timedelta(seconds=wait) + jitter, f"error #{error_count}, retry in {wait:.0f} s")
    if not result.complete:
        return Plan(now, "more pages waiting; continues after the other sources' turn")
    return Plan(now + timedelta(seconds=interval_seconds) + jitter, "on schedule")
