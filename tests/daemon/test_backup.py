"""`monitor backup` taken while the daemon stores pages is one consistent state (every source's
bookmark matches the posts stored with it); `monitor restore` brings it back, and the next poll
collects what came after, nothing twice. SQLite (online backup API) and PostgreSQL (pg_dump)."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlmodel import select

from models import Post, Source
from monitor.daemon.runner import Daemon
from monitor.errors import Conflict
from tests.daemon.support import Platform, item

ITEMS = 60


def state(monitor) -> tuple[int, str | None, int]:
    with monitor.db.session() as session:
        source = session.exec(select(Source).where(Source.name == "shop")).one()
        return len(list(session.exec(select(Post.id)))), source.bookmark, source.items_collected


def test_backup_during_a_daemon_run_restores_a_consistent_state(build_monitor, tmp_path):
    platform = Platform("shop", page_size=2)
    platform.add(*(item(n) for n in range(ITEMS)))
    monitor = build_monitor({"shop": platform})
    writing, backed_up = threading.Event(), threading.Event()

    def on_page(served: int) -> None:
        if served == 5:
            writing.set()                      # the daemon is mid-poll; it goes on storing pages
        if served == 20:
            backed_up.wait(30)                 # keep pages coming until the backup is done, then finish
    platform.on_page = on_page
    runner = threading.Thread(target=lambda: Daemon(monitor).run(once=True))
    runner.start()
    assert writing.wait(30)
    path = tmp_path / "monitor.backup"
    report = monitor.backup(str(path))
    backed_up.set()
    runner.join(60)
    assert not runner.is_alive() and report.revision
    assert state(monitor) == (ITEMS, str(ITEMS), ITEMS)
    with pytest.raises(Conflict):
        monitor.backup(str(path))                                  # never overwritten by accident

    monitor.restore(str(path))
    posts, bookmark, collected = state(monitor)
    assert 0 < posts < ITEMS and bookmark == str(posts) and collected == posts   # one committed state
    platform.on_page = None
    Daemon(monitor).run(once=True)
    assert state(monitor) == (ITEMS, str(ITEMS), ITEMS)                          # the rest, nothing twice
    with monitor.db.session() as session:
        ids = [p.external_id for p in session.exec(select(Post))]
    assert sorted(ids) == sorted(f"p{n}" for n in range(ITEMS))


def test_restore_refuses_a_backup_from_a_newer_schema(build_monitor, tmp_path):
    monitor = build_monitor({"shop": Platform("shop")})
    if not monitor.db.is_sqlite:
        pytest.skip("the revision check of a dump is the same function; this builds a SQLite file")
    path = tmp_path / "future.backup"
    monitor.backup(str(path))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'from_the_future'")
    connection.close()
    with pytest.raises(Conflict) as error:
        monitor.restore(str(path))
    assert "from_the_future" in str(error.value)
