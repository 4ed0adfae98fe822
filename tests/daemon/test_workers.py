"""Several workers: on PostgreSQL they share sources through leases (no source polled by two at
once, a dead worker's sources taken over) and post each reply once; on SQLite a second daemon
refuses to start."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

from sqlmodel import func, select
from typer.testing import CliRunner

from models import Assessment, OutboxReply, Post, Source, utcnow
from monitor.daemon import leases
from monitor.daemon.runner import Daemon
from monitor.db import Database
from monitor.decisions import Actor
from monitor.outbox import worker_identity
from monitor.service import Monitor
from tests.daemon.conftest import BASE, sources_toml
from tests.daemon.support import BACKENDS, WAIT_LIMIT, Platform, item, run_until


def _names(n: int) -> list[str]:
    return [f"s{i}" for i in range(n)]


def test_concurrent_claims_never_hand_a_source_to_two_workers(postgres_url, make_pg_settings):
    names = _names(20)
    monitor = Monitor(make_pg_settings(BASE + sources_toml(names)), environ={}, **BACKENDS)
    monitor.init()
    databases = [Database(postgres_url) for _ in range(4)]
    barrier = threading.Barrier(len(databases))
    claimed: dict[int, list[str]] = {}

    def claim(index: int) -> None:
        barrier.wait()
        claimed[index] = leases.claim_due(databases[index], f"w{index}", names, lease_seconds=60, limit=6)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(databases))]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    everything = [name for got in claimed.values() for name in got]
    assert len(everything) == len(set(everything)) == 20 and max(map(len, claimed.values())) <= 6
    with monitor.db.session() as session:
        owners = {row.name: row.lease_owner for row in session.exec(select(Source))}
    assert all(owners[name] == f"w{i}" for i, got in claimed.items() for name in got)
    for database in databases:
        database.dispose()
    monitor.close()


def test_a_dead_workers_lease_expires_and_is_taken_over(database_url, make_settings):
    monitor = Monitor(make_settings(BASE + sources_toml(["far", "local", "alive"])), environ={}, **BACKENDS)
    monitor.init()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with monitor.db.session() as session:
        rows = {row.name: row for row in session.exec(select(Source))}
        rows["far"].lease_owner = "w@elsewhere/1:4242"             # another machine: only expiry frees it
        rows["local"].lease_owner = worker_identity("w").rsplit(":", 1)[0] + f":{dead.pid}"  # gone process here
        rows["alive"].lease_owner = worker_identity("other")        # this very process: alive
        for row in rows.values():
            row.lease_until = utcnow() + timedelta(seconds=60)
            session.add(row)
    me = worker_identity("me")
    assert leases.claim_due(monitor.db, me, ["far", "local", "alive"], lease_seconds=60, limit=10) == ["local"]
    with monitor.db.session() as session:
        far = session.exec(select(Source).where(Source.name == "far")).one()
        far.lease_until = utcnow() - timedelta(seconds=1)           # its worker stopped renewing
        session.add(far)
    assert leases.claim_due(monitor.db, me, ["far", "alive"], lease_seconds=60, limit=10) == ["far"]
    monitor.close()


def test_several_daemons_share_sources_without_double_poll_or_double_post(make_pg_settings):
    names = _names(6)
    platforms = {name: Platform(name, page_size=3) for name in names}
    for name, platform in platforms.items():
        platform.page_delay = 0.005                      # widen the window in which two could overlap
        platform.add(*[item(n, prefix=name) for n in range(12)])
    settings_text = BASE + "sources_per_pass = 2\n" + sources_toml(names)   # so that all three get some
    workers = []
    for index in range(3):
        monitor = Monitor(make_pg_settings(settings_text), environ={}, **BACKENDS)
        monitor.init()
        for name, platform in platforms.items():
            monitor.use_connector(name, platform)
        workers.append(monitor)
    first = workers[0]
    first.poll()                                         # some posts already there, approved, to be sent
    first.process()
    with first.db.session() as session:
        approved = [p.id for p in session.exec(select(Post))][:30]
    for post_id in approved:
        first.approve(post_id, Actor("anna"), draft_id=first.show(post_id).draft["id"])
    daemons = [Daemon(monitor, worker_name=f"w{i}") for i, monitor in enumerate(workers)]
    stop_feeding = threading.Event()

    def keep_everything_due() -> None:                   # new posts arrive and every source is due, all the time
        n = 100
        while not stop_feeding.wait(0.03):
            if n < 140:                                  # a bounded amount of work, however slow the machine
                for platform in platforms.values():
                    platform.add(item(n, prefix=platform.name))
                n += 1
            with first.db.session() as session:
                for row in session.exec(select(Source)):
                    row.next_poll_at = utcnow() - timedelta(seconds=1)
                    session.add(row)

    def shared_and_repeated() -> bool:                   # every worker polled, every source several times
        pollers = {who for p in platforms.values() for who in p.polled_by}
        return {d.worker for d in daemons} <= pollers and all(p.collect_calls >= 3 for p in platforms.values())

    feeder = threading.Thread(target=keep_everything_due)
    feeder.start()
    try:
        run_until(daemons, shared_and_repeated, state=lambda: ({n: (p.collect_calls, p.polled_by)
                                                                for n, p in platforms.items()},
                                                               [vars(d.report) for d in daemons]))
    finally:
        stop_feeding.set()
        feeder.join(WAIT_LIMIT)
    assert all(platform.max_active == 1 for platform in platforms.values())      # never two polls at once
    Daemon(workers[0]).run(once=True)                    # collect what arrived at the very end
    make_due_all(first)
    Daemon(workers[0]).run(once=True)
    expected = sum(len(p.items) for p in platforms.values())
    with first.db.session() as session:
        assert session.exec(select(func.count()).select_from(Post)).one() == expected
        assert session.exec(select(func.count(func.distinct(Assessment.post_id)))).one() == expected
        assert session.exec(select(func.count()).select_from(Assessment)).one() == expected  # analysed once each
        states = [row.state for row in session.exec(select(OutboxReply))]
        owners = [row.lease_owner for row in session.exec(select(Source))]
    assert states == ["sent"] * len(approved) and owners == [None] * len(names)
    replies = [texts for p in platforms.values() for texts in p.replies.values()]
    assert len(replies) == len(approved) and all(len(texts) == 1 for texts in replies)
    for monitor in workers:
        monitor.close()


def make_due_all(monitor) -> None:
    with monitor.db.session() as session:
        for row in session.exec(select(Source)):
            row.next_poll_at = utcnow() - timedelta(seconds=1)
            session.add(row)


def _cli_app():
    from monitor.cli import app
    from monitor.daemon.cli import register
    if not any((c.name or getattr(c.callback, "__name__", "")) == "daemon" for c in app.registered_commands):
        register(app)
    return app


def test_a_second_daemon_on_sqlite_refuses_to_start(sqlite_url, tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[app]\ndatabase_url = "{sqlite_url}"\n', encoding="utf-8")
    env = {"MONITOR_SETTINGS": str(settings), "MONITOR_DATABASE_URL": sqlite_url}
    runner = CliRunner()
    first = runner.invoke(_cli_app(), ["daemon", "--once"], env=env)
    assert first.exit_code == 0, first.output
    assert "stopped (--once)" in first.output
    holder = leases.DaemonLock(Database(sqlite_url))
    holder.acquire()                                     # a daemon is running
    try:
        second = runner.invoke(_cli_app(), ["daemon", "--once"], env=env)
    finally:
        holder.release()
    assert second.exit_code == 4
    assert "another daemon is already running" in second.output and "PostgreSQL" in second.output
    assert "Traceback" not in second.output
    assert runner.invoke(_cli_app(), ["daemon", "--once"], env=env).exit_code == 0   # free again


def test_postgres_needs_no_daemon_lock(postgres_url):
    lock = leases.DaemonLock(Database(postgres_url))
    with lock:
        with leases.DaemonLock(Database(postgres_url)):
            assert not lock.exclusive
