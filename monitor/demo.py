"""The demo: the real connectors against local fakes of every platform, seeded with the demo
posts, on a database of its own (demo.db), so it exercises the production code paths."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from monitor.fakes import FakePlatforms
from monitor.fakes.demo import demo_secret_env, demo_sources
from monitor.settings import Settings

ENV_DEMO_DATABASE = "MONITOR_DEMO_DATABASE_URL"   # never the production database
DEMO_DATABASE = "sqlite:///demo.db"


def demo_database_url(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(ENV_DEMO_DATABASE) or DEMO_DATABASE


def reset_demo(environ: Mapping[str, str] = os.environ) -> None:
    """Start the demo from scratch (only the SQLite demo file is removed)."""
    url = demo_database_url(environ)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


class DemoEnvironment:
    """Starts the fake platforms; yields (settings, environment) that point the sources at them."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] = os.environ):
        self.base = settings
        self.environ = environ
        self.fake: FakePlatforms | None = None

    def __enter__(self) -> tuple[Settings, dict[str, str]]:
        self.fake = FakePlatforms.start("demo")
        sources = demo_sources(self.fake.base_url)
        data: dict[str, Any] = self.base.model_dump(exclude={"path", "sources"})
        data["app"]["database_url"] = demo_database_url(self.environ)
        data["sources"] = sources
        settings = Settings.model_validate(data)
        return settings, {**self.environ, **demo_secret_env(sources)}

    def __exit__(self, *_: object) -> None:
        if self.fake is not None:
            self.fake.stop()

    def posted(self) -> list[dict[str, Any]]:
        """What the fake platforms received from us in this run."""
        return self.fake.replies() if self.fake else []
