from __future__ import annotations

from typing import Callable, Iterator

import pytest

from monitor.service import Monitor
from tests.daemon.support import BACKENDS, Platform

BASE = """
[app]
user = "tester"
timezone = "UTC"

[daemon]
jitter_seconds = 0
idle_seconds = 0.05
post_interval_seconds = 1
backoff_base_seconds = 30
backoff_cap_seconds = 600
"""


def sources_toml(names: list[str], interval: int = 60) -> str:
    return "".join(f'\n[[sources]]\nname = "{name}"\nplatform = "memory"\ninterval_seconds = {interval}\n'
                   for name in names)


@pytest.fixture
def build_monitor(make_settings: Callable) -> Iterator[Callable[..., Monitor]]:
    """A Monitor on the test database with in-memory platforms for the named sources."""
    made: list[Monitor] = []

    def build(platforms: dict[str, Platform], extra: str = "", environ: dict | None = None,
              interval: int = 60) -> Monitor:
        settings = make_settings(BASE + extra + sources_toml(list(platforms), interval), environ)
        monitor = Monitor(settings, environ=environ or {}, **BACKENDS)
        monitor.init()
        for name, platform in platforms.items():
            monitor.use_connector(name, platform)
        made.append(monitor)
        return monitor

    yield build
    for monitor in made:
        monitor.close()


@pytest.fixture
def make_pg_settings(tmp_path, postgres_url: str) -> Callable:
    """Like `make_settings`, on PostgreSQL only (for tests that need several workers)."""
    import textwrap

    from monitor.settings import load_settings

    def build(toml: str = "", environ: dict | None = None):
        path = tmp_path / "settings-pg.toml"
        path.write_text(textwrap.dedent(toml), encoding="utf-8")
        return load_settings(path, environ={"MONITOR_DATABASE_URL": postgres_url, **(environ or {})})
    return build
