"""Shared fixtures: a fresh database per test (SQLite file, or a PostgreSQL schema of its own on
the machine's server), settings built from TOML text, and a ready `Monitor`.

PostgreSQL: `MONITOR_TEST_POSTGRES_URL` (default postgresql://postgres@127.0.0.1:5432/test).
When the server cannot be reached the PostgreSQL tests skip with the reason, unless
`MONITOR_REQUIRE_POSTGRES=1` (set by .ci/run), where they fail instead.
"""
from __future__ import annotations

import os
import textwrap
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from monitor.settings import Settings, load_settings

POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("MONITOR_REQUIRE_POSTGRES") == "1"
_postgres_problem: list[str] = []


def _postgres_reachable() -> str | None:
    """None when usable, else why not (checked once per run)."""
    if not _postgres_problem:
        try:
            engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            _postgres_problem.append("")
        except Exception as exc:  # any failure to connect means "not here"
            _postgres_problem.append(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    return _postgres_problem[0] or None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database URL whose search_path is a fresh, private schema (dropped afterwards)."""
    problem = _postgres_reachable()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(problem + " (MONITOR_REQUIRE_POSTGRES=1 makes these tests mandatory)")
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    """Settings from TOML text (as a user would write it), on the test's database."""
    def build(toml: str = "", environ: dict[str, str] | None = None) -> Settings:
        path = tmp_path / "settings.toml"
        path.write_text(textwrap.dedent(toml), encoding="utf-8")
        env = {"MONITOR_DATABASE_URL": database_url, **(environ or {})}
        return load_settings(path, environ=env)
    return build
