"""GDPR on SQLite and PostgreSQL: `forget` erases one person's texts everywhere while the audit
trail keeps who decided what and when; an erased post is never collected again as new; retention
erases what is older; both are audited; a reply in flight is never touched."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from models import AuditEvent, Decision, Draft, DraftEdit, FlagLabel, OutboxReply, Post, Source, utcnow
from monitor.decisions import Actor
from monitor.errors import Conflict, NotFound
from monitor.queue import QueueFilter
from tests.core.support import item

ADMIN = Actor("dpo")


def rows(monitor, model, *where):
    with monitor.db.session() as session:
        return list(session.exec(select(model).where(*where).order_by(model.id)))


def seed(monitor, platform):
    """user1 (angry, answered and sent), user2 (a draft approved, not sent yet), user3 (someone else)."""
    again = dataclasses.replace(item(2, "angry again, where is it?"), author_handle="User1")   # same person, other case
    platform.items = [item(1, "I am angry, Jan Kowalski, order 12345 lost"), again, item(3, "nice shop")]
    monitor.poll()
    monitor.process()
    [p1, p2, p3] = sorted(rows(monitor, Post), key=lambda p: p.external_id)
    monitor.approve(p1.id, Actor("anna"), text="Sorry Jan, we are on it.")
    monitor.post_approved()
    monitor.reject(p2.id, Actor("anna"), reason="Jan asked twice; answer the first")
    return p1, p2, p3


def test_forget_erases_texts_keeps_the_shape_and_dedup(monitor, platform):
    p1, p2, p3 = seed(monitor, platform)
    monitor.label(p1.id, "missed", Actor("anna"), note="Jan Kowalski is furious")
    assert "Jan" in str([(e.final_text, e.added) for e in rows(monitor, DraftEdit)])   # the edit was kept
    before = [(e.actor, e.action, e.post_id, e.at) for e in rows(monitor, AuditEvent)]
    report = monitor.forget("memory", "@user1", ADMIN)
    edits = rows(monitor, DraftEdit, DraftEdit.post_id.in_([p1.id, p2.id]))   # approvers' edits learn nothing of him
    assert edits and "Jan" not in str([(e.draft_text, e.final_text, e.diff, e.removed, e.added) for e in edits])
    assert "Jan" not in str([label.note for label in rows(monitor, FlagLabel)])
    assert sorted(report.posts) == sorted([p1.id, p2.id])
    erased = {p.id: p for p in rows(monitor, Post, Post.id.in_([p1.id, p2.id]))}
    for post in erased.values():
        assert (post.text, post.author_handle, post.status) == ("", "[erased]", "erased")
        assert post.erased_at is not None and post.external_id in ("p1", "p2")      # platform id kept
    assert all(d.text == "[erased]" for d in rows(monitor, Draft, Draft.post_id.in_([p1.id, p2.id])))
    decisions = rows(monitor, Decision, Decision.post_id.in_([p1.id, p2.id]))
    assert {(d.actor, d.action) for d in decisions} == {("anna", "approve"), ("anna", "reject")}
    assert all("Jan" not in (d.final_text or "") + (d.reason or "") for d in decisions)
    [reply] = rows(monitor, OutboxReply)
    assert reply.state == "sent" and reply.text == "[erased]" and reply.external_reply_id   # what happened stays
    events = rows(monitor, AuditEvent)
    assert [(e.actor, e.action, e.post_id, e.at) for e in events][:len(before)] == before  # the trail's shape
    assert "Jan" not in str([e.details for e in events]) and "12345" not in str([e.details for e in events])
    [forget] = [e for e in events if e.action == "privacy.forget"]
    assert forget.actor == "dpo" and sorted(forget.details["posts"]) == sorted(report.posts)
    assert "user1" not in str(forget.details).lower()
    untouched = rows(monitor, Post, Post.id == p3.id)[0]
    assert untouched.text == "nice shop" and untouched.author_handle == "user3"
    assert [q.id for q in monitor.queue(QueueFilter(status=None))] == [p3.id]       # out of every queue
    with monitor.db.session() as session:                   # the platform lost our resume point
        for source in session.exec(select(Source)):
            source.bookmark = None
            session.add(source)
    [result] = monitor.poll()
    assert result.new == 0 and len(rows(monitor, Post)) == 3
    assert rows(monitor, Post, Post.id == p1.id)[0].text == ""                        # not restored either
    with pytest.raises(NotFound):
        monitor.forget("memory", "user1", ADMIN)                                      # nothing left


def test_forget_withdraws_an_unsent_reply_and_refuses_one_in_flight(monitor, platform):
    platform.items = [item(1, "angry"), item(2, "angry too")]
    monitor.poll()
    monitor.process()
    p1, p2 = sorted(rows(monitor, Post), key=lambda p: p.external_id)
    monitor.approve(p1.id, Actor("anna"), text="We are sorry.")
    report = monitor.forget("memory", "user1", ADMIN)
    [reply] = rows(monitor, OutboxReply)
    assert report.withdrawn == [reply.id] and reply.state == "cancelled"
    assert monitor.post_approved().sent == [] and platform.replies == {}              # never posted
    monitor.approve(p2.id, Actor("anna"), text="We are sorry too.")
    with monitor.db.session() as session:
        row = session.exec(select(OutboxReply).where(OutboxReply.post_id == p2.id)).one()
        row.state = "uncertain"
        session.add(row)
    with pytest.raises(Conflict):
        monitor.forget("memory", "user2", ADMIN)
    assert rows(monitor, Post, Post.id == p2.id)[0].text == "angry too"


def test_forget_needs_an_admin(monitor, platform):
    from models import Role
    from monitor.errors import Forbidden
    seed(monitor, platform)
    with pytest.raises(Forbidden):
        monitor.forget("memory", "user1", Actor("anna", Role.approver))


def test_retention_erases_what_is_older_and_is_audited(make_settings, platform):
    from monitor.service import Monitor
    from tests.core.conftest import SETTINGS
    from tests.core.support import BACKENDS
    monitor = Monitor(make_settings(SETTINGS + "\n[retention]\ndays = 30\n"), environ={}, **BACKENDS)
    monitor.init()
    monitor.use_connector("mem", platform)
    try:
        platform.items = [dataclasses.replace(item(1, "old complaint"), created_at=utcnow() - timedelta(days=45)),
                          dataclasses.replace(item(2, "fresh complaint"), created_at=utcnow() - timedelta(days=2))]
        monitor.poll()
        monitor.process()
        report = monitor.apply_retention()
        old = rows(monitor, Post, Post.external_id == "p1")[0]
        fresh = rows(monitor, Post, Post.external_id == "p2")[0]
        assert report.posts == [old.id] and old.text == "" and fresh.text == "fresh complaint"
        [event] = rows(monitor, AuditEvent, AuditEvent.action == "privacy.retention")
        assert event.actor == "retention" and event.details["posts"] == [old.id] and event.details["days"] == 30
        assert monitor.apply_retention().posts == []                                   # nothing twice
    finally:
        monitor.close()
