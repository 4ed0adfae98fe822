"""The daemon's scheduling against in-memory platforms, on SQLite and PostgreSQL: due sources
polled and rescheduled, rate limits and revoked tokens, back-off, fairness, graceful stop."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from models import Post, Source, as_utc, utcnow
from monitor.daemon.runner import Daemon
from monitor.decisions import Actor
from monitor.queue import QueueFilter
from tests.daemon.support import Platform, WordAnalyser, item, run_until


def source(monitor, name: str) -> Source:
    with monitor.db.session() as session:
        return session.exec(select(Source).where(Source.name == name)).one()


def make_due(monitor, name: str) -> None:
    with monitor.db.session() as session:
        row = session.exec(select(Source).where(Source.name == name)).one()
        row.next_poll_at = utcnow() - timedelta(seconds=1)
        row.rate_limited_until = None
        session.add(row)


def post_count(monitor) -> int:
    with monitor.db.session() as session:
        return session.exec(select(func.count()).select_from(Post)).one()


def test_one_pass_polls_due_sources_analyses_and_schedules_the_next(build_monitor):
    a, b = Platform("a"), Platform("b")
    a.add(item(1, prefix="a"), item(2, "I am angry", prefix="a"), item(3, prefix="a"))
    b.add(item(1, prefix="b"))
    monitor = build_monitor({"a": a, "b": b}, interval=60)
    before = utcnow()
    report = Daemon(monitor).run(once=True)
    after = utcnow()
    assert report.polls == 2 and report.new_posts == 4 and report.poll_errors == 0
    with monitor.db.session() as session:
        posts = list(session.exec(select(Post)))
    assert len(posts) == 4 and all(p.analysed_hash == p.content_hash for p in posts)
    assert sum(p.flagged for p in posts) == 1
    for row in (source(monitor, "a"), source(monitor, "b")):
        assert row.lease_owner is None and row.last_error is None
        assert before + timedelta(seconds=60) <= as_utc(row.next_poll_at) <= after + timedelta(seconds=60)
    listed = {row["name"]: row for row in monitor.sources()}
    assert listed["a"]["next_poll_at"] is not None
    Daemon(monitor).run(once=True)           # nothing is due yet: nobody is asked
    assert (a.collect_calls, b.collect_calls) == (1, 1)


def test_rate_limited_source_waits_until_its_time_while_others_go_on(build_monitor):
    limited, other = Platform("limited"), Platform("other")
    until = utcnow() + timedelta(minutes=15)
    limited.rate_limited_until = until
    other.add(item(1, prefix="o"))
    monitor = build_monitor({"limited": limited, "other": other})
    daemon = Daemon(monitor)
    daemon.run(once=True)
    row = source(monitor, "limited")
    assert as_utc(row.rate_limited_until) == until and as_utc(row.next_poll_at) == until
    assert "429" in row.last_error and not row.needs_reauth
    other.add(item(2, prefix="o"))
    make_due(monitor, "other")
    with monitor.db.session() as session:   # even if its next poll time came, the platform said "not before"
        limited_row = session.exec(select(Source).where(Source.name == "limited")).one()
        limited_row.next_poll_at = utcnow() - timedelta(seconds=1)
        session.add(limited_row)
    daemon.run(once=True)
    assert limited.collect_calls == 1 and other.collect_calls == 2 and post_count(monitor) == 2
    limited.rate_limited_until = None
    limited.add(item(1, prefix="l"))
    make_due(monitor, "limited")
    daemon.run(once=True)
    assert limited.collect_calls == 2 and post_count(monitor) == 3
    assert source(monitor, "limited").rate_limited_until is None


def test_revoked_token_parks_the_source_with_a_clear_status(build_monitor):
    revoked, other = Platform("revoked"), Platform("other")
    revoked.auth_expired = True
    other.add(item(1, prefix="o"))
    monitor = build_monitor({"revoked": revoked, "other": other})
    daemon = Daemon(monitor)
    report, = run_until([daemon], lambda: daemon.report.passes >= 3)   # several passes
    row = source(monitor, "revoked")
    assert row.needs_reauth and row.next_poll_at is None
    assert "revoked" in row.last_error and "monitor poll --source revoked" in row.last_error
    assert revoked.collect_calls == 1 and post_count(monitor) == 1
    Daemon(monitor).run(once=True)       # a restart tries once with the credentials it started with
    assert revoked.collect_calls == 2 and source(monitor, "revoked").needs_reauth
    revoked.auth_expired = False         # credentials renewed
    revoked.add(item(1, prefix="r"))
    Daemon(monitor).run(once=True)
    row = source(monitor, "revoked")
    assert not row.needs_reauth and row.last_error is None and row.next_poll_at is not None
    assert post_count(monitor) == 2


def test_errors_back_off_exponentially(build_monitor):
    broken = Platform("broken")
    broken.error = "HTTP 502 from the platform"
    monitor = build_monitor({"broken": broken})
    for wait in (30, 60, 120):
        before = utcnow()
        Daemon(monitor).run(once=True)
        after = utcnow()
        assert before + timedelta(seconds=wait) <= as_utc(source(monitor, "broken").next_poll_at) \
            <= after + timedelta(seconds=wait)
        make_due(monitor, "broken")
    assert source(monitor, "broken").error_count == 3


def test_a_huge_backlog_never_starves_another_source(build_monitor):
    huge, small, late = Platform("huge", page_size=2), Platform("small"), Platform("late")
    huge.add(*[item(n, prefix="h") for n in range(100)])
    small.add(item(1, "critical: I will sue", prefix="s"))
    events: list[str] = []
    seen_small_assessed: list[bool] = []
    monitor = build_monitor({"huge": huge, "small": small, "late": late})
    with monitor.db.session() as session:           # "late" was polled a moment ago: not due yet
        row = session.exec(select(Source).where(Source.name == "late")).one()
        row.next_poll_at = utcnow() + timedelta(hours=1)
        session.add(row)

    def on_huge_page(k: int) -> None:
        events.append(f"huge{k}")
        if k == 1:
            with monitor.db.session() as session:
                post = session.exec(select(Post).where(Post.external_id == "s1")).first()
                seen_small_assessed.append(post is not None and post.analysed_hash == post.content_hash)
        if k == 10:                                   # while the backlog is being read, "late" falls due
            late.add(item(1, prefix="l"))
            make_due(monitor, "late")

    huge.on_page = on_huge_page
    huge.page_delay = 0.01                            # a slow platform as well as a big one
    small.on_page = lambda k: events.append(f"small{k}")
    late.on_page = lambda k: events.append(f"late{k}")
    report = Daemon(monitor).run(once=True)
    assert events.index("small0") <= 1                   # after at most one page of the backlog
    assert seen_small_assessed == [True]                 # analysed (and alerted) before the backlog's 2nd page
    assert events.index("late0") < events.index("huge35")  # joined the rounds, did not wait for the backlog
    assert post_count(monitor) == 102 and huge.pages_served == 50 and report.polls == 3
    assert source(monitor, "huge").bookmark == "100"


def test_stop_keeps_the_page_in_hand_and_nothing_after_it(build_monitor):
    platform = Platform("big", page_size=2)
    platform.add(*[item(n) for n in range(20)])
    monitor = build_monitor({"big": platform})
    daemon = Daemon(monitor)
    platform.on_page = lambda k: daemon.stop("test") if k == 3 else None
    report = daemon.run()
    assert report.stopped_by == "test"
    row = source(monitor, "big")
    assert row.bookmark == "8" and post_count(monitor) == 8      # page 3 was stored with its bookmark
    assert row.lease_owner is None and row.last_error is None
    platform.on_page = None
    make_due(monitor, "big")
    Daemon(monitor).run(once=True)
    assert post_count(monitor) == 20 and source(monitor, "big").bookmark == "20"


def test_daemon_posts_approved_replies_and_respects_reply_rate_limits(build_monitor):
    a, b = Platform("a"), Platform("b")
    a.add(item(1, prefix="a"), item(2, prefix="a"))
    b.add(item(1, prefix="b"), item(2, prefix="b"))
    monitor = build_monitor({"a": a, "b": b})
    Daemon(monitor).run(once=True)
    with monitor.db.session() as session:
        ids = {p.external_id: p.id for p in session.exec(select(Post))}

    def approve(external_id: str) -> None:
        monitor.approve(ids[external_id], Actor("anna"), draft_id=monitor.show(ids[external_id]).draft["id"])

    for external_id in ("a1", "a2", "b1"):
        approve(external_id)
    a.reply_rate_limited_until = utcnow() + timedelta(minutes=10)
    later: list[str] = []

    def second_turn_done() -> bool:                    # b2 is approved after the first turn: a later one sends it
        if "b1" in b.replies and not later:
            later.append("b2")
            approve("b2")
        return "b2" in b.replies

    daemon = Daemon(monitor)
    report, = run_until([daemon], second_turn_done)
    assert sorted(b.replies) == ["b1", "b2"] and a.replies == {}
    assert a.reply_attempts == 1                       # asked once; then its replies wait, turn after turn
    assert report.sent == 2
    waiting = monitor.queue(QueueFilter(status="approved"))
    assert [q.outbox_error for q in waiting if q.platform == "memory" and "429" in (q.outbox_error or "")]
    a.reply_rate_limited_until = None
    Daemon(monitor).run(once=True)
    assert sorted(a.replies) == ["a1", "a2"] and all(len(v) == 1 for v in a.replies.values())


def test_a_failing_step_is_logged_and_the_daemon_goes_on(build_monitor, caplog):
    class BrokenAnalyser:
        version = "broken"

        def assess(self, posts):
            raise RuntimeError("model file is corrupt")

    a = Platform("a")
    a.add(item(1, prefix="a"))
    monitor = build_monitor({"a": a})
    monitor.__dict__["analyser"] = BrokenAnalyser()
    report = Daemon(monitor).run(once=True)
    assert report.new_posts == 1 and report.problems >= 1
    assert "analysis and drafting failed" in caplog.text
    with monitor.db.session() as session:             # stored, waiting to be analysed next time
        post = session.exec(select(Post)).one()
    assert post.analysed_hash != post.content_hash
    monitor.__dict__["analyser"] = WordAnalyser()
    Daemon(monitor).run(once=True)
    with monitor.db.session() as session:
        post = session.exec(select(Post)).one()
    assert post.analysed_hash == post.content_hash


def test_once_polls_every_due_source_even_beyond_sources_per_pass(build_monitor):
    platforms = {f"s{i}": Platform(f"s{i}") for i in range(5)}
    for name, platform in platforms.items():
        platform.add(item(1, prefix=name))
    monitor = build_monitor(platforms, extra="sources_per_pass = 2\n")
    report = Daemon(monitor).run(once=True)
    assert report.polls == 5 and post_count(monitor) == 5
    assert all(p.collect_calls == 1 for p in platforms.values())
