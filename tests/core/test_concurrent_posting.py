"""Several `monitor post` runs at once (separate service objects, separate connections) post each
approved reply exactly once, on SQLite and on PostgreSQL."""
from __future__ import annotations

import threading

from sqlmodel import select

from models import OutboxReply, Post
from monitor.decisions import Actor
from monitor.service import Monitor
from tests.core.conftest import SETTINGS
from tests.core.support import BACKENDS, item


def test_concurrent_post_runs_send_each_reply_once(make_settings, monitor, platform):
    platform.items = [item(n) for n in range(1, 9)]
    monitor.poll()
    monitor.process()
    with monitor.db.session() as session:
        ids = [p.id for p in session.exec(select(Post))]
    for post_id in ids:
        monitor.approve(post_id, Actor("anna"), draft_id=monitor.show(post_id).draft["id"])
    platform.reply_delay = 0.02          # widen the window in which two workers could collide
    workers = []
    for _ in range(4):
        worker = Monitor(make_settings(SETTINGS), environ={}, **BACKENDS)
        worker.use_connector("mem", platform)
        workers.append(worker)
    barrier = threading.Barrier(len(workers))
    reports = []

    def run(worker: Monitor) -> None:
        barrier.wait()
        reports.append(worker.post_approved())

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for worker in workers:
        worker.close()
    assert sum(len(r.sent) for r in reports) == len(ids)
    assert sorted(platform.replies) == sorted(f"p{n}" for n in range(1, 9))
    assert all(len(texts) == 1 for texts in platform.replies.values())
    with monitor.db.session() as session:
        assert {row.state for row in session.exec(select(OutboxReply))} == {"sent"}
