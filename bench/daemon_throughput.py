"""How fast one daemon worker gets posts into the queue and replies out, and how long a small
source's new post waits behind another source's backlog (fairness).

    .venv/bin/python -m bench.daemon_throughput [--postgres URL] [--sources 20] [--items 500]

In-memory platforms (no network) and the test analyser (no model): this measures the daemon,
the store and the database, not the platforms or the model. Prints one line per measurement.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import func, select

from models import OutboxReply, Post
from monitor.daemon.runner import Daemon
from monitor.decisions import Actor
from monitor.service import Monitor
from monitor.settings import load_settings
from tests.daemon.support import BACKENDS, Platform, item

SETTINGS = """
[app]
timezone = "UTC"
[daemon]
jitter_seconds = 0
idle_seconds = 0.05
post_interval_seconds = 1
sources_per_pass = 50
"""


def build(url: str, names: list[str], folder: Path) -> Monitor:
    path = folder / "bench.toml"
    path.write_text(SETTINGS + "".join(f'\n[[sources]]\nname = "{n}"\nplatform = "memory"\n' for n in names))
    monitor = Monitor(load_settings(path, environ={"MONITOR_DATABASE_URL": url}), environ={}, **BACKENDS)
    monitor.init()
    return monitor


def measure(url: str, label: str, sources: int, items: int, folder: Path) -> None:
    names = [f"s{i}" for i in range(sources)]
    monitor = build(url, names + ["small"], folder)
    platforms = {}
    for name in names:
        platform = platforms[name] = Platform(name, page_size=50)
        platform.add(*[item(n, prefix=f"{name}-") for n in range(items)])
    small = platforms["small"] = Platform("small")
    small.add(item(1, "critical: a new post while the backlog is read", prefix="small"))
    stored_at: list[float] = []
    small.on_page = lambda k: stored_at.append(time.perf_counter())
    for name, platform in platforms.items():
        monitor.use_connector(name, platform)
    started = time.perf_counter()
    Daemon(monitor).run(once=True)
    elapsed = time.perf_counter() - started
    with monitor.db.session() as session:
        count = session.exec(select(func.count()).select_from(Post)).one()
        ids = [p.id for p in session.exec(select(Post).limit(500))]
    print(f"{label}: collected+analysed {count} posts from {len(platforms)} sources in {elapsed:.1f} s "
          f"= {count / elapsed:.0f} posts/s; the small source was read {stored_at[0] - started:.2f} s after start")
    for post_id in ids:
        monitor.approve(post_id, Actor("bench"), draft_id=monitor.show(post_id).draft["id"])
    started = time.perf_counter()
    Daemon(monitor).run(once=True)
    elapsed = time.perf_counter() - started
    with monitor.db.session() as session:
        sent = session.exec(select(func.count()).select_from(OutboxReply).where(OutboxReply.state == "sent")).one()
    print(f"{label}: posted {sent} approved replies in {elapsed:.1f} s = {sent / elapsed:.0f} replies/s "
          f"(POST_BATCH x POST_ROUNDS bound one turn at 200)")
    monitor.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--items", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure(f"sqlite:///{folder}/bench.db", "sqlite", args.sources, args.items, Path(folder))
        schema = f"bench_{int(time.time())}"
        admin = create_engine(args.postgres)
        try:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:  # no server: the SQLite figures stand alone
            print(f"postgresql: skipped ({type(exc).__name__})")
            return
        try:
            measure(f"{args.postgres}?options=-csearch_path%3D{schema}", "postgresql", args.sources, args.items,
                    Path(folder))
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
