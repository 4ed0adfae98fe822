"""The pipeline end to end on SQLite and PostgreSQL: collect -> store -> assess -> draft -> queue
-> decide -> post -> audit, with deduplication, bookmarks and the approval gate."""
from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from models import AuditEvent, OutboxReply, Post, Source
from monitor.decisions import Actor
from monitor.errors import Conflict, NeedsOverride, NotFound
from monitor.queue import QueueFilter
from models import Role
from tests.core.support import item

ME = Actor("anna")


def posts(monitor) -> list[Post]:
    with monitor.db.session() as session:
        return list(session.exec(select(Post)))


def test_collect_store_assess_draft_queue(monitor, platform):
    platform.items = [item(1, "I am angry, parcel lost"), item(2, "nice shop"), item(3, "where is my order?")]
    [result] = monitor.poll()
    assert (result.new, result.error, result.pages) == (3, None, 2)
    report = monitor.process()
    assert (report.assessed, report.drafted, report.flagged) == (3, 3, 1)
    queue = monitor.queue(QueueFilter())
    assert [q.text for q in queue][0] == "I am angry, parcel lost"      # most severe first
    assert {q.strategy for q in queue} == {"holding"}
    assert monitor.queue(QueueFilter(flagged_only=True))[0].summary == "says it is angry"


def test_recollecting_updates_never_duplicates(monitor, platform):
    platform.items = [item(1, "first text")]
    monitor.poll()
    monitor.process()
    with monitor.db.session() as session:   # forget the bookmark: the platform sends it again
        session.exec(select(Source)).one().bookmark = None
    platform.items = [item(1, "edited: I am angry now")]
    [result] = monitor.poll()
    assert (result.new, result.updated) == (0, 1)
    assert [p.text for p in posts(monitor)] == ["edited: I am angry now"]
    assert monitor.process().assessed == 1      # the edit is assessed again
    assert posts(monitor)[0].flagged


def test_bookmark_moves_only_after_everything_is_stored(monitor, platform):
    platform.items = [item(n) for n in range(1, 6)]       # 3 pages newest-first
    platform.fail_after_pages = 1
    [result] = monitor.poll()
    assert result.error == "pagination broke off" and result.new == 2
    with monitor.db.session() as session:
        source = session.exec(select(Source)).one()
        assert source.bookmark is None and source.error_count == 1 and "broke off" in source.last_error
    platform.fail_after_pages = None
    [result] = monitor.poll()
    assert (result.new, result.updated, result.error) == (3, 0, None)
    assert sorted(p.external_id for p in posts(monitor)) == [f"p{n}" for n in range(1, 6)]
    assert monitor.poll()[0].new == 0                      # bookmark now covers everything


def test_nothing_is_posted_without_approval(monitor, platform):
    platform.items = [item(1, "I am angry")]
    monitor.poll()
    monitor.process()
    report = monitor.post_approved()
    assert report.sent == [] and platform.replies == {}


def test_approved_text_is_posted_exactly_and_once(monitor, platform):
    platform.items = [item(1, "I am angry"), item(2, "hello")]
    monitor.poll()
    monitor.process()
    ids = {p.external_id: p.id for p in posts(monitor)}
    first, second = ids["p1"], ids["p2"]
    monitor.approve(first, ME, draft_id=monitor.show(first).draft["id"])
    edited = "Przepraszamy! 😔 Sprawdzamy to\u200b dziś."
    monitor.approve(second, ME, text=edited)
    with pytest.raises(Conflict):
        monitor.approve(first, ME, draft_id=monitor.show(first).draft["id"])                       # approving twice creates nothing
    assert len(monitor.post_approved().sent) == 2
    assert monitor.post_approved().sent == []            # a second run posts nothing
    drafted = monitor.show(first).draft["text"]
    assert platform.replies == {"p1": [drafted], "p2": [edited]}     # exactly as approved, never "cleaned"
    detail = monitor.show(second)
    assert detail.post["status"] == "posted" and detail.outbox["external_reply_id"] == "r-p2-1"
    actions = [e["action"] for e in detail.events]
    assert actions == ["decision.approve", "outbox.sent"]


def test_findings_need_an_override_with_a_reason(monitor, platform):
    platform.items = [item(1)]
    monitor.poll()
    monitor.process()
    [post] = posts(monitor)
    with pytest.raises(NeedsOverride) as caught:
        monitor.approve(post.id, ME, text="see https://elsewhere.example")
    assert caught.value.findings[0]["code"] == "link"
    with pytest.raises(Conflict, match="cannot be overridden"):
        monitor.approve(post.id, ME, text="x" * 300, override_reason="I know")   # the platform would refuse it
    with pytest.raises(Conflict, match="at most 10000"):
        monitor.approve(post.id, ME, text="y" * 10_001, override_reason="long")  # never cut silently
    decision = monitor.approve(post.id, ME, text="see https://elsewhere.example", override_reason="our blog")
    assert decision.override_reason == "our blog"
    with monitor.db.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "decision.approve")).one()
    assert event.details["override_reason"] == "our blog" and event.details["findings"] == ["link"]


