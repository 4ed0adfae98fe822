"""Local fakes of the platforms the connectors talk to (X, Graph API, Reddit, Google Business
Profile), for tests and `monitor demo`: the real client libraries run against them.

The names below load on first use, so that `monitor fakes ...` costs nothing to other commands."""
from __future__ import annotations

from typing import Any

__all__ = ["FakePlatforms", "Brand", "FAILURE_KINDS", "PLATFORMS"]


def __getattr__(name: str) -> Any:
    if name == "FakePlatforms":
        from monitor.fakes.server import FakePlatforms
        return FakePlatforms
    if name in ("Brand", "FAILURE_KINDS", "PLATFORMS"):
        from monitor.fakes import state
        return getattr(state, name)
    raise AttributeError(f"module 'monitor.fakes' has no attribute {name!r}")
