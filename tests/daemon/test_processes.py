"""Daemons as separate processes against the fake platforms: killed with SIGKILL at random points
while polling and posting, then restarted, nothing is lost, nothing stored twice, no reply sent
twice; SIGTERM stops one cleanly."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from models import OutboxReply, Post, Source, utcnow
from monitor.daemon.runner import Daemon
from monitor.decisions import Actor
from monitor.fakes import FakePlatforms
from monitor.service import Monitor
from monitor.settings import load_settings
from tests.daemon.fakes_support import add_posts, fake_sources_toml
from tests.daemon.support import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ("x", "facebook", "instagram", "reddit", "google_reviews")
DAEMON = """
[app]
user = "tester"
timezone = "UTC"

[daemon]
jitter_seconds = 0
idle_seconds = 0.05
post_interval_seconds = 1
lease_seconds = 5
"""


@pytest.fixture
def fake():
    # 5 a page: several pages a poll (places to be killed at), while a stream's whole listing,
    # the brand's own replies included, stays within the connectors' default page bound.
    with FakePlatforms.start(page_size=5) as platforms:
        yield platforms


@pytest.fixture
def setup(fake, tmp_path, database_url):
    sources, secrets = fake_sources_toml(fake)
    path = tmp_path / "daemon.toml"
    path.write_text(DAEMON + sources, encoding="utf-8")
    env = {**os.environ, **secrets, "MONITOR_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    monitor = Monitor(load_settings(path, environ=env), environ=env, **BACKENDS)
    monitor.init()
    yield monitor, path, env
    monitor.close()


def start(path: Path, env: dict, *args: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "tests.daemon.daemon_process", str(path), *args], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()            # blocks until the daemon is set up (or died)
    assert line.strip() == "ready", process.stderr.read()
    return process


def make_all_due(monitor) -> None:
    with monitor.db.session() as session:
        for row in session.exec(select(Source)):
            row.next_poll_at = utcnow() - timedelta(seconds=1)
            session.add(row)


def approve_everything_open(monitor) -> int:
    with monitor.db.session() as session:
        waiting = [p.id for p in session.exec(select(Post).where(Post.status == "open"))]
    for post_id in waiting:
        monitor.approve(post_id, Actor("anna"), text=f"We are sorry, we are checking it (#{post_id}).")
    return len(waiting)


def test_sigkill_at_random_points_loses_nothing_and_sends_nothing_twice(fake, setup):
    monitor, path, env = setup
    rng = random.Random(int(os.environ.get("KILL_SEED", "0")) or None)
    expected: set[tuple[str, str]] = set()
    kills = 0
    for round_number in range(6):
        for platform in PLATFORMS:
            expected |= {(platform, i) for i in add_posts(fake, platform, 3, f"r{round_number}x")}
        approve_everything_open(monitor)         # replies to send while the next daemon polls
        make_all_due(monitor)
        process = start(path, env)
        time.sleep(rng.uniform(0.0, 0.9))
        process.kill()                           # SIGKILL: no clean-up of any kind
        process.wait(10)
        kills += process.returncode == -signal.SIGKILL
    assert kills >= 5                            # they really died mid-run, not finished by themselves
    for _ in range(40):                          # restart until everything is in and answered
        approve_everything_open(monitor)
        make_all_due(monitor)
        Daemon(monitor).run(once=True)
        with monitor.db.session() as session:
            stored = list(session.exec(select(Post)))
            states = [row.state for row in session.exec(select(OutboxReply))]
        if len(stored) == len(expected) and all(s in ("sent", "needs_person") for s in states) \
                and all(p.status != "open" for p in stored):
            break
    with monitor.db.session() as session:
        health = {row.name: (row.last_error, row.rate_limited_until, row.needs_reauth, row.bookmark) for row in session.exec(select(Source))}
    assert Counter((p.platform, p.external_id) for p in stored) == Counter(expected), health   # none lost, none twice
    with monitor.db.session() as session:
        outbox = {row.post_id: row for row in session.exec(select(OutboxReply))}
    by_post = {(p.platform, p.external_id): p for p in stored}
    replies = Counter((r["platform"], r["in_reply_to"]) for r in fake.replies())
    assert max(replies.values()) == 1                                                  # no reply sent twice
    for key, post in by_post.items():
        row = outbox[post.id]
        if row.state == "sent":
            assert replies[key] == 1, (key, row)
        else:                                    # the platform could not tell: a person decides, nothing resent
            assert row.state == "needs_person" and replies[key] <= 1
    assert sum(1 for row in outbox.values() if row.state == "sent") >= len(expected) - 2


def test_sigterm_stops_cleanly_between_units_of_work(fake, setup):
    monitor, path, env = setup
    for platform in PLATFORMS:
        add_posts(fake, platform, 8, "t")
    process = start(path, env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:           # wait until it is in the middle of polling
        with monitor.db.session() as session:
            if session.exec(select(Post)).first() is not None:
                break
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["stopped_by"] == "SIGTERM"
    with monitor.db.session() as session:
        assert all(row.lease_owner is None for row in session.exec(select(Source)))
        assert session.exec(select(OutboxReply).where(OutboxReply.state == "sending")).first() is None
    make_all_due(monitor)
    Daemon(monitor).run(once=True)               # a restart picks up exactly where it stopped
    with monitor.db.session() as session:
        stored = Counter((p.platform, p.external_id) for p in session.exec(select(Post)))
    assert len(stored) == 40 and max(stored.values()) == 1