def test_reject_escalate_roles_and_unknown_ids(monitor, platform):
    platform.items = [item(1), item(2), item(3)]
    monitor.poll()
    monitor.process()
    a, b, c = sorted(p.id for p in posts(monitor))
    with pytest.raises(Conflict):
        monitor.reject(a, ME, "  ")
    monitor.reject(a, ME, "spam")
    monitor.escalate(b, Actor("bob", Role.agent), "legal")
    from monitor.errors import Forbidden
    with pytest.raises(Forbidden):
        monitor.approve(c, Actor("bob", Role.agent), draft_id=monitor.show(c).draft["id"])
    with pytest.raises(NotFound):
        monitor.show(999)
    statuses = {p.id: p.status for p in posts(monitor)}
    assert statuses == {a: "rejected", b: "escalated", c: "open"}
    assert monitor.post_approved().sent == []


def test_a_failed_reply_is_settled_by_a_person(monitor, platform):
    from connectors.base import PostRejected
    platform.items = [item(1)]
    monitor.poll()
    monitor.process()
    [post] = posts(monitor)
    monitor.approve(post.id, ME, text="first try")
    platform.reply_raises = PostRejected("duplicate content")
    platform.replies.clear()
    report = monitor.post_approved()
    [outbox_id] = report.failed
    platform.reply_raises = None
    with pytest.raises(Conflict):
        monitor.approve(post.id, ME, text="second try")               # still approved, not open
    monitor.cancel_reply(outbox_id, ME, "wording refused by the platform")
    monitor.approve(post.id, ME, text="second try")                  # open again, same outbox row
    platform.replies.clear()
    assert monitor.post_approved().sent == [outbox_id]
    assert platform.replies == {"p1": ["second try"]}
    assert [r["state"] for r in monitor.outbox()] == ["sent"]


def test_uncertain_post_is_reconciled_not_resent(monitor, platform):
    from connectors.base import ConnectorError
    platform.items = [item(1)]
    monitor.poll()
    monitor.process()
    [post] = posts(monitor)
    monitor.approve(post.id, ME, draft_id=monitor.show(post.id).draft["id"])
    platform.reply_raises = ConnectorError("read timed out")     # it reached the platform
    assert len(monitor.post_approved().uncertain) == 1
    platform.reply_raises = None
    report = monitor.post_approved()
    assert len(report.reconciled) == 1 and report.sent == []
    assert len(platform.replies["p1"]) == 1


def test_uncertain_post_left_for_a_person_when_platform_cannot_tell(monitor, platform):
    from connectors.base import ConnectorError
    platform.items = [item(1)]
    monitor.poll()
    monitor.process()
    [post] = posts(monitor)
    monitor.approve(post.id, ME, draft_id=monitor.show(post.id).draft["id"])
    platform.reply_raises = ConnectorError("connection reset")
    monitor.post_approved()
    platform.reply_raises, platform.find_raises = None, ConnectorError("lookup failed")
    assert len(monitor.post_approved().needs_person) == 1
    assert monitor.post_approved().sent == []                   # never retried by itself
    assert len(platform.replies["p1"]) == 1
    with monitor.db.session() as session:
        assert session.exec(select(OutboxReply)).one().state == "needs_person"


def test_worker_that_died_mid_post_is_reconciled(monitor, platform, caplog):
    import logging
    from datetime import timedelta
    from models import utcnow
    caplog.set_level(logging.INFO)
    platform.items = [item(1)]
    monitor.poll()
    monitor.process()
    [post] = posts(monitor)
    monitor.approve(post.id, ME, draft_id=monitor.show(post.id).draft["id"])
    with monitor.db.session() as session:   # as a worker leaves it when killed after claiming
        row = session.exec(select(OutboxReply)).one()
        row.state, row.worker, row.sending_since = "sending", "dead:1", utcnow() - timedelta(hours=1)
    report = monitor.post_approved()         # platform has no reply: confirmed, then sent once
    assert report.sent == [row.id] and platform.replies == {"p1": [row.text]}
    said = [r.getMessage() for r in caplog.records if r.name == "monitor.outbox"]
    assert said[0] == (f"reply {row.id} to post {post.id} (mem, memory): uncertain: dead:1 stopped while posting it; "
                       "the platform is checked before anything else")
    assert said[-1].startswith(f"reply {row.id} to post {post.id} (mem, memory): sent as ")
