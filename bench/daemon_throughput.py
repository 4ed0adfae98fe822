"""How fast one daemon worker gets posts into the queue and replies out, how long a small
source's new post waits behind another source's backlog (fairness), and how analysis scales
with the number of workers on PostgreSQL.

    .venv/bin/python -m bench.daemon_throughput [--postgres URL] [--sources 20] [--items 500]
                                                [--workers 1,2,3] [--posts 600] [--test-backends]

The first figures use in-memory platforms (no network) and the test analyser (no model): they
measure the daemon, the store and the database, not the platforms or the model. The worker
figures store `--posts` posts first, then start that many `monitor daemon` workers (processes)
with the configured analyser and drafter (the shipped model, loaded before the clock starts)
and time them until every post is analysed and drafted; each worker's share is printed too.
Prints one line per measurement.
"""
from __future__ import annotations

import argparse
import multiprocessing
import queue
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, text
from sqlmodel import func, select

from models import OutboxReply, Post
from monitor.daemon.runner import Daemon
from monitor.decisions import Actor
from monitor.service import Monitor
from monitor.settings import load_settings
from tests.daemon.support import BACKENDS, Platform, WordAnalyser, item

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


WORKER_SETTINGS = """
[app]
timezone = "UTC"
[daemon]
jitter_seconds = 0
idle_seconds = 0.05
post_interval_seconds = 3600
"""
WORKER_SOURCES = ["shop-a", "shop-b", "shop-c", "shop-d"]
TEXTS = ["Order {n} arrived with the box crushed and the mug broken. I want my money back!",
         "Dziękuję, paczka {n} dotarła szybko i wszystko się zgadza, polecam!",
         "Where is my parcel {n}? I have been waiting two weeks and nobody answers the phone.",
         "Your shop is a scam, order {n} never came and support ignores me. See you in court.",
         "Do you still have the blue dress from post {n} in size M?",
         "Заказ {n} пришёл не того цвета, как вернуть деньги?"]


def worker_settings(folder: Path) -> Path:
    path = folder / "workers.toml"
    path.write_text(WORKER_SETTINGS + "".join(f'\n[[sources]]\nname = "{n}"\nplatform = "memory"\n'
                                              f"interval_seconds = 86400\n" for n in WORKER_SOURCES))
    return path


class WaitingAnalyser(WordAnalyser):
    """The test analyser plus a fixed wait per post: a model that costs time but not this
    machine's CPU (another device, a busy machine's fair share), to see the sharing itself."""

    def __init__(self, seconds_per_post: float):
        self.seconds_per_post = seconds_per_post

    def assess(self, posts):
        time.sleep(self.seconds_per_post * len(posts))
        return super().assess(posts)


def _backends(test_backends: bool, latency_ms: float = 0.0) -> dict:
    if latency_ms:
        return {**BACKENDS, "analyser": WaitingAnalyser(latency_ms / 1000)}
    return BACKENDS if test_backends else {}


def _worker(url: str, settings: str, index: int, test_backends: bool, latency_ms: float, ready, start, stop,
            results) -> None:
    """One worker process: a whole daemon, model loaded before the clock starts."""
    from monitor.analysis.base import PostView

    monitor = Monitor(load_settings(settings, environ={"MONITOR_DATABASE_URL": url}), environ={},
                      **_backends(test_backends, latency_ms))
    for name in WORKER_SOURCES:                  # nothing is due: the workers only analyse and draft
        monitor.use_connector(name, Platform(name))
    views = [PostView(text=TEXTS[0].format(n=0), platform="memory")]
    monitor.drafter.draft(views, monitor.analyser.assess(views))
    daemon = Daemon(monitor, worker_name=f"bench{index}")
    ready.put(index)
    start.wait()
    threading.Thread(target=lambda: (stop.wait(), daemon.stop("bench done")), daemon=True).start()
    report = daemon.run()
    results.put((index, report.assessed))
    monitor.close()


def measure_workers(url: str, workers: int, posts: int, folder: Path, test_backends: bool,
                    latency_ms: float = 0.0) -> None:
    settings = worker_settings(folder)
    monitor = Monitor(load_settings(settings, environ={"MONITOR_DATABASE_URL": url}), environ={},
                      **_backends(test_backends))
    monitor.init()
    for k, name in enumerate(WORKER_SOURCES):
        platform = Platform(name, page_size=100)
        platform.add(*[item(n, TEXTS[n % len(TEXTS)].format(n=n), prefix=f"{name}-")
                       for n in range(k, posts, len(WORKER_SOURCES))])
        monitor.use_connector(name, platform)
    monitor.poll()
    context = multiprocessing.get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    start, stop = context.Event(), context.Event()
    processes = [context.Process(target=_worker, args=(url, str(settings), i, test_backends, latency_ms, ready,
                                                       start, stop, results)) for i in range(workers)]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=600)
        started = time.perf_counter()
        start.set()
        while unassessed(monitor):
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stop.set()
        shares = dict(results.get(timeout=120) for _ in processes)
    except queue.Empty:
        print(f"postgresql, {workers} worker(s): a worker did not report (see its error above)")
        return
    finally:
        stop.set()
        for process in processes:
            process.join(60)
            if process.is_alive():
                process.kill()
        monitor.close()
    total = sum(shares.values())
    model = f"test analyser waiting {latency_ms:g} ms a post" if latency_ms else \
        "test backends" if test_backends else "shipped model"
    print(f"postgresql, {workers} worker(s), {model}: analysed and drafted {total} posts in {elapsed:.1f} s = "
          f"{total / elapsed:.0f} posts/s; each worker's share: "
          + ", ".join(f"w{i} {shares[i]} ({shares[i] / max(total, 1):.0%})" for i in sorted(shares)))


def unassessed(monitor: Monitor) -> int:
    with monitor.db.session() as session:
        return session.exec(select(func.count()).select_from(Post)
                            .where(Post.analysed_hash != Post.content_hash)).one()


@contextmanager
def schema(admin_url: str) -> Iterator[str | None]:
    """A URL on a fresh schema of its own (dropped afterwards); None without a server."""
    name = f"bench_{time.time_ns()}"
    admin = create_engine(admin_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:  # no server: the SQLite figures stand alone
        print(f"postgresql: skipped ({type(exc).__name__})")
        admin.dispose()
        yield None
        return
    try:
        yield f"{admin_url}?options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--workers", default="1,2,3", help="worker counts to measure analysis with, e.g. 1,2,3")
    parser.add_argument("--posts", type=int, default=600, help="posts to analyse per worker count")
    parser.add_argument("--test-backends", action="store_true",
                        help="worker figures with the test analyser and drafter instead of the shipped model")
    parser.add_argument("--model-latency-ms", type=float, default=0.0,
                        help="worker figures with the test analyser waiting this long a post (CPU-free model)")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    with tempfile.TemporaryDirectory() as folder:
        measure(f"sqlite:///{folder}/bench.db", "sqlite", args.sources, args.items, Path(folder))
        with schema(args.postgres) as url:
            if url is None:
                return
            measure(url, "postgresql", args.sources, args.items, Path(folder))
        for count in counts:
            with schema(args.postgres) as url:
                if url is None:
                    return
                measure_workers(url, count, args.posts, Path(folder), args.test_backends, args.model_latency_ms)


if __name__ == "__main__":
    main()
