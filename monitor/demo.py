"""The demo: the real connectors against local fakes of every platform, seeded with the demo
posts, on a database of its own (demo.db), so it exercises the production code paths."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import func
from sqlmodel import select

from models import Source, as_utc, utcnow
from monitor.fakes import FakePlatforms
from monitor.db import Database
from monitor.fakes.demo import demo_secret_env, demo_sources, load_demo_posts, seed_posts
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


def demo_anchor(url: str) -> datetime:
    """The demo's "now": when its sources were registered, registering them now on a fresh demo
    database. Every command reseeds the fake platforms; the same anchor gives the same posts and
    ids (X's ids are time-based), so nothing looks new twice."""
    database = Database(url)
    try:
        database.migrate()
        with database.session() as session:
            first = session.exec(select(func.min(Source.created_at))).one()
            if first is None:
                first = utcnow()
                for source in demo_sources("http://127.0.0.1:1"):   # the address is not stored
                    session.add(Source(name=source["name"], platform=source["platform"], created_at=first))
        return as_utc(first)
    finally:
        database.dispose()


class DemoEnvironment:
    """Starts the fake platforms; yields (settings, environment) that point the sources at them."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] = os.environ):
        self.base = settings
        self.environ = environ
        self.fake: FakePlatforms | None = None

    def __enter__(self) -> tuple[Settings, dict[str, str]]:
        self.fake = FakePlatforms.start()
        seed_posts(self.fake, load_demo_posts(), now=demo_anchor(demo_database_url(self.environ)))
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
