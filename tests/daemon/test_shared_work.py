"""Workers on PostgreSQL share analysis (each batch claimed by one worker, a dead worker's batch
taken over) and keep their sources through long turns (a heartbeat renews the leases); a source
that does change hands says why in the log."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import func, select

from models import Assessment, Draft, Post, Source, utcnow
from monitor.collect import LeaseLost, SourcePoll
from monitor.daemon import leases
from monitor.daemon.runner import Daemon
from monitor.decisions import Actor
from monitor.service import Monitor
from tests.daemon.conftest import BASE, sources_toml
from tests.daemon.support import BACKENDS, Platform, WordAnalyser, item

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WAIT = 60.0    # generous upper bound for any awaited event


def wait_for(condition, what: str, limit: float = WAIT) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


class RecordingAnalyser(WordAnalyser):
    """Notes every post text it is given; its first batch waits until the other worker holds
    one too, so the two claims happen while both batches are in hand."""

    def __init__(self, seen: list[str], meet: threading.Barrier):
        self.seen, self.meet, self.met = seen, meet, False

    def assess(self, posts):
        self.seen.extend(post.text for post in posts)
        if not self.met:
            self.met = True
            self.meet.wait(timeout=WAIT)
        return super().assess(posts)


def shop(make_pg_settings, count: int, analyser=None) -> Monitor:
    monitor = Monitor(make_pg_settings(BASE + "[analysis]\nbatch_size = 4\n" + sources_toml(["shop"])), environ={},
                      **{**BACKENDS, **({"analyser": analyser} if analyser else {})})
    monitor.init()
    return monitor


def stored_shop(make_pg_settings, count: int) -> tuple[Monitor, set[str]]:
    platform = Platform("shop", page_size=50)
    platform.add(*[item(n, f"post {n}") for n in range(count)])
    monitor = shop(make_pg_settings, count)
    monitor.use_connector("shop", platform)
    monitor.poll()
    return monitor, {f"post {n}" for n in range(count)}


def assessed_once_each(monitor: Monitor, count: int) -> None:
    with monitor.db.session() as session:
        assert session.exec(select(func.count()).select_from(Assessment)).one() == count
        assert session.exec(select(func.count(func.distinct(Assessment.post_id)))).one() == count
        assert session.exec(select(func.count()).select_from(Draft)).one() == count
        assert all(p.analysed_hash == p.content_hash for p in session.exec(select(Post)))


@pytest.mark.postgres
def test_two_workers_assess_disjoint_batches_and_every_post_once(make_pg_settings):
    first, texts = stored_shop(make_pg_settings, 20)
    meet = threading.Barrier(2)
    seen: dict[int, list[str]] = {0: [], 1: []}
    workers = [shop(make_pg_settings, 20, RecordingAnalyser(seen[i], meet)) for i in range(2)]
    done: dict[int, int] = {}
    threads = [threading.Thread(target=lambda i: done.__setitem__(i, workers[i].process().assessed), args=(i,))
               for i in range(2)]
    [t.start() for t in threads]
    [t.join(WAIT) for t in threads]
    assert not meet.broken                                   # both held a batch at the same moment
    assert set(seen[0][:4]).isdisjoint(seen[1][:4])          # ... and not the same one
    assert Counter(seen[0] + seen[1]) == Counter(texts)      # each post encoded by one worker, once
    assert done[0] > 0 and done[1] > 0 and done[0] + done[1] == 20
    assessed_once_each(first, 20)
    for monitor in [first, *workers]:
        monitor.close()


@pytest.mark.postgres
def test_a_killed_workers_batch_is_assessed_by_another(make_pg_settings, postgres_url, tmp_path):
    monitor, texts = stored_shop(make_pg_settings, 12)
    settings = tmp_path / "worker.toml"
    settings.write_text(BASE + "[analysis]\nbatch_size = 4\n" + sources_toml(["shop"]), encoding="utf-8")
    hanging = subprocess.Popen([sys.executable, "-m", "tests.daemon.analysis_worker", str(settings)], cwd=ROOT,
                               env={**os.environ, "MONITOR_DATABASE_URL": postgres_url, "PYTHONPATH": ROOT},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = hanging.stdout.readline()                     # blocks until it holds its batch (or died)
        assert line.startswith("claimed "), hanging.stderr.read()
        claimed = set(line.strip().removeprefix("claimed ").split("|"))
        assert len(claimed) == 4
        seen: list[str] = []
        other = shop(make_pg_settings, 12, RecordingAnalyser(seen, threading.Barrier(1)))
        assert other.process().assessed == 8                 # everything but the batch in the other's hands
        assert set(seen) == texts - claimed
    finally:
        hanging.kill()
        hanging.wait(WAIT)

    def taken_over() -> bool:                                # its locks go as soon as the server sees it die
        other.process()
        return _unassessed(monitor) == 0

    wait_for(taken_over, "the dead worker's batch to be taken over")
    assert Counter(seen) == Counter(texts)                   # its batch was taken over, nothing twice
    assessed_once_each(monitor, 12)
    other.close()
    monitor.close()


def _unassessed(monitor: Monitor) -> int:
    with monitor.db.session() as session:
        return session.exec(select(func.count()).select_from(Post)
                            .where(Post.analysed_hash != Post.content_hash)).one()


class BlockingReplies(Platform):
    """Replies wait until the test lets them go: a posting turn as long as the test needs."""

    def __init__(self, name: str):
        super().__init__(name, page_size=2)
        self.in_turn, self.go = threading.Event(), threading.Event()

    def reply(self, target, text):
        self.in_turn.set()
        assert self.go.wait(WAIT)
        return super().reply(target, text)


@pytest.mark.postgres
def test_a_turn_longer_than_the_lease_keeps_the_source(make_pg_settings, caplog):
    platform = BlockingReplies("shop")
    platform.add(*[item(n, prefix="s") for n in range(2)])
    settings = BASE + "lease_seconds = 5\n" + sources_toml(["shop"])
    monitor = Monitor(make_pg_settings(settings), environ={}, **BACKENDS)
    monitor.init()
    monitor.use_connector("shop", platform)
    monitor.poll()
    monitor.process()
    with monitor.db.session() as session:
        post_id = session.exec(select(Post.id)).first()
        shop_row = session.exec(select(Source).where(Source.name == "shop")).one()
        shop_row.next_poll_at = utcnow() - timedelta(seconds=1)
        session.add(shop_row)
    monitor.approve(post_id, Actor("anna"), draft_id=monitor.show(post_id).draft["id"])
    platform.add(*[item(n, prefix="s") for n in range(2, 10)])      # several pages: the poll stays open
    daemon = Daemon(monitor, worker_name="busy")
    runner = threading.Thread(target=lambda: daemon.run(once=True))
    runner.start()
    try:
        assert platform.in_turn.wait(WAIT)                   # posting in the middle of the poll of "shop"
        held = lease_of(monitor)
        assert held.lease_owner == daemon.worker
        first_expiry = held.lease_until
        wait_for(lambda: utcnow() > first_expiry + timedelta(seconds=1), "the first lease to run out")
        assert lease_of(monitor).lease_owner == daemon.worker and lease_of(monitor).lease_until > utcnow()
        assert leases.claim_due(monitor.db, "rival", ["shop"], lease_seconds=5, limit=1) == []
    finally:
        platform.go.set()
        runner.join(WAIT)
    assert daemon.report.polls == 1 and daemon.report.sent == 1
    assert daemon.report.new_posts == 8                      # the poll finished: no page dropped or redone
    assert "expired" not in caplog.text and "dropping" not in caplog.text
    assert lease_of(monitor).lease_owner is None             # given back at the end of the poll
    monitor.close()


def lease_of(monitor: Monitor) -> Source:
    with monitor.db.session() as session:
        return session.exec(select(Source).where(Source.name == "shop")).one()


def test_a_taken_over_source_says_what_happened_on_both_sides(build_monitor, caplog):
    platform = Platform("shop", page_size=1)
    platform.add(*[item(n, prefix="s") for n in range(3)])
    monitor = build_monitor({"shop": platform})
    assert leases.claim_due(monitor.db, "w1@far/1:7", ["shop"], lease_seconds=120, limit=1) == ["shop"]
    poll = SourcePoll(monitor.db, "shop", platform, monitor.due, lease_owner="w1@far/1:7")
    assert poll.start() and poll.step()
    now = utcnow()
    with monitor.db.session() as session:                    # w1 went silent 130 s ago (lease 120 s)
        row = session.exec(select(Source).where(Source.name == "shop")).one()
        row.lease_until = now - timedelta(seconds=10)
        row.next_poll_at = now - timedelta(seconds=1)
        session.add(row)
    with caplog.at_level(logging.WARNING, logger="monitor.daemon.leases"):
        assert leases.claim_due(monitor.db, "w2", ["shop"], lease_seconds=120, limit=1, now=now) == ["shop"]
    assert "lease of shop expired: worker w1@far/1:7 last seen 130 s ago; taken over by w2" in caplog.text
    with pytest.raises(LeaseLost, match="the lease of w1@far/1:7 expired and passed to w2"):
        poll.step()                                          # w1 wakes up: it stores nothing more


def test_a_stuck_worker_stops_renewing_its_leases(build_monitor, caplog):
    monitor = build_monitor({"shop": Platform("shop")})
    assert leases.claim_due(monitor.db, "w1", ["shop"], lease_seconds=60, limit=1) == ["shop"]
    before = lease_of(monitor).lease_until
    alive = leases.Heartbeat(monitor.db, "w1", lease_seconds=120)
    alive.beat()
    assert alive.beats == 1 and lease_of(monitor).lease_until > before
    renewed = lease_of(monitor).lease_until
    stuck = leases.Heartbeat(monitor.db, "w1", lease_seconds=600, stall_seconds=0)   # no progress since
    stuck.beat()
    assert stuck.beats == 0 and lease_of(monitor).lease_until == renewed
    assert "no progress" in caplog.text and "another worker takes its sources over" in caplog.text
