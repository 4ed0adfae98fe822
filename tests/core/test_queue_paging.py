"""The queue read from the database a page at a time: walking it with `after` gives exactly the
urgency order (severity, raised when overdue; then waiting time), for every filter, on SQLite and
PostgreSQL; counts come from SQL; `show` pages the thread."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from models import Post
from monitor.db import Database
from monitor.queue import OVERDUE_BOOST, QueueFilter, count_queue, list_queue, show_post, urgency

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    database.migrate()
    rng = random.Random(5)
    with database.session() as session:
        for n in range(60):   # a third in thread t1 (the thread is per platform)
            created = NOW - timedelta(minutes=rng.choice([5, 30, 90, 300, 300, 2000]))
            due = rng.choice([created + timedelta(minutes=60), created + timedelta(minutes=600), None])
            session.add(Post(platform=rng.choice(["x", "reddit"]), external_id=f"e{n}", created_at=created,
                             due_at=due, language=rng.choice(["pl", "en"]),
                             severity=rng.choice([0.0, 0.1, 0.3, 0.5, 0.7, 0.8, 1.0]),  # ties across the boost too
                             flagged=rng.random() < 0.3, thread_id="t1" if n % 3 == 0 else None,
                             status=rng.choice(["open", "open", "open", "approved", "rejected"])))
    yield database
    database.dispose()


def expected(db, filters: QueueFilter) -> list[int]:
    with db.session() as session:
        posts = [p for p in session.exec(select(Post)).all()
                 if (filters.status is None or p.status == filters.status)
                 and (filters.platform is None or p.platform == filters.platform)
                 and (filters.language is None or p.language == filters.language)
                 and (not filters.flagged_only or p.flagged)]
    posts.sort(key=lambda p: (-urgency(p, NOW), p.created_at.replace(tzinfo=UTC) if p.created_at.tzinfo is None
                              else p.created_at, p.id))
    return [p.id for p in posts]


def walk(db, filters: QueueFilter) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        with db.session() as session:
            page = list_queue(session, QueueFilter(**{**filters.__dict__, "limit": 7, "after": after}), NOW)
        if not page:
            return seen
        seen += [item.id for item in page]
        after = page[-1].id
        assert len(seen) <= 60, "paging does not end"


@pytest.mark.parametrize("filters", [QueueFilter(), QueueFilter(status=None), QueueFilter(status="approved"),
                                     QueueFilter(platform="reddit"), QueueFilter(language="pl", flagged_only=True),
                                     QueueFilter(status=None, platform="x")], ids=repr)
def test_pages_walk_the_whole_queue_in_urgency_order(db, filters):
    order = expected(db, filters)
    assert walk(db, filters) == order
    with db.session() as session:
        assert count_queue(session, filters) == len(order)


def test_the_boost_lifts_overdue_open_posts(db):
    with db.session() as session:
        [top] = list_queue(session, QueueFilter(limit=1), NOW)
    assert top.overdue or top.severity == 1.0
    assert OVERDUE_BOOST == 0.2


def test_next_after_a_post_decided_meanwhile_is_the_one_that_followed_it(db):
    order = expected(db, QueueFilter())
    middle = order[len(order) // 2]
    with db.session() as session:
        post = session.get(Post, middle)
        post.status = "approved"
        session.add(post)
    with db.session() as session:
        [following] = list_queue(session, QueueFilter(after=middle, limit=1), NOW)
    assert following.id == order[len(order) // 2 + 1]


def test_show_pages_the_thread(db):
    with db.session() as session:
        thread = list(session.exec(select(Post.id).where(Post.thread_id == "t1", Post.platform == "x")
                                   .order_by(col(Post.created_at), col(Post.id))))
        first = show_post(session, thread[0], thread_limit=3)
        rest = show_post(session, thread[0], thread_limit=100, thread_after=first.thread[-1]["id"])
    others = [pid for pid in thread if pid != thread[0]]
    assert [p["id"] for p in first.thread + rest.thread] == others
